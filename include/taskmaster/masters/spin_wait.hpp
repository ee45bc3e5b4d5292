#pragma once
// Waiting that polls briefly before it sleeps, for the in-process masters.

#include <chrono>
#include <thread>

namespace taskmaster::detail {

/// Polls `ready` for up to `spin_time` before the caller goes to sleep: a
/// hand-over between threads then costs well under a microsecond instead of
/// a scheduler wake-up. The time bound (not an iteration count) keeps idle
/// threads from taking the cores from threads doing real work when there
/// are more threads than cores.
///
/// @code
/// taskmaster::detail::spin_until([&] { return ready.load(); }, std::chrono::microseconds(50));
/// @endcode
template <class Ready>
void spin_until(Ready ready, std::chrono::microseconds spin_time) {
  const auto deadline = std::chrono::steady_clock::now() + spin_time;
  for (unsigned i = 1;; ++i) {
    if (ready()) return;
    if (i % 64 == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return;
      std::this_thread::yield();
    }
  }
}

}  // namespace taskmaster::detail
