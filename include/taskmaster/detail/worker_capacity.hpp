#pragma once
// How many tasks an out-of-process master runs at once: a number that any
// thread may raise or lower while the loop's thread runs the master.

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace taskmaster::detail {

/// A capacity that never goes below zero, changed from any thread.
///
/// @code
/// detail::WorkerCapacity capacity(4);
/// capacity.release(10);  // returns 4: only four were there
/// @endcode
class WorkerCapacity {
 public:
  explicit WorkerCapacity(std::size_t n = 0) noexcept : value_(n) {}

  [[nodiscard]] std::size_t value() const noexcept {
    return value_.load(std::memory_order_acquire);
  }
  void add(std::size_t n) noexcept { value_.fetch_add(n, std::memory_order_acq_rel); }
  /// Lowers the capacity by `n`, or to zero when it is smaller; returns by
  /// how much it went down.
  std::size_t release(std::size_t n) noexcept {
    std::size_t current = value_.load(std::memory_order_acquire);
    std::size_t k = 0;
    do {
      k = std::min(n, current);
    } while (!value_.compare_exchange_weak(current, current - k, std::memory_order_acq_rel));
    return k;
  }

 private:
  std::atomic<std::size_t> value_;
};

}  // namespace taskmaster::detail
