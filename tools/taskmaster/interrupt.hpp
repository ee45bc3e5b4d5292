#pragma once
// Ctrl-C during a run: the first stops asking and lets the tasks in flight
// finish, the second abandons them and exits at once. Either way the history
// on disk stays complete up to that moment and the run can be resumed.

#include <string>

namespace taskmaster::cli {

/// Installs the SIGINT handler for as long as it lives.
///
/// @code
/// taskmaster::cli::InterruptGuard guard("taskmaster resume run.jsonl");
/// auto stop = goals || guard.stop_condition();
/// @endcode
class InterruptGuard {
 public:
  /// `resume_hint` is printed if a second Ctrl-C ends the process.
  explicit InterruptGuard(const std::string& resume_hint);
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard();

  /// Whether Ctrl-C was pressed since the guard was installed.
  [[nodiscard]] static bool interrupted() noexcept;
};

}  // namespace taskmaster::cli
