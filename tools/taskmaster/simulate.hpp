#pragma once
// `taskmaster simulate`: a run on N virtual workers with a virtual clock,
// to see how a learner would use a cluster of any size before renting it.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace taskmaster::cli {

/// The `simulate` subcommand: registers its options on the tool's parser
/// and, once the command line is parsed, runs it.
///
/// @code
/// CLI::App app;
/// taskmaster::cli::SimulateCommand simulate(app);
/// app.parse(argc, argv);
/// if (simulate.parsed()) return simulate.run(program_after_dashes);
/// @endcode
class SimulateCommand {
 public:
  explicit SimulateCommand(CLI::App& app);
  [[nodiscard]] bool parsed() const;
  /// Runs the simulation (of `command`, the program after `--`, when not
  /// empty) and prints its report; returns the exit status.
  [[nodiscard]] int run(std::vector<std::string> command) const;

 private:
  struct Flags {
    std::string function, learner, loss, worker, history, points, duration = "fixed:1";
    std::vector<std::string> bounds, goals, loss_params, learner_params, joins, leaves;
    std::string workers = "1", retries = "0", seed = "0";
    bool efficiency = false;
    bool json = false;
    bool overwrite = false;
  };
  CLI::App* command_;
  Flags flags_;
};

}  // namespace taskmaster::cli
