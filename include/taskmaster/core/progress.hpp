#pragma once
// What the loop knows about a run at any moment, as seen by stop conditions and hooks.

#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace taskmaster {

/// A snapshot of a run. Stop conditions and hooks read it; `loss()` and
/// `learner_done()` ask the learner, so they cost what the learner's own
/// methods cost and are only computed when called.
struct Progress {
  std::uint64_t asked = 0;      ///< points proposed by the learner
  std::uint64_t told = 0;       ///< results told to the learner
  std::uint64_t failed = 0;     ///< points that failed for good
  std::uint64_t retried = 0;    ///< evaluations submitted again after a failure
  std::uint64_t in_flight = 0;  ///< points submitted and not yet resolved
  std::size_t capacity = 0;     ///< the master's capacity at the last check
  std::chrono::steady_clock::duration elapsed{};

  [[nodiscard]] double seconds() const { return std::chrono::duration<double>(elapsed).count(); }
  /// The learner's loss; throws std::logic_error if the learner has none.
  [[nodiscard]] double loss() const {
    if (loss_of == nullptr) throw std::logic_error("a loss goal needs a learner with loss()");
    return loss_of(learner);
  }
  /// Whether the learner says it reached its goal; throws if it cannot say.
  [[nodiscard]] bool learner_done() const {
    if (done_of == nullptr) throw std::logic_error("learner_done() needs a learner with done()");
    return done_of(learner);
  }

  // Set by the loop: type-erased access to the learner without std::function.
  const void* learner = nullptr;
  double (*loss_of)(const void*) = nullptr;
  bool (*done_of)(const void*) = nullptr;
};

}  // namespace taskmaster
