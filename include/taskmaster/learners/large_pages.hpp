#pragma once
// Memory for a learner's large arrays, in 2 MiB pages where the system offers
// them. Private to the library.
//
// A learner's first run in a fresh process gets every page of its arrays from
// the kernel, one page fault per 4 KiB page touched (and a growing array
// touches its storage twice: once filling it, once copying it into the next,
// larger one). On a virtual machine a fault costs microseconds, so at 1e5
// points a Learner1D spent about a quarter of its first run in the kernel.
// Arrays of 1 MiB and more are mapped here on 2 MiB boundaries and marked for
// transparent huge pages: one fault per 2 MiB instead of 512. Smaller arrays,
// and systems without madvise, take the ordinary allocator.

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace taskmaster::detail {

inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

/// `bytes` of storage aligned to `alignment`: mapped in huge pages from 1 MiB
/// up, from operator new below.
inline void* allocate_large(std::size_t bytes, std::size_t alignment) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= huge_page_bytes / 2 && alignment <= huge_page_bytes) {
    const std::size_t rounded = (bytes + huge_page_bytes - 1) & ~(huge_page_bytes - 1);
    // Map one huge page more than needed and cut the ends off, so that the
    // block starts on a 2 MiB boundary (the kernel backs only aligned 2 MiB
    // ranges with huge pages).
    void* mapped = mmap(nullptr, rounded + huge_page_bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t aligned = (start + huge_page_bytes - 1) & ~(huge_page_bytes - 1);
    if (aligned > start) munmap(mapped, aligned - start);
    const std::uintptr_t tail = aligned + rounded;
    const std::uintptr_t end = start + rounded + huge_page_bytes;
    if (end > tail) munmap(reinterpret_cast<void*>(tail), end - tail);
    void* block = reinterpret_cast<void*>(aligned);
    madvise(block, rounded, MADV_HUGEPAGE);  // a hint: without it, ordinary pages
    return block;
  }
#endif
  return ::operator new (bytes, std::align_val_t{alignment});
}

/// Gives back what `allocate_large(bytes, alignment)` returned.
inline void deallocate_large(void* block, std::size_t bytes, std::size_t alignment) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= huge_page_bytes / 2 && alignment <= huge_page_bytes) {
    munmap(block, (bytes + huge_page_bytes - 1) & ~(huge_page_bytes - 1));
    return;
  }
#endif
  ::operator delete (block, bytes, std::align_val_t{alignment});
}

/// From this size on, an array that grows point by point jumps to a whole
/// huge page (see `reserve_growing`).
inline constexpr std::size_t early_huge_page_bytes = std::size_t{64} << 10;

/// Makes room in `v`, a vector over allocate_large's storage, for `more`
/// elements. Once the array has outgrown 64 KiB it skips the doublings up to
/// 1 MiB and goes straight to one 2 MiB huge page: in a fresh process each of
/// those doublings faults its new storage in 4 KiB at a time, copying into it,
/// where the huge page costs one fault. The price is up to 2 MiB of memory for
/// an array of 64 KiB to 1 MiB.
template <class Vector>
void reserve_growing(Vector& v, std::size_t more = 1) {
  using T = typename Vector::value_type;
  const std::size_t needed = v.size() + more;
  if (needed <= v.capacity()) return;
  if (v.capacity() * sizeof(T) >= early_huge_page_bytes && needed * sizeof(T) <= huge_page_bytes)
    v.reserve(huge_page_bytes / sizeof(T));
}

/// A std::vector allocator over allocate_large, for arrays that grow with
/// the number of points.
template <class T>
struct LargePageAllocator {
  using value_type = T;

  LargePageAllocator() = default;
  template <class U>
  explicit LargePageAllocator(const LargePageAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { deallocate_large(p, n * sizeof(T), alignof(T)); }
  template <class U>
  bool operator==(const LargePageAllocator<U>&) const noexcept {
    return true;
  }
};

/// The same as a memory resource: the upstream of a pool whose chunks grow
/// with the number of points.
class LargePageResource final : public std::pmr::memory_resource {
 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    return allocate_large(bytes, alignment);
  }
  void do_deallocate(void* block, std::size_t bytes, std::size_t alignment) override {
    deallocate_large(block, bytes, alignment);
  }
  [[nodiscard]] bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

/// The one LargePageResource of the process.
inline std::pmr::memory_resource* large_page_resource() {
  // Never destroyed: a learner in a static may give memory back after exit.
  static auto* const resource = new LargePageResource;
  return resource;
}

}  // namespace taskmaster::detail
