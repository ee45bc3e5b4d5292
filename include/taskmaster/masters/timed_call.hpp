#pragma once
// Evaluating a user's callable on a task: the one place that turns its value
// or its exception into a Result, with the time it took.

#include <chrono>
#include <exception>
#include <utility>

#include "taskmaster/core/task.hpp"

namespace taskmaster::detail {

template <class X, class Y, class F>
Result<X, Y> timed_call(F& f, Task<X> task, int worker) {
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  try {
    Y y = f(task.x);
    const double duration = seconds();
    return Result<X, Y>::success(task.id, std::move(task.x), std::move(y), worker, duration);
  } catch (const std::exception& e) {
    return Result<X, Y>::failure(task.id, std::move(task.x), e.what(), worker, seconds());
  } catch (...) {
    return Result<X, Y>::failure(task.id, std::move(task.x), "unknown exception", worker,
                                 seconds());
  }
}

}  // namespace taskmaster::detail
