#pragma once
// Ctrl-C during a run: the first stops asking and lets the tasks in flight
// finish; the second gives up on them: their programs are killed, the run
// ends with them unresolved (resume asks them again); a third exits at once.
// Either way the history on disk stays complete up to that moment.

#include <string>

namespace taskmaster::cli {

/// Installs the SIGINT handler for as long as it lives.
///
/// @code
/// taskmaster::cli::InterruptGuard guard("taskmaster resume run.jsonl");
/// auto stop = goals || taskmaster::stop::when("Ctrl-C", [](const taskmaster::Progress&) {
///   return taskmaster::cli::InterruptGuard::interrupted();
/// });
/// @endcode
class InterruptGuard {
 public:
  /// `resume_hint` is printed if a third Ctrl-C ends the process.
  explicit InterruptGuard(const std::string& resume_hint);
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard();

  /// Whether Ctrl-C was pressed since the guard was installed.
  [[nodiscard]] static bool interrupted() noexcept;
  /// Whether it was pressed again: the tasks in flight are given up.
  [[nodiscard]] static bool abandoned() noexcept;
};

}  // namespace taskmaster::cli
