#include <poll.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/masters/slurm_master.hpp"

namespace taskmaster::detail {

CommandOutcome run_to_end(const std::vector<std::string>& argv) {
  CommandOutcome outcome;
  try {
    auto child = subprocess::Child::spawn({.argv = argv});
    bool out_open = true;
    bool err_open = true;
    while (out_open || err_open) {
      pollfd fds[2] = {{child.stdout_fd(), POLLIN, 0}, {child.stderr_fd(), POLLIN, 0}};
      ::poll(fds, 2, 1000);
      if (out_open &&
          subprocess::Child::read_available(child.stdout_fd(), outcome.out, 1 << 24) == 0)
        out_open = false;
      if (err_open &&
          subprocess::Child::read_available(child.stderr_fd(), outcome.err, 1 << 20) == 0)
        err_open = false;
    }
    const int status = child.wait();
    outcome.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } catch (const std::exception& e) {
    outcome.err = e.what();
  }
  return outcome;
}

}  // namespace taskmaster::detail
