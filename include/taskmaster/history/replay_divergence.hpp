#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace taskmaster {

/// A replay found the learner doing something other than what the record
/// says: the first point where the learner under test and the recorded run
/// part ways.
class ReplayDivergence : public std::runtime_error {
 public:
  ReplayDivergence(std::uint64_t step, std::string recorded, std::string asked, std::size_t line);

  /// The number of the ask (from 0) where the replay diverged.
  [[nodiscard]] std::uint64_t step() const noexcept { return step_; }
  /// What the record holds there (the recorded x, or the event that came instead).
  [[nodiscard]] const std::string& recorded() const noexcept { return recorded_; }
  /// What the learner did there (the x it asked, or "nothing").
  [[nodiscard]] const std::string& asked() const noexcept { return asked_; }
  /// The line of the history file where the recorded event stands (0 if not read from a file).
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

 private:
  std::uint64_t step_;
  std::string recorded_;
  std::string asked_;
  std::size_t line_;
};

}  // namespace taskmaster
