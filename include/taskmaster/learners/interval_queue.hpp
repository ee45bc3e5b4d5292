#pragma once
// A priority queue of intervals that can change or drop any entry in place.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "taskmaster/learners/large_pages.hpp"

namespace taskmaster::detail {

/// A binary max-heap of intervals, one per slot (an interval is filed under
/// the slot of its left end). Setting a slot's interval again moves it in
/// place, so the heap never holds stale entries: O(log n) per change and the
/// top is always current. Order: larger key first, then the interval further
/// left (python-adaptive sorts intervals by (-loss, interval)).
class IntervalQueue {
 public:
  struct Interval {
    double key = 0.0;
    double x_left = 0.0;
    double x_right = 0.0;
  };

  [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  [[nodiscard]] bool contains(std::uint32_t slot) const {
    return slot < position_.size() && position_[slot] != npos;
  }
  /// The slot of the best interval (the queue must not be empty).
  [[nodiscard]] std::uint32_t top() const { return heap_.front().slot; }
  [[nodiscard]] const Interval& interval(std::uint32_t slot) const {
    return heap_[position_[slot]].interval;
  }

  /// Files or re-files slot's interval.
  void set(std::uint32_t slot, const Interval& interval) {
    if (slot >= position_.size()) position_.resize(slot + 1, npos);
    if (position_[slot] == npos) {
      position_[slot] = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back({interval, slot});
      sift_up(position_[slot]);
    } else {
      const std::uint32_t at = position_[slot];
      heap_[at].interval = interval;
      sift_down(sift_up(at));
    }
  }

  void erase(std::uint32_t slot) {
    if (!contains(slot)) return;
    const std::uint32_t at = position_[slot];
    position_[slot] = npos;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (at == heap_.size()) return;
    heap_[at] = last;
    position_[last.slot] = at;
    sift_down(sift_up(at));
  }

  /// Makes room for `n` intervals and slots below `n` without reallocating.
  void reserve(std::size_t n) {
    heap_.reserve(n);
    position_.reserve(n);
  }

  /// Files slot's interval without restoring the heap order, for rebuilding
  /// a whole queue: call `heapify()` before reading the top again.
  void set_unordered(std::uint32_t slot, const Interval& interval) {
    if (slot >= position_.size()) position_.resize(slot + 1, npos);
    if (position_[slot] == npos) {
      position_[slot] = static_cast<std::uint32_t>(heap_.size());
      heap_.push_back({interval, slot});
    } else {
      heap_[position_[slot]].interval = interval;
    }
  }

  /// Drops slot's interval without restoring the heap order (see `set_unordered`).
  void erase_unordered(std::uint32_t slot) {
    if (!contains(slot)) return;
    const std::uint32_t at = position_[slot];
    position_[slot] = npos;
    const Entry last = heap_.back();
    heap_.pop_back();
    if (at == heap_.size()) return;
    heap_[at] = last;
    position_[last.slot] = at;
  }

  /// Restores the heap order after unordered changes: O(n) (Floyd's
  /// construction) where n single insertions would cost O(n log n). The
  /// order is total, so the top is the same however the heap was built.
  void heapify() {
    for (auto at = static_cast<std::uint32_t>(heap_.size() / 2); at-- > 0;) sift_down(at);
  }

  void clear() {
    for (const Entry& e : heap_) position_[e.slot] = npos;
    heap_.clear();
  }

 private:
  static constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();
  // Entries hold their intervals inline: comparisons stay in the heap's own
  // contiguous memory instead of chasing each slot.
  struct Entry {
    Interval interval;
    std::uint32_t slot;
  };

  static bool before(const Interval& x, const Interval& y) {
    if (x.key != y.key) return x.key > y.key;
    if (x.x_left != y.x_left) return x.x_left < y.x_left;
    return x.x_right < y.x_right;
  }

  std::uint32_t sift_up(std::uint32_t at) {
    const Entry moving = heap_[at];
    while (at > 0) {
      const std::uint32_t parent = (at - 1) / 2;
      if (!before(moving.interval, heap_[parent].interval)) break;
      heap_[at] = heap_[parent];
      position_[heap_[at].slot] = at;
      at = parent;
    }
    heap_[at] = moving;
    position_[moving.slot] = at;
    return at;
  }

  void sift_down(std::uint32_t at) {
    const Entry moving = heap_[at];
    const auto n = static_cast<std::uint32_t>(heap_.size());
    for (;;) {
      std::uint32_t child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1].interval, heap_[child].interval)) ++child;
      if (!before(heap_[child].interval, moving.interval)) break;
      heap_[at] = heap_[child];
      position_[heap_[at].slot] = at;
      at = child;
    }
    heap_[at] = moving;
    position_[moving.slot] = at;
  }

  // Both grow with the number of points: huge pages spare a fresh process
  // most of its page faults (large_pages.hpp). position_ holds, per slot,
  // where its entry is, or npos.
  std::vector<Entry, LargePageAllocator<Entry>> heap_;
  std::vector<std::uint32_t, LargePageAllocator<std::uint32_t>> position_;
};

}  // namespace taskmaster::detail
