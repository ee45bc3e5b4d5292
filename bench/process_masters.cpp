// process_masters: throughput and utilization of the out-of-process masters.
//
//   process_masters           full run; exits 1 if a target is missed
//   process_masters --quick   small sizes, for smoke runs; always exits 0
//   process_masters --json    one JSON object per line instead of a table
//
// The program is also its own ProcessMaster worker and its own CommandMaster
// program (see main). Every figure is the median of 3 repetitions. See
// bench/README.md.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "report.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/process_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

namespace tk = taskmaster;
using Clock = std::chrono::steady_clock;

constexpr int repetitions = 3;
constexpr double task_seconds = 0.010;

const std::string python = "/usr/bin/python3";
const std::string workers_dir = TASKMASTER_EXAMPLE_WORKERS_DIR;

struct Sizes {
  std::int64_t process = 200'000;
  std::int64_t stdio = 50'000;
  std::int64_t command = 2'000;
  std::int64_t utilization = 300;
};
constexpr Sizes quick_sizes{5'000, 2'000, 100, 20};

/// One master's measurement, before it becomes a bench::Figure.
struct Measurement {
  std::string name;
  std::string description;
  double value = 0.0;
  double min = 0.0;
  double max = 0.0;
  std::string unit;
  std::int64_t tasks = 0;
  int workers = 2;
  std::optional<double> target{};
};

template <class F>
void measure(Measurement& figure, F&& once) {
  std::vector<double> samples;
  for (int i = 0; i < repetitions; ++i) samples.push_back(once());
  std::sort(samples.begin(), samples.end());
  figure.value = samples[samples.size() / 2];
  figure.min = samples.front();
  figure.max = samples.back();
}

tk::IgnorantLearner<double, double> counting_learner(std::int64_t n) {
  return tk::IgnorantLearner<double, double>(
      [i = std::int64_t{0}, n]() mutable -> std::optional<double> {
        if (i == n) return std::nullopt;
        return static_cast<double>(i++);
      });
}

/// Runs `n` tasks; returns the summary after checking every one was told.
template <class M>
tk::RunSummary<double, double> run(M& master, std::int64_t n, const char* what) {
  auto learner = counting_learner(n);
  auto summary = tk::evaluate(master, learner, tk::stop::exhausted(), {.keep_history = false});
  if (summary.progress.told != static_cast<std::uint64_t>(n)) {
    throw std::runtime_error(
        fmt::format("{}: told {} of {} ({})", what, summary.progress.told, n, summary.reason));
  }
  return summary;
}

template <class M>
double tasks_per_second(M& master, std::int64_t n, const char* what) {
  const auto start = Clock::now();
  run(master, n, what);
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

/// Where the time of a task is measured.
enum class Inside {
  task,    ///< by the task itself, which returns it as y
  master,  ///< by the master, from handing the task over to getting the result
};

/// Summed seconds inside the tasks over workers x wall time.
template <class M>
double utilization(M& master, std::int64_t n, int workers, const char* what,
                   Inside inside_is = Inside::task) {
  auto learner = counting_learner(n);
  double inside = 0;
  tk::RunOptions<double, double> options{.keep_history = false};
  options.hook = [&](const tk::HistoryEvent<double, double>& e, const tk::Progress&) {
    if (e.kind == tk::EventKind::tell) inside += inside_is == Inside::task ? *e.y : e.duration;
  };
  const auto start = Clock::now();
  auto summary = tk::evaluate(master, learner, tk::stop::exhausted(), options);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (summary.progress.told != static_cast<std::uint64_t>(n)) {
    throw std::runtime_error(fmt::format("{}: told {} of {}", what, summary.progress.told, n));
  }
  return inside / (workers * wall);
}

/// Spends `task_seconds` and returns the time it measured.
double ten_ms_task(double) {
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(task_seconds));
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string self() { return tk::subprocess::current_executable().string(); }

/// A Python worker whose task sleeps 10 ms and returns the time it measured.
std::vector<std::string> python_sleeper() {
  return {
      python, "-c",
      fmt::format("import sys, time; sys.path.insert(0, '{}'); import python_worker as w\n"
                  "def f(x):\n"
                  "    t = time.perf_counter(); time.sleep({}); return time.perf_counter() - t\n"
                  "w.serve(f)",
                  workers_dir, task_seconds)};
}

/// A Python worker answering y = x as fast as the protocol allows.
std::vector<std::string> python_trivial() {
  return {python, "-c",
          fmt::format("import sys; sys.path.insert(0, '{}'); import python_worker as w\n"
                      "w.serve(lambda x: x)",
                      workers_dir)};
}

std::vector<Measurement> run_all(const Sizes& sizes) {
  std::vector<Measurement> figures;
  {
    Measurement f{.name = "process_master_throughput",
                  .description = "ProcessMaster, trivial callable",
                  .unit = "tasks/s",
                  .tasks = sizes.process,
                  .target = 50'000};
    tk::ProcessMaster<double, double> master("identity", {.workers = 2});
    measure(f, [&] { return tasks_per_second(master, sizes.process, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    Measurement f{.name = "stdio_master_python_throughput",
                  .description = "StdioMaster, trivial Python worker",
                  .unit = "tasks/s",
                  .tasks = sizes.stdio,
                  .target = 10'000};
    tk::StdioMaster<double, double> master(python_trivial(), {.workers = 2});
    measure(f, [&] { return tasks_per_second(master, sizes.stdio, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    Measurement f{.name = "stdio_master_python_throughput_prefetch_1",
                  .description = "the same, each worker sent a task ahead",
                  .unit = "tasks/s",
                  .tasks = sizes.stdio};
    tk::StdioMaster<double, double> master(python_trivial(), {.workers = 2, .prefetch = 1});
    measure(f, [&] { return tasks_per_second(master, sizes.stdio, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    Measurement f{.name = "command_master_spawns",
                  .description = "CommandMaster, /bin/echo {x} per task",
                  .unit = "spawns/s",
                  .tasks = sizes.command,
                  .target = 500};
    tk::CommandMaster<double, double> master({"/bin/echo", "{x}"},
                                             {.workers = 2, .input_environment = false});
    measure(f, [&] { return tasks_per_second(master, sizes.command, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    Measurement f{.name = "process_master_utilization",
                  .description = "ProcessMaster, 10 ms tasks",
                  .unit = "fraction",
                  .tasks = sizes.utilization,
                  .target = 0.98};
    tk::ProcessMaster<double, double> master("ten_ms", {.workers = 2});
    measure(f, [&] { return utilization(master, sizes.utilization, 2, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    Measurement f{.name = "stdio_master_utilization",
                  .description = "StdioMaster, Python worker, 10 ms tasks",
                  .unit = "fraction",
                  .tasks = sizes.utilization,
                  .target = 0.98};
    tk::StdioMaster<double, double> master(python_sleeper(), {.workers = 2});
    measure(f, [&] { return utilization(master, sizes.utilization, 2, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    Measurement f{.name = "stdio_master_utilization_prefetch_1",
                  .description = "the same, each worker sent a task ahead",
                  .unit = "fraction",
                  .tasks = sizes.utilization};
    tk::StdioMaster<double, double> master(python_sleeper(), {.workers = 2, .prefetch = 1});
    measure(f, [&] { return utilization(master, sizes.utilization, 2, f.name.c_str()); });
    figures.push_back(f);
  }
  {
    // For a program, the task is the program's whole life, start-up
    // included: measured by the master from spawn to exit.
    Measurement f{.name = "command_master_utilization",
                  .description = "CommandMaster, 10 ms program (spawn to exit)",
                  .unit = "fraction",
                  .tasks = sizes.utilization,
                  .target = 0.98};
    tk::CommandMaster<double, double> master({self(), "--ten-ms-task"},
                                             {.workers = 2, .input_environment = false});
    measure(f, [&] {
      return utilization(master, sizes.utilization, 2, f.name.c_str(), Inside::master);
    });
    figures.push_back(f);
    // The same run, counting only the program's own 10 ms (its main): the
    // rest is exec and dynamic loading, which no master can avoid.
    Measurement g{.name = "command_master_utilization_in_main",
                  .description = "CommandMaster, 10 ms program (its main only)",
                  .unit = "fraction",
                  .tasks = sizes.utilization};
    measure(g, [&] { return utilization(master, sizes.utilization, 2, g.name.c_str()); });
    figures.push_back(g);
  }
  return figures;
}

/// The printed form of `m`, with its sizes and extremes as parameters.
bench::Figure figure(const Measurement& m, bool quick) {
  return {.name = m.name,
          .value = m.value,
          .unit = m.unit,
          .parameters = {{"description", m.description},
                         {"tasks", m.tasks},
                         {"workers", m.workers},
                         {"min", m.min},
                         {"max", m.max},
                         {"repetitions", repetitions},
                         {"quick", quick}},
          .target = m.target,
          .note = fmt::format("(min {}, max {}; {} tasks, {} workers) {}",
                              bench::readable_number(m.min), bench::readable_number(m.max), m.tasks,
                              m.workers, m.description)};
}

}  // namespace

int main(int argc, char** argv) {
  if (auto code = tk::process_worker_entry<double, double>(argc, argv, "identity",
                                                           [](double x) { return x; })) {
    return *code;
  }
  if (auto code = tk::process_worker_entry<double, double>(argc, argv, "ten_ms", ten_ms_task)) {
    return *code;
  }
  if (argc > 1 && std::string_view(argv[1]) == "--ten-ms-task") {
    std::printf("%.17g\n", ten_ms_task(0));
    return 0;
  }
  bench::Report report(argc, argv,
                       {.program = "process_masters", .layout = bench::ParameterLayout::grouped});
  const bool quick = report.quick();
  try {
    for (const auto& m : run_all(quick ? quick_sizes : Sizes{})) report.add(figure(m, quick));
    return report.exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "process_masters: %s\n", e.what());
    return quick ? 0 : 1;
  }
}
