#pragma once
// What Learner2D's and LearnerND's triangulations share about their simplex
// losses: the tie-breaking key, the value range that scales the losses, and
// the queue of losses with lazy deletion. Private to the library.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "cache_aligned_heap.hpp"

namespace taskmaster::detail {

/// A key for a simplex from its vertex ids in increasing order (SplitMix64
/// steps over them): it breaks ties between equal losses by the simplex
/// itself, so that the order does not depend on when each loss was computed
/// (a loaded learner computes them in other batches).
///
/// @code
/// const std::array<std::uint64_t, 3> ids{4, 9, 17};
/// std::uint64_t key = simplex_key(ids);
/// @endcode
inline std::uint64_t simplex_key(std::span<const std::uint64_t> sorted_ids) noexcept {
  std::uint64_t h = 0;
  for (std::uint64_t id : sorted_ids) {
    h += id + 0x9E3779B97F4A7C15ULL;
    h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
    h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
    h ^= h >> 31;
  }
  return h;
}

/// The range of the finite values seen, per output component, and the scale
/// the losses were computed with. Like python-adaptive
/// (_recompute_losses_factor), all losses are recomputed when the scale has
/// moved by more than 10% since.
///
/// @code
/// ValueRange range;
/// range.include(values);
/// if (range.rescaled()) recompute_every_loss(range.loss_scale());
/// @endcode
class ValueRange {
 public:
  /// Forgets every value (`components` outputs from now on).
  void reset(std::size_t components) {
    low_.assign(components, std::numeric_limits<double>::infinity());
    high_.assign(components, -std::numeric_limits<double>::infinity());
  }
  /// Takes finite values into account (a different number of components
  /// starts over).
  void include(std::span<const double> values) {
    if (low_.size() != values.size()) reset(values.size());
    for (std::size_t c = 0; c < values.size(); ++c) {
      low_[c] = std::min(low_[c], values[c]);
      high_[c] = std::max(high_[c], values[c]);
    }
  }
  /// The widest component's range (1 before two different values are seen).
  [[nodiscard]] double scale() const noexcept {
    double scale = 0;
    for (std::size_t c = 0; c < low_.size(); ++c) {
      if (low_[c] <= high_[c]) scale = std::max(scale, high_[c] - low_[c]);
    }
    return scale > 0 ? scale : 1.0;
  }
  /// The scale the current losses use.
  [[nodiscard]] double loss_scale() const noexcept { return loss_scale_; }
  /// Makes the current scale the losses' scale.
  void adopt() noexcept { loss_scale_ = scale(); }
  /// Whether the scale moved by more than 10% from the losses' scale (it is
  /// then adopted: the caller recomputes every loss).
  bool rescaled() noexcept {
    const double now = scale();
    if (now > loss_scale_ * 1.1 || now * 1.1 < loss_scale_) {
      loss_scale_ = now;
      return true;
    }
    return false;
  }

 private:
  std::vector<double> low_, high_;
  double loss_scale_ = 1.0;
};

/// The simplices by loss, largest first. A simplex's entry is superseded, not
/// removed, when its loss changes: `StampOf{}(handle)` is the stamp of the
/// simplex's current entry (0 when it has none), and an entry with another
/// stamp is skipped. Equal losses are ordered by `simplex_key`, then by stamp.
///
/// @code
/// LossQueue<Face, FaceStamp> queue;
/// queue.push({loss, key, stamp, face});
/// if (auto best = queue.pop_live()) refine(best->simplex);
/// @endcode
template <class Handle, class StampOf>
class LossQueue {
 public:
  struct Entry {
    double loss;
    std::uint64_t key;
    std::uint64_t stamp;
    Handle simplex;
  };

  [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
  void clear() { heap_.clear(); }
  void push(const Entry& e) { heap_.push(e); }
  /// Adds an entry without ordering; call `restore()` before the next use.
  void push_unordered(const Entry& e) { heap_.push_unordered(e); }
  void restore() { heap_.restore(); }

  /// Takes out the live entry with the largest loss.
  std::optional<Entry> pop_live() {
    while (!heap_.empty()) {
      const Entry e = heap_.top();
      heap_.pop();
      if (live(e)) return e;
    }
    return std::nullopt;
  }
  /// The largest loss of a live entry (superseded ones on top are dropped).
  std::optional<double> max_live_loss() {
    while (!heap_.empty() && !live(heap_.top())) heap_.pop();
    if (heap_.empty()) return std::nullopt;
    return heap_.top().loss;
  }

 private:
  static bool live(const Entry& e) { return StampOf{}(e.simplex) == e.stamp; }

  struct Lower {
    bool operator()(const Entry& a, const Entry& b) const noexcept {
      if (a.loss != b.loss) return a.loss < b.loss;
      if (a.key != b.key) return a.key > b.key;
      return a.stamp > b.stamp;
    }
  };
  CacheAlignedHeap<Entry, Lower> heap_;
};

}  // namespace taskmaster::detail
