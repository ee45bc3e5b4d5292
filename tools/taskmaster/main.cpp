// taskmaster: sample any program adaptively, watch it, plot it, resume and
// replay it. Each command lives in its own file; this one reads the command
// line and turns errors into exit statuses (2: usage, 1: run failure).

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "demo.hpp"
#include "history_commands.hpp"
#include "plot.hpp"
#include "run.hpp"
#include "simulate.hpp"
#include "watch/watch_command.hpp"

namespace {

using namespace taskmaster::cli;

constexpr const char* run_example = R"(
Usage: taskmaster run [OPTIONS] (-- PROGRAM ARGS... | --worker 'PROGRAM ARGS')
Examples:
  taskmaster run --bounds -1,1 --goal npoints=200 -- ./simulate --x {x}
  taskmaster run --learner 2d --bounds 0,1 --bounds 0,2 --goal loss=0.01 \
      --worker 'python3 model.py' --plot model.png
  taskmaster run --learner sequence --points inputs.txt -- ./simulate {x0} {x1}
  taskmaster run --learner integrator --bounds 0,1 --learner-param tol=1e-8 -- ./f {x}
  taskmaster run --learner average1d --bounds -1,1 --goal npoints=20000 -- ./noisy {x0} {x1}
  mpirun -n 9 taskmaster run --master mpi --bounds 0,1 --worker 'python3 model.py'
  taskmaster run --master slurm -j 50 --slurm-partition short --slurm-time 00:30:00 \
      --bounds 0,10 --goal npoints=500 -- ./simulate {x}
The program prints a number or a JSON array of numbers for each point.
Placeholders: {x} (the input), {x0} {x1} (its components), {id} (the task).)";

struct RunFlags {
  std::string learner = "1d";
  std::vector<std::string> bounds, goals, loss_params, learner_params;
  std::string loss, worker, history = "taskmaster-run.jsonl", plot, points;
  std::string master = "local";
  SlurmSettings slurm;
  // Numbers are taken as text and read by config.cpp's parsers: CLI11 would
  // read "-1" as 2^64 - 1 workers.
  std::string workers = default_workers(), retries = "0", timeout = "0", seed = "0";
  std::string slurm_cpus = "1";
  bool quiet = false;
  bool overwrite = false;

  static std::string default_workers() {
    return std::to_string(std::max(1U, std::thread::hardware_concurrency()));
  }
};

std::size_t workers_from(const std::string& text) {
  return parse_count("--workers", text, 1, max_workers);
}

RunRequest request_from(const RunFlags& f, std::vector<std::string> command) {
  RunRequest r;
  RunConfig& c = r.config;
  c.learner = f.learner;
  for (const auto& b : f.bounds) c.bounds.push_back(parse_bounds(b));
  if (!f.points.empty()) c.points = read_points(f.points);
  c.master = f.master;
  c.slurm = f.slurm;
  c.slurm.cpus_per_task =
      static_cast<unsigned>(parse_count("--slurm-cpus", f.slurm_cpus, 1, max_workers));
  c.loss = f.loss;
  for (const auto& p : f.loss_params) c.loss_params.insert(parse_loss_param(p));
  for (const auto& p : f.learner_params)
    c.learner_params.insert(parse_loss_param(p, "--learner-param"));
  // A sequence runs to its end unless a goal says otherwise; so does a
  // learner with a tolerance of its own.
  std::string default_goal = "npoints=100";
  if (f.learner == "sequence" && !c.points.empty())
    default_goal = fmt::format("npoints={}", c.points.size());
  if (f.learner == "integrator" || f.learner == "average") default_goal = "done";
  for (const auto& g : f.goals.empty() ? std::vector<std::string>{default_goal} : f.goals) {
    c.goals.push_back(Goal::parse(g));
  }
  c.command = std::move(command);
  if (!f.worker.empty()) c.worker = split_words(f.worker);
  if (!f.worker.empty() && c.worker.empty()) throw UsageError("--worker: the command is empty");
  c.workers = workers_from(f.workers);
  c.retries = static_cast<unsigned>(parse_count("--retries", f.retries, 0, max_retries));
  if (const double timeout = parse_finite("--timeout", f.timeout); timeout != 0)
    c.timeout = timeout;
  c.seed = parse_count("--seed", f.seed, 0, std::numeric_limits<std::uint64_t>::max());
  c.validate();
  r.history = f.history;
  // Under mpirun only rank 0 writes the history (which it may have begun).
  const bool history_writer = c.master != "mpi" || launcher_rank().value_or(0) == 0;
  // An empty file holds no run (older versions left one when killed before
  // the header was written).
  std::error_code ec;
  const bool holds_a_run =
      std::filesystem::exists(r.history, ec) && std::filesystem::file_size(r.history, ec) != 0;
  if (history_writer && holds_a_run && !f.overwrite) {
    throw UsageError(fmt::format(
        "--history: {} already holds a run; carry it on with 'taskmaster resume {}', or pass "
        "--overwrite to start afresh",
        f.history, shell_quote(f.history)));
  }
  if (!f.plot.empty()) r.plot = f.plot;
  r.quiet = f.quiet;
  return r;
}

void check_plot_name(const std::string& name, const char* flag) {
  if (name.empty()) return;
  const auto dot = name.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  if (ext != ".png" && ext != ".svg") {
    throw UsageError(fmt::format("{}: '{}' must end in .png or .svg", flag, name));
  }
}

int main_with(int argc, char** argv) {
  // Everything after the first "--" is the program to run, untouched by the parser.
  std::vector<std::string> command;
  int parsed_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      command.assign(argv + i + 1, argv + argc);
      parsed_argc = i;
      if (command.empty()) throw UsageError("--: no program after '--'");
      break;
    }
  }

  CLI::App app{
      "taskmaster: sample any program adaptively, in parallel; watch, plot, resume and "
      "replay the run."};
  app.require_subcommand(1);
  app.footer(
      "Run 'taskmaster COMMAND --help' for a command's options. See README.md, "
      "\"The taskmaster command\".");

  RunFlags flags;
  auto* run = app.add_subcommand("run", "Sample a program over a domain until a goal holds.");
  run->footer(run_example);
  run->add_option("--learner", flags.learner,
                  "Learner: 1d, 2d, nd, sequence, integrator, average or average1d")
      ->capture_default_str();
  run->add_option("--learner-param", flags.learner_params,
                  "name=value for the learner (repeatable): integrator tol; average atol, rtol, "
                  "min_npoints; average1d delta, alpha, neighbor_sampling, min_samples, "
                  "max_samples, min_error")
      ->allow_extra_args(false);
  run->add_option("--points", flags.points,
                  "For --learner sequence: a file with one point per line (coordinates "
                  "separated by commas or blanks, # comments)");
  run->add_option("--bounds", flags.bounds, "lo,hi for one dimension; once per dimension")
      ->allow_extra_args(false)
      ->take_all();
  run->add_option(
      "--loss", flags.loss,
      "Loss (1d and average1d: distance, uniform, curvature, triangle, abs_min_log, resolution; "
      "2d: default, uniform, triangle, minimize_triangle_surface, resolution; "
      "nd: default, uniform, std, triangle, curvature)");
  run->add_option("--loss-param", flags.loss_params, "name=value for the loss (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--goal", flags.goals,
                  "npoints=N, loss=L, duration=30s or done (repeatable: stop when any holds; "
                  "default npoints=100; done for integrator and average)")
      ->allow_extra_args(false);
  run->add_option("--worker", flags.worker,
                  "Long-running worker command speaking the JSON Lines protocol");
  run->add_option("-j,--workers", flags.workers,
                  "Programs running at once (slurm: jobs queued or running at once; mpi: one "
                  "per worker rank)")
      ->capture_default_str();
  run->add_option("--master", flags.master,
                  "Where points are evaluated: local (this machine), mpi (the worker ranks of "
                  "the mpirun that started the tool) or slurm (one batch job per point)")
      ->capture_default_str();
  run->add_option("--slurm-partition", flags.slurm.partition, "slurm: the partition (sbatch -p)");
  run->add_option("--slurm-time", flags.slurm.time_limit,
                  "slurm: the time limit of a job, e.g. 00:30:00 (sbatch --time)");
  run->add_option("--slurm-cpus", flags.slurm_cpus, "slurm: CPUs per job")->capture_default_str();
  run->add_option("--slurm-mem", flags.slurm.memory,
                  "slurm: memory per job, e.g. 4G (sbatch --mem)");
  run->add_option("--slurm-option", flags.slurm.sbatch_lines,
                  "slurm: one more sbatch option, e.g. --account=abc (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--slurm-dir", flags.slurm.work_directory,
                  "slurm: where job scripts and outputs go (default: next to the history)");
  run->add_option("--retries", flags.retries, "Tries again a failed point this often")
      ->capture_default_str();
  run->add_option("--timeout", flags.timeout, "Seconds a point may take (0: no limit)");
  run->add_option("--history", flags.history, "History file (JSON Lines)")->capture_default_str();
  run->add_option("--plot", flags.plot, "Also draw the result into FILE.png or FILE.svg");
  run->add_option("--seed", flags.seed, "Seed of the learner's entropy")->capture_default_str();
  run->add_flag("--overwrite", flags.overwrite, "Replace the history file if it exists");
  run->add_flag("-q,--quiet", flags.quiet, "No progress and no summary");

  std::string history;
  std::vector<std::string> resume_goals;
  std::string resume_workers;
  bool resume_quiet = false;
  std::string resume_plot;
  auto* resume = app.add_subcommand("resume", "Carry on a stopped or killed run.");
  resume->footer("\nExample:\n  taskmaster resume taskmaster-run.jsonl --goal npoints=500");
  resume->add_option("HISTORY", history, "History file of the run")->required();
  resume->add_option("--goal", resume_goals, "New goal(s) instead of the recorded ones")
      ->allow_extra_args(false);
  resume->add_option("-j,--workers", resume_workers,
                     "Programs running at once (default: as recorded)");
  resume->add_option("--plot", resume_plot, "Also draw the result into FILE.png or FILE.svg");
  resume->add_flag("-q,--quiet", resume_quiet, "No progress and no summary");

  auto* replay = app.add_subcommand(
      "replay", "Replay a history through a fresh learner: exit 0 if identical, 1 if not.");
  replay->footer("\nExample:\n  taskmaster replay taskmaster-run.jsonl");
  replay->add_option("HISTORY", history, "History file")->required();

  auto* info = app.add_subcommand("info", "Summarise a run: points, failures, loss, workers.");
  info->footer("\nExample:\n  taskmaster info taskmaster-run.jsonl");
  info->add_option("HISTORY", history, "History file")->required();

  std::string output;
  auto* export_ = app.add_subcommand("export", "Write the evaluated points as CSV.");
  export_->footer("\nExample:\n  taskmaster export taskmaster-run.jsonl -o points.csv");
  export_->add_option("HISTORY", history, "History file")->required();
  export_->add_option("-o,--output", output, "CSV file (default: standard output)");

  PlotSize size;
  auto* plot = app.add_subcommand("plot", "Draw the learned function into a PNG or SVG file.");
  plot->footer("\nExample:\n  taskmaster plot taskmaster-run.jsonl -o run.png");
  plot->add_option("HISTORY", history, "History file")->required();
  plot->add_option("-o,--output", output, "FILE.png or FILE.svg")->required();
  plot->add_option("--width", size.width, "Width in pixels (points for SVG)")
      ->capture_default_str();
  plot->add_option("--height", size.height, "Height in pixels (points for SVG)")
      ->capture_default_str();

  DemoOptions demo_options;
  std::string demo_workers = flags.workers;
  auto* demo = app.add_subcommand(
      "demo", "Sample a bundled example function with all cores, plot it, replay it.");
  demo->footer("\nExample:\n  taskmaster demo --history demo.jsonl --plot demo.png");
  demo->add_option("--history", demo_options.history, "History file")->capture_default_str();
  demo->add_option("--plot", demo_options.plot, "Plot file (.png or .svg)")->capture_default_str();
  demo->add_option("-j,--workers", demo_workers, "Workers")->capture_default_str();
  demo->add_option("--goal", demo_options.goals, "Goal(s) instead of the built-in one")
      ->allow_extra_args(false);
  demo->add_flag("-q,--quiet", demo_options.quiet, "No progress");

  // The live view (docs/live-view.md): beside a run or resume, or on its own.
  std::string live_port, live_bind = "127.0.0.1";
  for (auto* command : {run, resume}) {
    command
        ->add_option("--live", live_port,
                     "Serve a live view of the run in the browser on PORT (default 8765; 0: any "
                     "free port) until it ends; the address is printed")
        ->expected(0, 1);
    command->add_option("--live-bind", live_bind,
                        "Address the live view listens on (default 127.0.0.1: this machine only)");
  }
  std::string watch_port;
  auto* watch = app.add_subcommand(
      "watch", "Serve a live view of a run (going on or finished) in the browser.");
  watch->footer(
      "\nExample:\n  taskmaster watch taskmaster-run.jsonl --port 8000\nThe address is printed; "
      "Ctrl-C stops the server. See docs/live-view.md.");
  watch->add_option("HISTORY", history, "History file (it may not exist yet)")->required();
  watch->add_option("--port", watch_port, "Port (default 8765, or any free one if taken; 0: any)");
  watch
      ->add_option("--bind", live_bind,
                   "Address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every "
                   "network)")
      ->capture_default_str();

  // Runs on virtual workers (simulate.cpp).
  const SimulateCommand simulate(app);

  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  if (simulate.parsed()) return simulate.run(std::move(command));
  if (!command.empty() && !run->parsed())
    throw UsageError("--: only 'taskmaster run' and 'simulate' take a program after '--'");

  const auto live_options = [&](const std::string& port, bool given, const char* flag) {
    watch::LiveOptions o;
    o.bind = live_bind;
    if (given && !port.empty()) {
      o.port = static_cast<int>(parse_count(flag, port, 0, 65535));
      o.port_given = true;
    }
    return o;
  };
  if (watch->parsed()) {
    return watch::watch_command(history,
                                live_options(watch_port, watch->count("--port") > 0, "--port"));
  }
  if (run->parsed()) {
    check_plot_name(flags.plot, "--plot");
    RunRequest request = request_from(flags, std::move(command));
    if (run->count("--live") > 0) request.live = live_options(live_port, true, "--live");
    return run_command(request);
  }
  if (resume->parsed()) {
    check_plot_name(resume_plot, "--plot");
    RunRequest r;
    r.config = HistoryInput::read(history).latest_config;
    if (!resume_goals.empty()) {
      r.config.goals.clear();
      for (const auto& g : resume_goals) r.config.goals.push_back(Goal::parse(g));
    }
    if (!resume_workers.empty()) r.config.workers = workers_from(resume_workers);
    r.history = history;
    r.resume = true;
    r.quiet = resume_quiet;
    if (resume->count("--live") > 0) r.live = live_options(live_port, true, "--live");
    if (!resume_plot.empty()) r.plot = resume_plot;
    r.config.validate();
    // The program comes from the file, which may come from someone else:
    // say what is about to run, even with --quiet.
    if (r.config.master != "mpi" || launcher_rank().value_or(0) == 0) {
      std::string program;
      for (const auto& a : r.config.command.empty() ? r.config.worker : r.config.command)
        program += (program.empty() ? "" : " ") + shell_quote(a);
      fmt::print(stderr, "taskmaster: resuming {}, which runs: {} ({})\n", history, program,
                 r.config.command.empty() ? "long-running workers" : "one process per point");
    }
    return run_command(r);
  }
  if (replay->parsed()) return replay_command(history);
  if (info->parsed()) return info_command(history);
  if (export_->parsed()) {
    return export_command(
        history, output.empty() ? std::nullopt : std::optional<std::filesystem::path>(output));
  }
  if (plot->parsed()) {
    check_plot_name(output, "--output");
    if (size.width < 100 || size.height < 100 || size.width > 20000 || size.height > 20000) {
      throw UsageError(
          fmt::format("--width/--height: need 100 to 20000, got {}x{}", size.width, size.height));
    }
    plot_history(HistoryInput::read(history), output, size);
    fmt::print(stderr, "taskmaster: plot in {}\n", output);
    return 0;
  }
  if (demo->parsed()) {
    check_plot_name(demo_options.plot, "--plot");
    demo_options.workers = workers_from(demo_workers);
    return demo_command(demo_options);
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_with(argc, argv);
  } catch (const UsageError& e) {
    fmt::print(stderr, "taskmaster: usage error: {}\n(see 'taskmaster --help')\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "taskmaster: error: {}\n", e.what());
    return 1;
  }
}
