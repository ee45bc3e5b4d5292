#include "taskmaster/detail/child_streams.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace taskmaster::detail {

ChildClock::time_point deadline_after(ChildClock::time_point start,
                                      std::optional<double> seconds) noexcept {
  if (!seconds) return ChildClock::time_point::max();
  return start +
         std::chrono::duration_cast<ChildClock::duration>(std::chrono::duration<double>(*seconds));
}

int poll_until(std::vector<pollfd>& fds, ChildClock::time_point wake) {
  if (wake == ChildClock::time_point::max()) return ::poll(fds.data(), fds.size(), -1);
  // ppoll, not poll: a timeout in whole milliseconds would wake up to a
  // millisecond late, after the reply that WorkerPool's anticipation wants
  // to be awake for.
  const auto left = std::clamp<ChildClock::duration>(
      wake - ChildClock::now(), ChildClock::duration::zero(), std::chrono::minutes(1));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(left);
  const timespec timeout{
      .tv_sec = static_cast<time_t>(seconds.count()),
      .tv_nsec = static_cast<long>(std::chrono::nanoseconds(left - seconds).count())};
  return ::ppoll(fds.data(), fds.size(), &timeout, nullptr);
}

void StderrCapture::read(subprocess::Child& child) {
  std::string chunk;
  const long n = subprocess::Child::read_available(child.stderr_fd(), chunk, 1 << 16);
  if (n == 0) child.close_stderr();
  tail_.append(chunk);
}

void StderrCapture::drain(subprocess::Child& child) {
  for (int i = 0; i < 64 && child.stderr_fd() >= 0; ++i) {
    std::string chunk;
    const long n = subprocess::Child::read_available(child.stderr_fd(), chunk, 1 << 16);
    tail_.append(chunk);
    if (n <= 0) break;
  }
}

std::string StderrCapture::annotate(std::string reason) const {
  const std::string tail = tail_.text();
  if (!tail.empty()) reason += fmt::format("; stderr: {}", tail);
  return reason;
}

}  // namespace taskmaster::detail
