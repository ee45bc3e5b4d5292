// killable_run HISTORY_FILE N [resume]
//
// Runs GapLearner on a ThreadMaster<double, double> with 2 workers until N
// points were asked, streaming the history to HISTORY_FILE. With `resume`,
// continues the run recorded in HISTORY_FILE instead (N points in the whole
// run). Prints "told <count>" when it ends. test_resume kills it with SIGKILL
// in the middle of a run and resumes what it left.

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "support/gap_learner.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

double slow_function(const double& x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::sin(10.0 * x);
}

int usage() {
  std::fputs("usage: killable_run HISTORY_FILE N [resume]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) return usage();
  const std::string file = argv[1];
  std::uint64_t n = 0;
  try {
    n = std::stoull(argv[2]);
  } catch (const std::exception&) {
    return usage();
  }
  const bool resuming = argc == 4;
  if (resuming && std::string(argv[3]) != "resume") return usage();

  try {
    taskmaster::ThreadMaster<double, double> master(slow_function, 2);
    taskmaster::test_support::GapLearner learner;
    const auto summary =
        resuming ? taskmaster::resume(file, master, learner, taskmaster::stop::points(n),
                                      {.keep_history = false})
                 : taskmaster::evaluate(master, learner, taskmaster::stop::points(n),
                                        {.history_file = file, .keep_history = false});
    fmt::print("told {}\n", summary.progress.told);
    std::fflush(stdout);
  } catch (const std::exception& e) {
    fmt::print(stderr, "killable_run: {}\n", e.what());
    return 1;
  }
  return 0;
}
