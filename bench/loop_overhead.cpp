// loop_overhead: what the feedback loop itself costs, and how busy it keeps
// workers whose tasks are short.
//
//   loop_overhead           full run; exits 1 if a target is missed
//   loop_overhead --quick   small sizes, for smoke runs; always exits 0
//   loop_overhead --json    one JSON object per line instead of a table
//   loop_overhead --only utilization   just that figure (repeatable)
//
// Every figure is the median of 5 repetitions. See bench/README.md.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>  // mkdtemp
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

namespace tk = taskmaster;
using Clock = std::chrono::steady_clock;
using bench::Figure;

constexpr int repetitions = 5;

struct Sizes {
  std::int64_t serial = 1'000'000;
  std::int64_t serial_keep_history = 1'000'000;
  std::int64_t threads = 500'000;
  std::int64_t history_file = 500'000;
  std::int64_t utilization = 2'000;
  std::int64_t sleeps = 1'000;  // for the 1 ms sleep baseline
};

constexpr Sizes quick_sizes{20'000, 20'000, 10'000, 10'000, 200, 100};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Runs `once` (which returns one sample) `repetitions` times; the figure's
/// value is the median, and its parameters get the extremes and the sizes.
template <class F>
Figure measure(Figure figure, std::int64_t tasks, int workers, F&& once) {
  std::vector<double> samples;
  samples.reserve(repetitions);
  for (int i = 0; i < repetitions; ++i) samples.push_back(once());
  std::sort(samples.begin(), samples.end());
  figure.value = samples[samples.size() / 2];
  figure.parameters = {{"tasks", tasks},
                       {"workers", workers},
                       {"repetitions", repetitions},
                       {"min", samples.front()},
                       {"max", samples.back()}};
  figure.note =
      fmt::format("[{}; {} tasks, {} worker{}, min {} max {}]", figure.note, tasks, workers,
                  workers == 1 ? "" : "s", bench::readable_number(samples.front()),
                  bench::readable_number(samples.back()));
  return figure;
}

/// A learner over 0, 1, ..., n-1 that builds no vector.
tk::IgnorantLearner<int, int> counting_learner(std::int64_t n) {
  return tk::IgnorantLearner<int, int>([i = std::int64_t{0}, n]() mutable -> std::optional<int> {
    if (i == n) return std::nullopt;
    return static_cast<int>(i++);
  });
}

void check_told(const tk::RunSummary<int, int>& summary, std::int64_t n, const char* what) {
  if (summary.progress.told != static_cast<std::uint64_t>(n) || summary.progress.failed != 0) {
    throw std::runtime_error(fmt::format("{}: told {} and failed {} of {} tasks ({})", what,
                                         summary.progress.told, summary.progress.failed, n,
                                         summary.reason));
  }
}

/// Tasks per second of one run of `n` trivial tasks on `master`.
template <class M>
double tasks_per_second(M& master, std::int64_t n, const tk::RunOptions<int, int>& options,
                        const char* what) {
  auto learner = counting_learner(n);
  const auto start = Clock::now();
  auto summary = tk::evaluate(master, learner, tk::stop::exhausted(), options);
  const double wall = seconds_since(start);
  check_told(summary, n, what);
  if (options.keep_history && summary.history.events.size() < 2 * static_cast<std::size_t>(n)) {
    throw std::runtime_error(
        fmt::format("{}: the history holds only {} events", what, summary.history.events.size()));
  }
  return static_cast<double>(n) / wall;
}

int trivial(const int& x) { return x + 1; }

Figure serial(std::int64_t n) {
  const Figure f{.name = "serial",
                 .unit = "tasks/s",
                 .target = 1'000'000.0,
                 .note = "loop overhead, SerialMaster, no history"};
  return measure(f, n, 1, [&] {
    tk::SerialMaster<int, int> master(trivial);
    return tasks_per_second(master, n, {.keep_history = false}, "serial");
  });
}

Figure serial_keep_history(std::int64_t n) {
  const Figure f{.name = "serial_keep_history",
                 .unit = "tasks/s",
                 .note = "SerialMaster, history kept in memory"};
  return measure(f, n, 1, [&] {
    tk::SerialMaster<int, int> master(trivial);
    return tasks_per_second(master, n, {.keep_history = true}, "serial_keep_history");
  });
}

Figure threads(std::int64_t n) {
  const Figure f{.name = "threads",
                 .unit = "tasks/s",
                 .target = 300'000.0,
                 .note = "loop overhead, ThreadMaster(2), no history"};
  return measure(f, n, 2, [&] {
    // Workers are started before and joined after the timed call.
    tk::ThreadMaster<int, int> master(trivial, 2);
    return tasks_per_second(master, n, {.keep_history = false}, "threads");
  });
}

/// A directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/taskmaster-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

Figure serial_history_file(std::int64_t n) {
  const Figure f{.name = "serial_history_file",
                 .unit = "tasks/s",
                 .target = 250'000.0,
                 .note = "SerialMaster, history streamed to a file"};
  TempDir dir;
  const auto file = dir.path() / "history.jsonl";
  return measure(f, n, 1, [&] {
    tk::SerialMaster<int, int> master(trivial);
    const double rate = tasks_per_second(master, n, {.history_file = file, .keep_history = false},
                                         "serial_history_file");
    if (std::filesystem::file_size(file) == 0) throw std::runtime_error("empty history file");
    std::filesystem::remove(file);
    return rate;
  });
}

/// Mean duration of std::this_thread::sleep_for(1 ms), in ms: what a 1 ms
/// task really takes on this machine.
Figure sleep_baseline(std::int64_t n) {
  const Figure f{
      .name = "sleep_1ms_mean", .unit = "ms", .note = "baseline: mean duration of one 1 ms sleep"};
  return measure(f, n, 1, [&] {
    const auto start = Clock::now();
    for (std::int64_t i = 0; i < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return seconds_since(start) * 1e3 / static_cast<double>(n);
  });
}

/// Time spent inside the callable, summed over the workers, divided by
/// workers x wall time of the evaluate call.
Figure utilization(std::int64_t n) {
  constexpr int workers = 2;
  const Figure f{.name = "utilization",
                 .unit = "fraction",
                 .target = 0.99,
                 .note = "busy fraction, ThreadMaster(2), 1 ms tasks"};
  return measure(f, n, workers, [&] {
    std::atomic<std::int64_t> busy_ns{0};
    tk::ThreadMaster<int, int> master(
        [&busy_ns](const int& x) {
          const auto start = Clock::now();
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          const auto ns =
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
          busy_ns.fetch_add(ns, std::memory_order_relaxed);
          return x + 1;
        },
        workers);
    auto learner = counting_learner(n);
    const auto start = Clock::now();
    auto summary = tk::evaluate(master, learner, tk::stop::exhausted(), {.keep_history = false});
    const double wall = seconds_since(start);
    check_told(summary, n, "utilization");
    return static_cast<double>(busy_ns.load()) * 1e-9 / (workers * wall);
  });
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(
      argc, argv,
      {.program = "loop_overhead",
       .value_options = {{"--only", "NAME",
                          "measure only this figure (repeatable): serial, serial_keep_history, "
                          "threads, serial_history_file, sleep_1ms_mean, utilization"}}});
  const std::vector<std::string> only = report.values("--only");
  const Sizes sizes = report.quick() ? quick_sizes : Sizes{};

  struct Benchmark {
    std::string_view name;
    std::function<Figure()> run;
  };
  const std::vector<Benchmark> benchmarks{
      {"serial", [&] { return serial(sizes.serial); }},
      {"serial_keep_history", [&] { return serial_keep_history(sizes.serial_keep_history); }},
      {"threads", [&] { return threads(sizes.threads); }},
      {"serial_history_file", [&] { return serial_history_file(sizes.history_file); }},
      {"sleep_1ms_mean", [&] { return sleep_baseline(sizes.sleeps); }},
      {"utilization", [&] { return utilization(sizes.utilization); }},
  };
  for (const auto& name : only) {
    if (std::none_of(benchmarks.begin(), benchmarks.end(),
                     [&](const Benchmark& b) { return b.name == name; })) {
      fmt::print(stderr, "--only: no figure named {}\n", name);
      return 2;
    }
  }

  report.heading("taskmaster loop_overhead{}: median of {} repetitions, {} hardware threads",
                 report.quick() ? " (quick)" : "", repetitions,
                 std::thread::hardware_concurrency());
  try {
    for (const auto& benchmark : benchmarks) {
      if (!only.empty() && std::find(only.begin(), only.end(), benchmark.name) == only.end()) {
        continue;
      }
      report.add(benchmark.run());
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "loop_overhead: {}\n", e.what());
    return 2;
  }
  return report.exit_status();
}
