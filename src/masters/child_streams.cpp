#include "taskmaster/detail/child_streams.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace taskmaster::detail {

ChildClock::time_point deadline_after(ChildClock::time_point start,
                                      std::optional<double> seconds) noexcept {
  if (!seconds) return ChildClock::time_point::max();
  return start +
         std::chrono::duration_cast<ChildClock::duration>(std::chrono::duration<double>(*seconds));
}

int poll_until(std::vector<pollfd>& fds, ChildClock::time_point wake) {
  int timeout_ms = -1;
  if (wake != ChildClock::time_point::max()) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(wake - ChildClock::now()).count();
    timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
  }
  return ::poll(fds.data(), fds.size(), timeout_ms);
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
