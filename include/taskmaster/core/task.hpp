#pragma once
// Tasks and results: what travels between the loop and a master.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace taskmaster {

/// Identifies one point for its whole life: the ask that created it, every
/// retry, and the result or failure that ends it.
using TaskId = std::uint64_t;

/// A unit of work handed to a master.
template <class X>
struct Task {
  TaskId id = 0;
  X x{};
};

/// What a master hands back for a task, in whatever order the work finishes.
/// Exactly one of `y` and `error` is meaningful: `y` holds a value when the
/// evaluation succeeded, otherwise `error` says why it did not.
template <class X, class Y>
struct Result {
  TaskId id = 0;
  X x{};
  std::optional<Y> y;
  std::string error;
  /// Which worker evaluated the task (-1 when the master has no notion of one).
  int worker = -1;
  /// Seconds spent evaluating, as measured by the master around the call.
  double duration = 0.0;

  [[nodiscard]] bool ok() const noexcept { return y.has_value(); }

  static Result success(TaskId id, X x, Y y, int worker = -1, double duration = 0.0) {
    return Result{id, std::move(x), std::optional<Y>(std::move(y)), {}, worker, duration};
  }
  static Result failure(TaskId id, X x, std::string error, int worker = -1, double duration = 0.0) {
    return Result{id, std::move(x), std::nullopt, std::move(error), worker, duration};
  }
};

}  // namespace taskmaster
