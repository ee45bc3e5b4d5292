#pragma once
// Ctrl-C during a run: the first stops asking and lets the tasks in flight
// finish; the second gives up on them: their programs are killed, the run
// ends with them unresolved (resume asks them again); a third exits at once.
// SIGTERM and SIGHUP give the tasks in flight up at once, as a second Ctrl-C
// does, and exit at once when repeated. Either way the history on disk stays
// complete up to that moment.

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
  /// Installs the handlers of SIGINT, SIGTERM and SIGHUP. `resume_hint` is
  /// printed if a third Ctrl-C (or a second SIGTERM) ends the process.
  explicit InterruptGuard(const std::string& resume_hint);
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard();

  /// Whether Ctrl-C was pressed (or another handled signal came) since the
  /// guard was installed.
  [[nodiscard]] static bool interrupted() noexcept;
  /// Whether it was pressed again (or SIGTERM or SIGHUP came): the tasks in
  /// flight are given up.
  [[nodiscard]] static bool abandoned() noexcept;
  /// The signal that stopped the run (SIGINT, SIGTERM, SIGHUP), 0 if none.
  [[nodiscard]] static int signal() noexcept;
};

}  // namespace taskmaster::cli
