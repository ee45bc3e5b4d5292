#pragma once
// A 4-ary max-heap whose sibling groups each fill two adjacent cache lines.
// Private to the library.

#include <cstddef>
#include <new>
#include <utility>
#include <vector>

#include "taskmaster/learners/large_pages.hpp"

namespace taskmaster::detail {

/// Allocates on `Alignment`-byte boundaries; from 1 MiB up in 2 MiB pages
/// (large_pages.hpp), so that a heap growing with the number of points costs
/// one page fault per 2 MiB instead of one per 4 KiB.
template <class T, std::size_t Alignment>
struct AlignedAllocator {
  using value_type = T;
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Alignment>;
  };

  AlignedAllocator() = default;
  template <class U>
  explicit AlignedAllocator(const AlignedAllocator<U, Alignment>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T), Alignment)); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_large(p, n * sizeof(T), Alignment); }
  template <class U>
  bool operator==(const AlignedAllocator<U, Alignment>&) const noexcept {
    return true;
  }
};

/// A max-heap (the largest element by `Less` on top) of 32-byte elements.
///
/// Taking the top moves an element down through every level, reading all
/// children of a node at each; below the few levels that stay cached each
/// read misses. With four children per node there are half as many levels
/// as in a binary heap, and the storage is laid out so that the four
/// children of a node sit in one aligned 128-byte block (two adjacent cache
/// lines, which the hardware tends to fetch together). Which element is on
/// top is the same as with std::priority_queue: only the layout differs.
///
/// @code
/// CacheAlignedHeap<Entry, Lower> heap;
/// heap.push(e);
/// Entry best = heap.top();
/// heap.pop();
/// @endcode
template <class T, class Less>
class CacheAlignedHeap {
  static constexpr std::size_t arity = 4;
  static constexpr std::size_t block = arity * sizeof(T);
  // Element i lives at items_[i + offset]: its children 4i + 1 .. 4i + 4 then
  // start at index 4(i + 1), a multiple of 4, i.e. on a block boundary.
  static constexpr std::size_t offset = arity - 1;
  static_assert(sizeof(T) == 32, "a block of four elements is two cache lines");

 public:
  CacheAlignedHeap() : items_(offset) {}

  [[nodiscard]] bool empty() const noexcept { return items_.size() == offset; }
  [[nodiscard]] std::size_t size() const noexcept { return items_.size() - offset; }
  [[nodiscard]] const T& top() const noexcept { return items_[offset]; }

  void push(const T& item) {
    reserve_growing(items_);
    items_.push_back(item);
    sift_up(size() - 1);
  }
  void pop() {
    if (size() > 1) at(0) = std::move(items_.back());
    items_.pop_back();
    if (size() > 1) sift_down(0);
  }
  void clear() { items_.resize(offset); }
  /// Adds an element without ordering; call `restore()` before the next use.
  void push_unordered(const T& item) { items_.push_back(item); }
  void restore() {
    if (size() < 2) return;
    for (std::size_t i = (size() - 2) / arity + 1; i-- > 0;) sift_down(i);
  }

 private:
  T& at(std::size_t i) noexcept { return items_[i + offset]; }

  void sift_up(std::size_t i) {
    T item = std::move(at(i));
    while (i > 0) {
      const std::size_t parent = (i - 1) / arity;
      if (!Less{}(at(parent), item)) break;
      at(i) = std::move(at(parent));
      i = parent;
    }
    at(i) = std::move(item);
  }

  void sift_down(std::size_t i) {
    const std::size_t n = size();
    T item = std::move(at(i));
    while (true) {
      const std::size_t first = arity * i + 1;
      if (first >= n) break;
      const std::size_t last = first + arity < n ? first + arity : n;
      std::size_t best = first;
      for (std::size_t c = first + 1; c < last; ++c) {
        if (Less{}(at(best), at(c))) best = c;
      }
      if (!Less{}(item, at(best))) break;
      at(i) = std::move(at(best));
      i = best;
    }
    at(i) = std::move(item);
  }

  std::vector<T, AlignedAllocator<T, block>> items_;  // the first `offset` are unused
};

}  // namespace taskmaster::detail
