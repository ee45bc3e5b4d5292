// child_keeper command|workers MARKER [WORKER_SCRIPT]
//
// Keeps two programs busy for a minute through a CommandMaster (one process
// per task) or a StdioMaster (WORKER_SCRIPT, a Python worker), each program
// with a child of its own; MARKER is on all their command lines. Prints
// "busy" once both tasks are out, then waits for them. test_child_guard
// kills it with SIGKILL, which no destructor survives, and looks for what
// is left.

#include <cstdio>
#include <string>

#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"

namespace {

template <class M>
int keep_busy(M& master) {
  master.submit({0, 0.0});
  master.submit({1, 1.0});
  std::puts("busy");
  std::fflush(stdout);
  (void)master.next();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: child_keeper command|workers MARKER [WORKER_SCRIPT]\n", stderr);
    return 2;
  }
  const std::string mode = argv[1];
  const std::string marker = argv[2];
  if (mode == "command") {
    taskmaster::CommandMaster<double, double> master(
        {"/usr/bin/python3", "-c",
         "import subprocess, sys; subprocess.run(['/usr/bin/python3', '-c', "
         "'import time; time.sleep(60)', sys.argv[1]]); print(1)",
         marker},
        {.workers = 2});
    return keep_busy(master);
  }
  if (mode == "workers" && argc == 4) {
    taskmaster::StdioMaster<double, double> master({"/usr/bin/python3", argv[3], marker},
                                                   {.workers = 2});
    return keep_busy(master);
  }
  return 2;
}
