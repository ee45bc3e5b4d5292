#pragma once
// `taskmaster run` and `taskmaster resume`: sample a program with a learner.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "config.hpp"
#include "watch/live_server.hpp"

namespace taskmaster::cli {

/// What to run and where its results go.
///
/// @code
/// taskmaster::cli::RunRequest request{.config = config, .history = "run.jsonl"};
/// int status = taskmaster::cli::run_command(request);
/// @endcode
struct RunRequest {
  RunConfig config;
  std::filesystem::path history = "taskmaster-run.jsonl";
  std::optional<std::filesystem::path> plot{};
  bool quiet = false;
  bool resume = false;  ///< carry on the run recorded in `history`
  /// Serve the live view beside the run (`--live`), until it ends.
  std::optional<watch::LiveOptions> live{};
};

/// How a run ended.
///
/// @code
/// auto outcome = taskmaster::cli::execute_run(request);
/// if (outcome.status == 130) fmt::print("interrupted after {} points\n", outcome.told);
/// @endcode
struct RunOutcome {
  int status = 0;  ///< 0 goal reached, 1 run failure, 128 + the signal that stopped it (130 Ctrl-C)
  std::uint64_t told = 0;
  std::uint64_t failed = 0;
  double loss = 0;
  double seconds = 0;
  std::string reason;
  bool worker_rank = false;  ///< an MPI worker rank: served points, reports nothing
};

/// Runs (or resumes) and prints progress and a summary on stderr.
RunOutcome execute_run(const RunRequest& request);
/// `execute_run` as a command: fills in what the configuration leaves to
/// the tool (the SLURM job directory) and returns the exit status.
int run_command(RunRequest request);

/// A path as a shell would need it typed.
std::string shell_quote(const std::string& text);

}  // namespace taskmaster::cli
