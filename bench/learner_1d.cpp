// Learner1D: cost of ask + tell, memory per point, and sampling quality, on
// python-adaptive's peak function x + a^2 / (a^2 + x^2), a = 0.01, on [-1, 1].
//
//   learner_1d                 full sizes (up to 1e6 points)
//   learner_1d --quick         small sizes, for a smoke run
//   learner_1d --json          one JSON object per figure and line
//   learner_1d --processes K   fresh processes per cold figure (default 5)
//   learner_1d --python PY     the interpreter that runs python-adaptive (default python3)
//
// The main figures are cold: each timed run is the first and only run of a
// fresh process (the program re-executes itself with --one N,BATCH), and the
// figure is the median over K processes, because that is what a user's run
// meets. The warm figure beside it repeats the run in this process, on a heap
// earlier runs have already grown. See bench/README.md.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "fresh_process.hpp"
#include "report.hpp"
#include "taskmaster/learners/learner_1d.hpp"

// Every plain operator new of the process is counted, for the allocations
// per point of a run.
namespace {
std::size_t allocations = 0;
}  // namespace

// The replacements pair malloc with free; GCC cannot see that through inlining.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t bytes) {
  ++allocations;
  if (void* p = std::malloc(bytes == 0 ? 1 : bytes)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

double peak(double x) {
  const double a = 0.01;
  return x + a * a / (a * a + x * x);
}

/// Resident memory of this process in bytes.
double resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      status >> kb;
      return kb * 1024.0;
    }
  }
  return 0.0;
}

/// One timed run: n points asked `batch` at a time, told at once.
struct Run {
  double cpu_rate = 0.0;   // points per second of process CPU time
  double wall_rate = 0.0;  // points per wall-clock second
  double faults_per_point = 0.0;
  double allocations_per_point = 0.0;
};

/// Times ask + tell for n points asked `batch` at a time.
Run timed_run(std::size_t n, std::size_t batch) {
  taskmaster::Learner1D<double> learner(-1.0, 1.0);
  const std::size_t allocations_before = allocations;
  const long faults = bench::minor_faults();
  const double cpu = bench::process_cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  if (batch == 1) {
    // One point at a time, as the loop asks (core/loop.hpp): ask(entropy).
    for (std::size_t i = 0; i < n; ++i) {
      const double x = *learner.ask(0);
      learner.tell(x, peak(x));
    }
  }
  std::size_t done = batch == 1 ? n : 0;
  while (done < n) {
    const auto xs = learner.ask(std::min(batch, n - done), 0);
    for (double x : xs) learner.tell(x, peak(x));
    done += xs.size();
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto points = static_cast<double>(n);
  return {.cpu_rate = points / (bench::process_cpu_seconds() - cpu),
          .wall_rate = points / wall,
          .faults_per_point = static_cast<double>(bench::minor_faults() - faults) / points,
          .allocations_per_point = static_cast<double>(allocations - allocations_before) / points};
}

double mean_interpolation_error(const std::vector<std::pair<double, double>>& data) {
  const std::size_t grid = 100001;
  double total = 0.0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < grid; ++i) {
    const double x = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(grid - 1);
    while (j + 2 < data.size() && data[j + 1].first < x) ++j;
    const auto& [x0, y0] = data[j];
    const auto& [x1, y1] = data[j + 1];
    total += std::fabs(peak(x) - (y0 + (y1 - y0) * (x - x0) / (x1 - x0)));
  }
  return total / static_cast<double>(grid);
}

// python-adaptive 1.5.2, the same loop in a fresh Python process, points per
// second of CPU time, measured on the 2-core development VM on 2 Dec 2026
// (bench/README.md): used when python-adaptive is not importable.
double recorded_python_adaptive(std::size_t n, std::size_t batch) {
  if (n == 100000 && batch == 1) return 7556;
  if (n == 100000 && batch == 100) return 11278;
  return 0;
}

/// The child's side of a cold figure: one run, its figures as JSON.
int run_one(const std::string& config) {
  std::size_t n = 0;
  std::size_t batch = 0;
  if (std::sscanf(config.c_str(), "%zu,%zu", &n, &batch) != 2 || n == 0 || batch == 0) {
    fmt::print(stderr, "learner_1d: --one takes N,BATCH, got {}\n", config);
    return 2;
  }
  const Run run = timed_run(n, batch);
  fmt::print("{}\n", nlohmann::json{{"cpu_points_per_s", run.cpu_rate},
                                    {"wall_points_per_s", run.wall_rate},
                                    {"minor_faults_per_point", run.faults_per_point},
                                    {"allocations_per_point", run.allocations_per_point}}
                         .dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(
      argc, argv,
      {.program = "learner_1d",
       .value_options = {
           {"--one", "N,BATCH", "run one timed configuration and print it as JSON (internal)"},
           {"--processes", "K", "fresh processes per cold figure (default 5, quick 2)"},
           {"--python", "PY", "interpreter for python-adaptive (default python3)"}}});
  if (const auto one = report.value("--one")) return run_one(*one);
  const bool quick = report.quick();
  const int processes =
      std::max(1, std::atoi(report.value("--processes").value_or(quick ? "2" : "5").c_str()));
  const std::vector<std::size_t> sizes =
      quick ? std::vector<std::size_t>{1000, 10000}
            : std::vector<std::size_t>{1000, 10000, 100000, 1000000};
  // python-adaptive is compared at 1e5 points, not in a quick run (a smoke
  // run stays quick, and the recorded figures are for 1e5).
  const std::size_t compared = quick ? 0 : 100000;
  const bench::PythonAdaptive python(report.value("--python").value_or("python3"),
                                     TASKMASTER_BENCH_DIR "/python_learners.py");
  const int python_processes = std::min(processes, 3);
  const bool measure_python = python.available();
  report.heading(
      "Learner1D, peak function, ask + tell, points per second of CPU time.\n"
      "cold: the first run of a fresh process, median of {} processes; warm: the median of 3 "
      "runs in one process after a {}-point run. python-adaptive: {}",
      processes, sizes.back(),
      quick            ? std::string("not compared in a quick run")
      : measure_python ? fmt::format("measured in this run, same loop, median of {} fresh "
                                     "processes",
                                     python_processes)
                       : std::string("not importable, recorded figures"));

  {
    // First, while the heap is fresh: later runs would leave freed memory
    // for this one to reuse, hiding its growth.
    const std::size_t n = sizes.back();
    const double before = resident_bytes();
    taskmaster::Learner1D<double> learner(-1.0, 1.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = *learner.ask(0);
      learner.tell(x, peak(x));
    }
    const double per_point = (resident_bytes() - before) / static_cast<double>(n);
    report.add({.name = "memory_per_point",
                .value = per_point,
                .unit = "bytes",
                .parameters = {{"points", n}},
                .target = 400,
                .lower_is_better = true,
                .note = "resident memory growth / points"});
  }

  for (std::size_t batch : {1, 10, 100}) {
    double at_smallest = 0.0;
    for (std::size_t n : sizes) {
      const auto runs = bench::fresh_runs(fmt::format("{},{}", n, batch), processes);
      const double cold = bench::median_of(runs, "cpu_points_per_s");
      const double cold_faults = bench::median_of(runs, "minor_faults_per_point");
      const double cold_allocations = bench::median_of(runs, "allocations_per_point");
      std::vector<Run> warm_runs;
      for (int r = 0; r < 3; ++r) warm_runs.push_back(timed_run(n, batch));
      std::sort(warm_runs.begin(), warm_runs.end(),
                [](const Run& a, const Run& b) { return a.cpu_rate < b.cpu_rate; });
      const Run& warm = warm_runs[1];
      if (n == sizes.front()) at_smallest = cold;
      report.add({.name = fmt::format("ask_tell_batch{}_n{}", batch, n),
                  .value = cold,
                  .unit = "points/s",
                  .parameters = {{"batch", batch},
                                 {"points", n},
                                 {"processes", processes},
                                 {"clock", "process cpu"},
                                 {"wall_clock_value", bench::median_of(runs, "wall_points_per_s")},
                                 {"minor_faults_per_point", cold_faults},
                                 {"allocations_per_point", cold_allocations}},
                  .note = fmt::format("cold; {:.3f} page faults, {:.2f} allocations per point",
                                      cold_faults, cold_allocations)});
      report.add({.name = fmt::format("ask_tell_batch{}_n{}_warm", batch, n),
                  .value = warm.cpu_rate,
                  .unit = "points/s",
                  .parameters = {{"batch", batch},
                                 {"points", n},
                                 {"repetitions", 3},
                                 {"clock", "process cpu"},
                                 {"wall_clock_value", warm.wall_rate},
                                 {"minor_faults_per_point", warm.faults_per_point}},
                  .note = fmt::format("warm (cold is {:.2f}x this); {:.3f} page faults/point",
                                      cold / warm.cpu_rate, warm.faults_per_point)});
      if (n == compared && (batch == 1 || batch == 100)) {
        const bool measured = measure_python;
        const double theirs =
            measured ? python.points_per_second("learner1d", n, batch, python_processes)
                     : recorded_python_adaptive(n, batch);
        const std::string source =
            measured ? fmt::format("measured in this run, {} fresh processes", python_processes)
                     : std::string("recorded figure: python-adaptive not importable");
        report.add({.name = fmt::format("python_adaptive_batch{}_n{}", batch, n),
                    .value = theirs,
                    .unit = "points/s",
                    .parameters = {{"batch", batch},
                                   {"points", n},
                                   {"processes", measured ? python_processes : 0},
                                   {"clock", "process cpu"},
                                   {"measured", measured}},
                    .note = "python-adaptive 1.5.2, same loop, cold; " + source});
        bench::Figure ratio{.name = fmt::format("ratio_to_python_adaptive_batch{}_n{}", batch, n),
                            .value = cold / theirs,
                            .unit = "x",
                            .parameters = {{"batch", batch}, {"points", n}, {"measured", measured}},
                            .note = "cold over cold; " + source};
        if (batch == 1 && n == 100000) ratio.target = 100;
        report.add(ratio);
      }
      if (n == sizes.back()) {
        report.add({.name = fmt::format("growth_batch{}", batch),
                    .value = cold / at_smallest,
                    .unit = "ratio",
                    .parameters = {{"batch", batch}, {"from", sizes.front()}, {"to", n}},
                    .target = 0.5,
                    .note = "cold points/s at the largest N over the smallest"});
      }
    }
  }

  for (std::size_t n : {200, 2000}) {
    taskmaster::Learner1D<double> learner(-1.0, 1.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double x = *learner.ask(0);
      learner.tell(x, peak(x));
    }
    std::vector<std::pair<double, double>> grid;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n - 1);
      grid.emplace_back(x, peak(x));
    }
    const double adaptive = mean_interpolation_error(learner.data());
    const double uniform = mean_interpolation_error(grid);
    const double python = n == 200 ? 5.90e-5 : 8.22e-7;
    report.add({.name = fmt::format("interpolation_error_n{}", n),
                .value = adaptive,
                .unit = "mean |err|",
                .parameters = {{"points", n}},
                .note = fmt::format(
                    "python-adaptive {:.3g} (ratio {:.3f}), uniform grid {:.3g} ({:.0f}x worse)",
                    python, adaptive / python, uniform, uniform / adaptive)});
  }
  // The targets above are shown, not enforced: this program always exits 0.
  return 0;
}
