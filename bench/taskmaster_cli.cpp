// taskmaster_cli: does the taskmaster command add overhead over the library?
//
//   taskmaster_cli           full run; exits 1 if the target is missed
//   taskmaster_cli --quick   small sizes, for smoke runs; always exits 0
//   taskmaster_cli --json    one JSON object per line instead of a table
//
// Both sides learn f(x) = x + exp(-(x-0.3)^2/0.01) on [-1, 1] with Learner1D
// and two Python workers (examples/workers/python_worker.py, which answers at
// once), streaming the history to a file: the library through StdioMaster
// and evaluate() in this process, the tool as `taskmaster run --worker ...`
// in a child process, timed from spawn to exit. Every figure is the median of
// 3 repetitions. See bench/README.md.

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "report.hpp"
#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

extern char** environ;

namespace {

namespace tk = taskmaster;
using Clock = std::chrono::steady_clock;

constexpr int repetitions = 3;
constexpr std::size_t workers = 2;
const std::string tool = TASKMASTER_CLI_PATH;
const std::string worker_script = std::string(TASKMASTER_EXAMPLE_WORKERS_DIR) + "/python_worker.py";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double library_run(std::uint64_t points, const std::filesystem::path& history) {
  const auto start = Clock::now();
  tk::StdioMaster<double, double> master({"/usr/bin/python3", worker_script}, {.workers = workers});
  tk::Learner1D<double> learner(-1.0, 1.0);
  tk::evaluate(master, learner, tk::stop::points(points),
               {.history_file = history, .keep_history = false});
  return seconds_since(start);
}

double tool_run(std::uint64_t points, const std::filesystem::path& history) {
  std::vector<std::string> args{tool,        "run",
                                "--bounds",  "-1,1",
                                "--goal",    fmt::format("npoints={}", points),
                                "-j",        std::to_string(workers),
                                "--quiet",   "--overwrite",
                                "--history", history.string(),
                                "--worker",  "/usr/bin/python3 " + worker_script};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, tool.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + tool);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const double seconds = seconds_since(start);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(fmt::format("{} failed with status {}", tool, status));
  }
  return seconds;
}

template <class F>
double median_rate(std::uint64_t points, F&& run) {
  std::vector<double> rates;
  for (int i = 0; i < repetitions; ++i) {
    const auto history = std::filesystem::temp_directory_path() /
                         fmt::format("taskmaster-cli-bench-{}.jsonl", ::getpid());
    std::filesystem::remove(history);
    rates.push_back(static_cast<double>(points) / run(points, history));
    std::filesystem::remove(history);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(argc, argv,
                       {.program = "taskmaster_cli", .layout = bench::ParameterLayout::grouped});
  const std::uint64_t points = report.quick() ? 1'000 : 20'000;
  const double library = median_rate(points, library_run);
  const double command = median_rate(points, tool_run);
  const nlohmann::json parameters{{"points", points},
                                  {"workers", workers},
                                  {"learner", "Learner1D"},
                                  {"worker", "python_worker.py"}};
  report.heading("Learner1D, {} points, {} Python workers, history on disk (median of {})", points,
                 workers, repetitions);
  report.add({.name = "library_stdio_master",
              .value = library,
              .unit = "points/s",
              .parameters = parameters,
              .note = "library (StdioMaster + evaluate)"});
  report.add({.name = "taskmaster_run_worker",
              .value = command,
              .unit = "points/s",
              .parameters = parameters,
              .note = "taskmaster run --worker"});
  report.add({.name = "tool_over_library",
              .value = command / library,
              .unit = "ratio",
              .parameters = parameters,
              .target = 0.9,
              .note = "tool / library"});
  return report.exit_status();
}
