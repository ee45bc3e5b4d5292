// The command lines of the commands that look at a run (replay, info,
// export, plot, watch) and of the demo: their flags and actions.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "demo.hpp"
#include "history_commands.hpp"
#include "history_input.hpp"
#include "plot.hpp"
#include "subcommand.hpp"
#include "watch/watch_command.hpp"

namespace taskmaster::cli {

watch::LiveOptions live_options(const std::string& bind, const std::string& port, bool given,
                                const char* flag) {
  watch::LiveOptions o;
  o.bind = bind;
  if (given && !port.empty()) {
    o.port = static_cast<int>(parse_count(flag, port, 0, 65535));
    o.port_given = true;
  }
  return o;
}

Subcommand add_replay_command(CLI::App& app) {
  auto history = std::make_shared<std::string>();
  auto* replay = app.add_subcommand(
      "replay", "Replay a history through a fresh learner: exit 0 if identical, 1 if not.");
  replay->footer("\nExample:\n  taskmaster replay taskmaster-run.jsonl");
  replay->add_option("HISTORY", *history, "History file")->required();
  return {replay, [history](std::vector<std::string>) { return replay_command(*history); }};
}

Subcommand add_info_command(CLI::App& app) {
  auto history = std::make_shared<std::string>();
  auto* info = app.add_subcommand("info", "Summarise a run: points, failures, loss, workers.");
  info->footer("\nExample:\n  taskmaster info taskmaster-run.jsonl");
  info->add_option("HISTORY", *history, "History file")->required();
  return {info, [history](std::vector<std::string>) { return info_command(*history); }};
}

Subcommand add_export_command(CLI::App& app) {
  struct State {
    std::string history, output;
  };
  auto state = std::make_shared<State>();
  auto* export_ = app.add_subcommand("export", "Write the evaluated points as CSV.");
  export_->footer("\nExample:\n  taskmaster export taskmaster-run.jsonl -o points.csv");
  export_->add_option("HISTORY", state->history, "History file")->required();
  export_->add_option("-o,--output", state->output, "CSV file (default: standard output)");
  return {export_, [state](std::vector<std::string>) {
            return export_command(state->history,
                                  state->output.empty()
                                      ? std::nullopt
                                      : std::optional<std::filesystem::path>(state->output));
          }};
}

Subcommand add_plot_command(CLI::App& app) {
  struct State {
    std::string history, output;
    PlotSize size;
  };
  auto state = std::make_shared<State>();
  auto* plot = app.add_subcommand("plot", "Draw the learned function into a PNG or SVG file.");
  plot->footer("\nExample:\n  taskmaster plot taskmaster-run.jsonl -o run.png");
  plot->add_option("HISTORY", state->history, "History file")->required();
  plot->add_option("-o,--output", state->output, "FILE.png or FILE.svg")->required();
  plot->add_option("--width", state->size.width, "Width in pixels (points for SVG)")
      ->capture_default_str();
  plot->add_option("--height", state->size.height, "Height in pixels (points for SVG)")
      ->capture_default_str();
  return {plot, [state](std::vector<std::string>) {
            const State& s = *state;
            check_plot_name(s.output, "--output");
            if (s.size.width < 100 || s.size.height < 100 || s.size.width > 20000 ||
                s.size.height > 20000) {
              throw UsageError(fmt::format("--width/--height: need 100 to 20000, got {}x{}",
                                           s.size.width, s.size.height));
            }
            plot_history(HistoryInput::read(s.history), s.output, s.size);
            fmt::print(stderr, "taskmaster: plot in {}\n", s.output);
            return 0;
          }};
}

Subcommand add_demo_command(CLI::App& app) {
  struct State {
    DemoOptions options;
    std::string workers = default_workers();
  };
  auto state = std::make_shared<State>();
  DemoOptions& o = state->options;
  auto* demo = app.add_subcommand(
      "demo", "Sample a bundled example function with all cores, plot it, replay it.");
  demo->footer("\nExample:\n  taskmaster demo --history demo.jsonl --plot demo.png");
  demo->add_option("--history", o.history, "History file")->capture_default_str();
  demo->add_option("--plot", o.plot, "Plot file (.png or .svg)")->capture_default_str();
  demo->add_option("-j,--workers", state->workers, "Workers")->capture_default_str();
  demo->add_option("--goal", o.goals, "Goal(s) instead of the built-in one")
      ->allow_extra_args(false);
  demo->add_flag("-q,--quiet", o.quiet, "No progress");
  return {demo, [state](std::vector<std::string>) {
            check_plot_name(state->options.plot, "--plot");
            DemoOptions options = state->options;
            options.workers = workers_from(state->workers);
            return demo_command(options);
          }};
}

Subcommand add_watch_command(CLI::App& app) {
  struct State {
    std::string history, port, bind = "127.0.0.1";
  };
  auto state = std::make_shared<State>();
  auto* watch = app.add_subcommand(
      "watch", "Serve a live view of a run (going on or finished) in the browser.");
  watch->footer(
      "\nExample:\n  taskmaster watch taskmaster-run.jsonl --port 8000\nThe address is printed; "
      "Ctrl-C stops the server. See docs/live-view.md.");
  watch->add_option("HISTORY", state->history, "History file (it may not exist yet)")->required();
  watch->add_option("--port", state->port, "Port (default 8765, or any free one if taken; 0: any)");
  watch
      ->add_option("--bind", state->bind,
                   "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every "
                   "network)")
      ->capture_default_str();
  return {watch, [state, watch](std::vector<std::string>) {
            return watch::watch_command(
                state->history,
                live_options(state->bind, state->port, watch->count("--port") > 0, "--port"));
          }};
}

}  // namespace taskmaster::cli
