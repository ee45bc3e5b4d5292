#pragma once
// Watching the pipes of the children an out-of-process master runs: one
// poll(2) over all of them that wakes at the earliest deadline, and the end
// of each child's stderr for error messages.

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "taskmaster/detail/subprocess.hpp"

namespace taskmaster::detail {

using ChildClock = std::chrono::steady_clock;

/// `start` plus `seconds`, or never when there is no limit.
ChildClock::time_point deadline_after(ChildClock::time_point start,
                                      std::optional<double> seconds) noexcept;

/// Waits until one of `fds` is ready or `wake` has come, but never longer
/// than a minute at a time (a clock change or a lost wake-up costs at most
/// that). Returns poll(2)'s count of ready descriptors.
int poll_until(std::vector<pollfd>& fds, ChildClock::time_point wake);

/// One poll over the pipes of several children; each descriptor carries
/// what it belongs to (`Owner`), handed back when it is ready.
///
/// @code
/// detail::PollSet<int> set;
/// set.watch(child.stdout_fd(), POLLIN, 0);
/// set.wake_by(deadline);
/// set.wait([&](int stream) { /* read stream 0 */ });
/// @endcode
template <class Owner>
class PollSet {
 public:
  /// Wakes when `fd` is ready for `events`; a closed descriptor (< 0) is left out.
  void watch(int fd, short events, Owner owner) {
    if (fd < 0) return;
    fds_.push_back({fd, events, 0});
    owners_.push_back(std::move(owner));
  }
  /// Wakes no later than `deadline`.
  void wake_by(ChildClock::time_point deadline) noexcept { wake_ = std::min(wake_, deadline); }

  /// Waits, then calls `on_ready(owner)` for each ready descriptor, in the
  /// order they were watched.
  template <class OnReady>
  void wait(OnReady&& on_ready) {
    if (poll_until(fds_, wake_) <= 0) return;
    for (std::size_t k = 0; k < fds_.size(); ++k) {
      if (fds_[k].revents != 0) on_ready(owners_[k]);
    }
  }

 private:
  std::vector<pollfd> fds_;
  std::vector<Owner> owners_;
  ChildClock::time_point wake_ = ChildClock::time_point::max();
};

/// The end of a child's stderr, read as it comes.
///
/// @code
/// detail::StderrCapture err(2048);
/// err.read(child);                        // when poll says its stderr is readable
/// err.drain(child);                       // once it has ended
/// std::string why = err.annotate("exited with status 3");
/// @endcode
class StderrCapture {
 public:
  explicit StderrCapture(std::size_t tail_bytes = 2048) : tail_(tail_bytes) {}

  /// Reads what is there now; closes the pipe at its end.
  void read(subprocess::Child& child);
  /// Reads what is left after the child ended, never waiting: something it
  /// started may still hold the pipe open.
  void drain(subprocess::Child& child);
  /// `reason`, followed by "; stderr: " and the end of stderr when there is one.
  [[nodiscard]] std::string annotate(std::string reason) const;

 private:
  subprocess::Tail tail_;
};

}  // namespace taskmaster::detail
