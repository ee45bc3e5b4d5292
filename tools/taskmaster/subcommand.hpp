#pragma once
// The tool's subcommands: each registers its own flags on the parser and
// says how it runs once the command line is parsed.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "watch/live_server.hpp"

namespace CLI {
class App;
}

namespace taskmaster::cli {

/// One subcommand of `taskmaster`, as its `add_*_command` registered it.
///
/// @code
/// CLI::App app;
/// const taskmaster::cli::Subcommand replay = taskmaster::cli::add_replay_command(app);
/// app.parse(argc, argv);
/// if (replay.parser->parsed()) return replay.run({});
/// @endcode
struct Subcommand {
  CLI::App* parser = nullptr;
  /// Runs it with the program given after `--` (empty if none); returns
  /// the exit status.
  std::function<int(std::vector<std::string> program)> run;
  /// Whether it takes a program after `--`.
  bool takes_program = false;
};

Subcommand add_run_command(CLI::App& app);
Subcommand add_resume_command(CLI::App& app);
Subcommand add_replay_command(CLI::App& app);
Subcommand add_info_command(CLI::App& app);
Subcommand add_export_command(CLI::App& app);
Subcommand add_plot_command(CLI::App& app);
Subcommand add_demo_command(CLI::App& app);
Subcommand add_watch_command(CLI::App& app);
Subcommand add_simulate_command(CLI::App& app);

/// Throws UsageError unless `name` (of `flag`) ends in .png or .svg; an
/// empty name is no plot.
void check_plot_name(const std::string& name, const char* flag);
/// The number of programs at once `--workers` says.
std::size_t workers_from(const std::string& text);
/// The workers a run uses unless told: one per core.
std::string default_workers();
/// Where the live view listens: `bind`, and `port` when `given` and not
/// empty (read for `flag`).
watch::LiveOptions live_options(const std::string& bind, const std::string& port, bool given,
                                const char* flag);

}  // namespace taskmaster::cli
