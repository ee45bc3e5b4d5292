#pragma once
// What a run shows while it goes: a live status line on a terminal, plain
// periodic lines otherwise, nothing with --quiet. Written to stderr.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "taskmaster/core/progress.hpp"

namespace taskmaster::cli {

/// Prints a run's progress at a steady pace, however often it is updated.
///
/// @code
/// taskmaster::cli::ProgressReporter reporter({.npoints_goal = 500});
/// options.hook = [&](const auto&, const taskmaster::Progress& p) { reporter.update(p); };
/// @endcode
class ProgressReporter {
 public:
  struct Settings {
    bool quiet = false;
    std::optional<std::uint64_t> npoints_goal{};  ///< for the time left
    std::optional<double> duration_goal{};        ///< seconds, for the time left
    std::uint64_t points_before = 0;              ///< resolved in earlier segments (resume)
  };
  explicit ProgressReporter(Settings settings);

  /// Called after every event; prints only when it is time to.
  void update(const Progress& progress);
  /// Prints the last state and ends the live line.
  void finish(const Progress& progress);

  /// The status text, e.g. "412 points  loss 0.0031  95.1 points/s  4/4 busy  0 failed  4.3 s".
  [[nodiscard]] std::string describe(const Progress& progress) const;

 private:
  void print(const Progress& progress);

  Settings settings_;
  bool terminal_;
  bool live_line_open_ = false;
  std::chrono::steady_clock::time_point last_print_{};
};

/// "1.5 s", "2 min 05 s", "1 h 02 min".
std::string format_seconds(double seconds);

}  // namespace taskmaster::cli
