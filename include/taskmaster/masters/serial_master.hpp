#pragma once
// A master that evaluates each task in the calling thread, one at a time.

#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include "taskmaster/core/master.hpp"
#include "taskmaster/masters/timed_call.hpp"

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
    return detail::timed_call<X, Y>(f_, std::move(task), 0);
  }

 private:
  Function f_;
  std::deque<Task<X>> queue_;
};

}  // namespace taskmaster
