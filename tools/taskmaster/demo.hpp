#pragma once
// `taskmaster demo`: the built-in example job.

#include <cstddef>
#include <string>
#include <vector>

namespace taskmaster::cli {

/// Where the demo writes, and how hard it works.
///
/// @code
/// taskmaster::cli::DemoOptions options{.workers = 4};
/// int status = taskmaster::cli::demo_command(options);
/// @endcode
struct DemoOptions {
  std::string history = "taskmaster-demo.jsonl";
  std::string plot = "taskmaster-demo.png";
  std::size_t workers = 1;
  std::vector<std::string> goals{};  ///< empty: the built-in goal
  bool quiet = false;
};

/// Samples the bundled worker's 2D function with Learner2D, plots it and
/// replays the history; returns the exit status.
int demo_command(const DemoOptions& options);

/// The bundled worker script, found next to the executable, in
/// ../share/taskmaster, or in the source tree it was built from.
std::string demo_worker_path();

}  // namespace taskmaster::cli
