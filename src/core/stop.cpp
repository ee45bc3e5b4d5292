#include "taskmaster/core/stop.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace taskmaster::stop {

StopCondition points(std::uint64_t n) {
  return {fmt::format("{} points asked", n), [n](const Progress& p) { return p.asked >= n; }};
}

StopCondition results(std::uint64_t n) {
  return {fmt::format("{} results told", n), [n](const Progress& p) { return p.told >= n; }};
}

StopCondition loss_below(double goal) {
  return {fmt::format("loss <= {}", goal), [goal](const Progress& p) { return p.loss() <= goal; }};
}

StopCondition duration(double seconds) {
  if (!(seconds >= 0.0)) {
    throw std::invalid_argument(
        fmt::format("stop::duration: seconds must be >= 0, got {}", seconds));
  }
  return {fmt::format("{} s elapsed", seconds),
          [seconds](const Progress& p) { return p.seconds() >= seconds; }};
}

StopCondition learner_done() {
  return {"learner done", [](const Progress& p) { return p.learner_done(); }};
}

StopCondition exhausted() {
  return {"learner exhausted", [](const Progress&) { return false; }};
}

StopCondition when(std::string description, StopCondition::Predicate predicate) {
  if (!predicate) throw std::invalid_argument("stop::when: empty predicate");
  return {std::move(description), std::move(predicate)};
}

}  // namespace taskmaster::stop
