// SlurmMaster: time from ask to told for one trivial job, and the throughput
// of 100 trivial tasks, on a running cluster (scripts/slurm-cluster.sh start
// DIR; export SLURM_CONF=DIR/slurm.conf; it advertises 16 CPUs).
//
//   slurm_master [--quick] [--json]

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "report.hpp"
#include "taskmaster/masters/slurm_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

double run(std::size_t tasks, std::size_t max_jobs, const std::filesystem::path& dir) {
  std::vector<double> xs;
  for (std::size_t i = 0; i < tasks; ++i) xs.push_back(static_cast<double>(i));
  taskmaster::SequenceLearner<double, double> learner(xs);
  taskmaster::SlurmMaster<double, double> master(
      {"/bin/echo", "{x}"}, {.max_jobs = max_jobs, .work_directory = dir, .poll_interval = 0.05});
  const auto start = std::chrono::steady_clock::now();
  auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::exhausted());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (summary.progress.told != tasks)
    throw std::runtime_error(fmt::format("only {} of {} told", summary.progress.told, tasks));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(argc, argv, {.program = "slurm_master"});
  const auto dir = std::filesystem::temp_directory_path() / "taskmaster-slurm-bench";
  std::filesystem::remove_all(dir);
  const double one = run(1, 1, dir / "one");
  report.add({.name = "slurm_ask_to_told",
              .value = one,
              .unit = "s",
              .parameters = {{"tasks", 1}},
              .note = "one trivial job, submit to result"});
  const std::size_t n = report.quick() ? 20 : 100;
  const double many = run(n, n, dir / "many");
  report.add({.name = "slurm_trivial_tasks",
              .value = static_cast<double>(n) / many,
              .unit = "tasks/s",
              .parameters = {{"tasks", n}, {"max_jobs", n}},
              .note = fmt::format(
                  "{} trivial tasks in {:.1f} s (SLURM's own scheduling: about 6 s for 100 jobs)",
                  n, many)});
  std::filesystem::remove_all(dir);
  return 0;
}
