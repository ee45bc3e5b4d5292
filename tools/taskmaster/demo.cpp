#include "demo.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <filesystem>

#include "history_commands.hpp"
#include "run.hpp"

namespace taskmaster::cli {

std::string demo_worker_path() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    candidates.push_back(self.parent_path() / "demo_worker.py");
    candidates.push_back(self.parent_path().parent_path() / "share" / "taskmaster" /
                         "demo_worker.py");
  }
#ifdef TASKMASTER_DEMO_WORKER_SOURCE
  candidates.emplace_back(TASKMASTER_DEMO_WORKER_SOURCE);
#endif
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c, ec)) return c.string();
  }
  throw std::runtime_error(
      "cannot find the demo's worker, demo_worker.py, next to the taskmaster "
      "executable or in ../share/taskmaster");
}

int demo_command(const DemoOptions& options) {
  RunRequest request;
  RunConfig& c = request.config;
  c.learner = "2d";
  c.bounds = {{-1.0, 1.0}, {-1.0, 1.0}};
  c.worker = {"/usr/bin/python3", demo_worker_path()};
  c.workers = options.workers;
  c.retries = 1;
  c.timeout = 30;
  for (const auto& g : options.goals.empty()
                           ? std::vector<std::string>{"npoints=2000", "duration=45s"}
                           : options.goals) {
    c.goals.push_back(Goal::parse(g));
  }
  c.validate();
  request.history = options.history;
  request.plot = options.plot;
  request.quiet = options.quiet;
  fmt::print(stderr,
             "taskmaster demo: learning f(x, y) on [-1, 1] x [-1, 1] (a ring-shaped ridge and a "
             "sharp step) with {} Python workers, until {}\n",
             c.workers, c.stop_condition().describe());
  const RunOutcome outcome = execute_run(request);
  if (outcome.status != 0) return outcome.status;
  fmt::print(stderr, "taskmaster demo: replaying {} through a fresh learner...\n",
             request.history.string());
  std::fflush(stderr);
  const int replayed = replay_command(request.history);
  if (replayed == 0) {
    fmt::print(stderr,
               "taskmaster demo: the run is exactly reproducible. Look at {}; try 'taskmaster info "
               "{}' and 'taskmaster export {}'.\n",
               options.plot, request.history.string(), request.history.string());
  }
  return replayed;
}

}  // namespace taskmaster::cli
