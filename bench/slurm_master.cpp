// SlurmMaster: time from ask to told for one trivial job, and the throughput
// of 100 trivial tasks, on a running cluster (scripts/slurm-cluster.sh start
// DIR; export SLURM_CONF=DIR/slurm.conf; it advertises 16 CPUs).
//
//   slurm_master [--quick] [--json]

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "taskmaster/masters/slurm_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

bool json = false;

void report(const std::string& name, double value, const std::string& unit, nlohmann::json params,
            const std::string& note) {
  if (json) {
    params["name"] = name;
    params["value"] = value;
    params["unit"] = unit;
    fmt::print("{}\n", params.dump());
  } else {
    fmt::print("{:<28} {:>10.3f} {:<8} {}\n", name, value, unit, note);
  }
}

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
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    quick |= arg == "--quick";
    json |= arg == "--json";
  }
  const auto dir = std::filesystem::temp_directory_path() / "taskmaster-slurm-bench";
  std::filesystem::remove_all(dir);
  const double one = run(1, 1, dir / "one");
  report("slurm_ask_to_told", one, "s", {{"tasks", 1}}, "one trivial job, submit to result");
  const std::size_t n = quick ? 20 : 100;
  const double many = run(n, n, dir / "many");
  report(
      "slurm_trivial_tasks", static_cast<double>(n) / many, "tasks/s",
      {{"tasks", n}, {"max_jobs", n}},
      fmt::format("{} trivial tasks in {:.1f} s (SLURM's own scheduling: about 6 s for 100 jobs)",
                  n, many));
  std::filesystem::remove_all(dir);
  return 0;
}
