// taskmaster: sample any program adaptively, watch it, plot it, resume and
// replay it. Each command registers its flags and action in its own place
// (subcommand.hpp); this file reads the command line, runs the command
// named and turns errors into exit statuses (2: usage, 1: run failure).

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "config.hpp"
#include "subcommand.hpp"

namespace {

using namespace taskmaster::cli;

int main_with(int argc, char** argv) {
  // Everything after the first "--" is the program to run, untouched by the parser.
  std::vector<std::string> program;
  int parsed_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      program.assign(argv + i + 1, argv + argc);
      parsed_argc = i;
      if (program.empty()) throw UsageError("--: no program after '--'");
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
  const std::vector<Subcommand> commands{
      add_run_command(app),  add_resume_command(app), add_replay_command(app),
      add_info_command(app), add_export_command(app), add_plot_command(app),
      add_demo_command(app), add_watch_command(app),  add_simulate_command(app)};

  try {
    app.parse(parsed_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  for (const auto& command : commands) {
    if (!command.parser->parsed()) continue;
    if (!program.empty() && !command.takes_program)
      throw UsageError("--: only 'taskmaster run' and 'simulate' take a program after '--'");
    return command.run(std::move(program));
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
