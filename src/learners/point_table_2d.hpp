#pragma once
// A hash table from exact 2D points to small records, stored flat.
// Private to the library.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "taskmaster/learners/large_pages.hpp"
#include "taskmaster/learners/learner_2d_losses.hpp"

namespace taskmaster::detail {

/// Open addressing with linear probing: a lookup reads one or two adjacent
/// slots of one array, where a node-based map (std::unordered_map) reads a
/// bucket and then a node elsewhere. At a million points neither is in the
/// caches, so the flat table saves a cache miss per lookup. Keys are compared
/// bit for bit (callers turn -0.0 into 0.0 and never store NaN).
///
/// @code
/// PointTable2D<int> table;
/// table.try_emplace({0.5, 0.25}, 7);
/// int* seven = table.find({0.5, 0.25});
/// @endcode
template <class V>
class PointTable2D {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  [[nodiscard]] V* find(const Point2& p) noexcept {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = home(p);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == p) return &s.value;
    }
  }
  [[nodiscard]] const V* find(const Point2& p) const noexcept {
    return const_cast<PointTable2D*>(this)->find(p);
  }
  [[nodiscard]] bool contains(const Point2& p) const noexcept { return find(p) != nullptr; }

  /// The value at p, inserting `value` first if p is absent; `second` tells
  /// whether it was inserted. The pointer stays valid until the next insertion.
  std::pair<V*, bool> try_emplace(const Point2& p, const V& value) {
    if (2 * (size_ + 1) > slots_.size()) rehash(grown_capacity());
    for (std::size_t i = home(p);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (!s.used) {
        s = Slot{p, value, true};
        ++size_;
        return {&s.value, true};
      }
      if (s.key == p) return {&s.value, false};
    }
  }

  /// Calls f(point, value) for every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.used) f(s.key, s.value);
    }
  }

  /// Removes every entry for which drop(point, value) is true.
  template <class Drop>
  void erase_if(Drop&& drop) {
    std::vector<Slot> kept;
    for (const Slot& s : slots_) {
      if (s.used && !drop(s.key, s.value)) kept.push_back(s);
    }
    for (Slot& s : slots_) s.used = false;
    size_ = 0;
    for (const Slot& s : kept) try_emplace(s.key, s.value);
  }

 private:
  struct Slot {
    Point2 key{};
    V value{};
    bool used = false;
  };

  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  [[nodiscard]] std::size_t home(const Point2& p) const noexcept {
    // Fibonacci hashing of both coordinates' bits: the top bits of the
    // product depend on all input bits.
    std::uint64_t h = std::bit_cast<std::uint64_t>(p[0]) * 0x9E3779B97F4A7C15ULL;
    h ^= std::bit_cast<std::uint64_t>(p[1]) + (h >> 29);
    h *= 0xBF58476D1CE4E5B9ULL;
    return static_cast<std::size_t>(h >> (64 - std::countr_zero(slots_.size())));
  }
  [[nodiscard]] std::size_t grown_capacity() const noexcept {
    if (slots_.empty()) return 16;
    // From 64 KiB on, straight to a 2 MiB huge page (see reserve_growing).
    const std::size_t huge = std::bit_floor(huge_page_bytes / sizeof(Slot));
    if (slots_.size() * sizeof(Slot) >= early_huge_page_bytes && 2 * slots_.size() < huge)
      return huge;
    return 2 * slots_.size();
  }
  void rehash(std::size_t capacity) {
    Slots old(capacity);
    old.swap(slots_);
    size_ = 0;
    for (const Slot& s : old) {
      if (s.used) try_emplace(s.key, s.value);
    }
  }

  // In 2 MiB pages once large: the table is rebuilt at every doubling, and
  // each rebuild would otherwise fault in its new array page by page.
  using Slots = std::vector<Slot, LargePageAllocator<Slot>>;
  Slots slots_;  // a power of two, at most half full
  std::size_t size_ = 0;
};

}  // namespace taskmaster::detail
