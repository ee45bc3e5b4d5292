#include <poll.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <vector>

#include "taskmaster/detail/child_streams.hpp"
#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/masters/slurm_master.hpp"

namespace taskmaster::detail {

CommandOutcome run_to_end(const std::vector<std::string>& argv) {
  CommandOutcome outcome;
  try {
    auto child = subprocess::Child::spawn({.argv = argv});
    enum class Stream { out, err };
    while (child.stdout_fd() >= 0 || child.stderr_fd() >= 0) {
      PollSet<Stream> watched;
      watched.watch(child.stdout_fd(), POLLIN, Stream::out);
      watched.watch(child.stderr_fd(), POLLIN, Stream::err);
      // A second at most between two looks, as a guard against a lost wake-up.
      watched.wake_by(ChildClock::now() + std::chrono::seconds(1));
      watched.wait([&](Stream stream) {
        if (stream == Stream::out) {
          if (subprocess::Child::read_available(child.stdout_fd(), outcome.out, 1 << 24) == 0)
            child.close_stdout();
        } else if (subprocess::Child::read_available(child.stderr_fd(), outcome.err, 1 << 20) ==
                   0) {
          child.close_stderr();
        }
      });
    }
    const int status = child.wait();
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } catch (const std::exception& e) {
    outcome.err = e.what();
  }
  return outcome;
}

}  // namespace taskmaster::detail
