#pragma once
// A master that evaluates each task in the calling thread, one at a time.

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

#include "taskmaster/core/master.hpp"

namespace taskmaster {

/// Evaluates tasks one by one in the thread that runs the loop, when the
/// loop asks for the next result. Capacity 1. Useful for debugging a learner
/// and as the baseline of the loop's own overhead. An exception thrown by the
/// function becomes a failure carrying its message.
///
/// @code
/// taskmaster::SerialMaster<double, double> master([](double x) { return x * x; });
/// @endcode
template <class X, class Y>
class SerialMaster {
 public:
  using input_type = X;
  using output_type = Y;
  using Function = std::function<Y(const X&)>;

  explicit SerialMaster(Function f) : f_(std::move(f)) {}

  [[nodiscard]] std::size_t capacity() const noexcept { return 1; }
  void submit(Task<X> task) { queue_.push_back(std::move(task)); }
  void cancel() { queue_.clear(); }

  std::optional<Result<X, Y>> next() {
    if (queue_.empty()) return std::nullopt;
    Task<X> task = std::move(queue_.front());
    queue_.pop_front();
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    try {
      Y y = f_(task.x);
      const double d = seconds();
      return Result<X, Y>::success(task.id, std::move(task.x), std::move(y), 0, d);
    } catch (const std::exception& e) {
      return Result<X, Y>::failure(task.id, std::move(task.x), e.what(), 0, seconds());
    } catch (...) {
      return Result<X, Y>::failure(task.id, std::move(task.x), "unknown exception", 0, seconds());
    }
  }

 private:
  Function f_;
  std::deque<Task<X>> queue_;
};

}  // namespace taskmaster
