#pragma once
// The live view's worker buttons reach the run's master through this: the
// page's server starts before the master exists and outlives it.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>

namespace taskmaster::cli {

/// Adds or releases workers of the master attached at the moment, from any
/// thread (the masters that can change their workers allow it from any
/// thread).
///
/// @code
/// taskmaster::cli::WorkerControl control;
/// {
///   const taskmaster::cli::WorkerControl::Attachment attached(control, master);
///   control.change(+2);  // the master's capacity, two more
/// }
/// control.change(1);     // std::nullopt: no master now
/// @endcode
class WorkerControl {
 public:
  /// Attaches a master for its own lifetime, if the master can change its
  /// workers during a run.
  class Attachment {
   public:
    template <class M>
    Attachment(WorkerControl& control, M& master) : control_(control) {
      if constexpr (requires {
                      master.add_workers(std::size_t{1});
                      master.release_workers(std::size_t{1});
                      { master.capacity() } -> std::convertible_to<std::size_t>;
                    }) {
        control_.attach([&master](long change) {
          const std::size_t now = master.capacity();
          if (change > 0) {
            master.add_workers(static_cast<std::size_t>(change));
          } else {
            // One worker stays: a run without any waits for ever.
            const auto fewer =
                std::min(static_cast<std::size_t>(-change), now - std::min<std::size_t>(now, 1));
            if (fewer > 0) master.release_workers(fewer);
          }
          return master.capacity();
        });
      }
    }
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;
    ~Attachment() { control_.attach(nullptr); }

   private:
    WorkerControl& control_;
  };

  /// `change` more workers (fewer when negative, down to one); the
  /// master's capacity afterwards, or nothing when no master is attached.
  std::optional<std::size_t> change(long change) {
    std::lock_guard lock(mutex_);
    if (!change_) return std::nullopt;
    return change_(change);
  }

 private:
  void attach(std::function<std::size_t(long)> change) {
    std::lock_guard lock(mutex_);
    change_ = std::move(change);
  }

  std::mutex mutex_;
  std::function<std::size_t(long)> change_;
};

}  // namespace taskmaster::cli
