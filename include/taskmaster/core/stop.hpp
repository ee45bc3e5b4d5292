#pragma once
// Stop conditions: when the loop stops asking for new points.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "taskmaster/core/progress.hpp"

namespace taskmaster {

/// Decides, before each ask, whether the run should stop asking. Once it
/// holds, the loop asks no more and drains (or cancels) what is in flight.
/// Conditions combine with `||` and `&&`; `describe()` names the condition
/// for logs and for the history's end record.
///
/// @code
/// using namespace taskmaster;
/// auto stop = stop::points(1000) || stop::loss_below(1e-3) || stop::duration(60.0);
/// @endcode
class StopCondition {
 public:
  using Predicate = std::function<bool(const Progress&)>;

  StopCondition(std::string description, Predicate predicate)
      : description_(std::move(description)), predicate_(std::move(predicate)) {}

  [[nodiscard]] bool operator()(const Progress& progress) const { return predicate_(progress); }
  [[nodiscard]] const std::string& describe() const { return description_; }

  friend StopCondition operator||(StopCondition a, StopCondition b) {
    return {"(" + a.description_ + " or " + b.description_ + ")",
            [a = std::move(a.predicate_), b = std::move(b.predicate_)](const Progress& p) {
              return a(p) || b(p);
            }};
  }
  friend StopCondition operator&&(StopCondition a, StopCondition b) {
    return {"(" + a.description_ + " and " + b.description_ + ")",
            [a = std::move(a.predicate_), b = std::move(b.predicate_)](const Progress& p) {
              return a(p) && b(p);
            }};
  }
  friend StopCondition operator!(StopCondition a) {
    return {"not " + a.description_,
            [a = std::move(a.predicate_)](const Progress& p) { return !a(p); }};
  }

 private:
  std::string description_;
  Predicate predicate_;
};

namespace stop {

/// Stop once `n` points have been asked: the run evaluates exactly `n` points.
StopCondition points(std::uint64_t n);
/// Stop once `n` results have been told (failures do not count).
StopCondition results(std::uint64_t n);
/// Stop once the learner's loss is at or below `goal`.
StopCondition loss_below(double goal);
/// Stop once `seconds` of wall-clock time have passed since the run started.
StopCondition duration(double seconds);
/// Stop once the learner's `done()` says so.
StopCondition learner_done();
/// Never stop asking: the run ends when the learner has nothing more to ask.
StopCondition exhausted();
/// Stop when `predicate(progress)` holds.
StopCondition when(std::string description, StopCondition::Predicate predicate);

}  // namespace stop
}  // namespace taskmaster
