// learner_2d: speed, memory and sampling quality of the triangulation learners.
//
//   learner_2d                 full run (a few minutes); exits 1 if a target is missed
//   learner_2d --quick         small sizes, for smoke runs; always exits 0
//   learner_2d --json          one JSON object per figure and line
//   learner_2d --processes K   fresh processes per cold figure (default 5)
//   learner_2d --python PY     the interpreter that runs python-adaptive (default python3)
//
// All timings are CPU time of the learner's ask and tell only (the cost of the function,
// python-adaptive's ring, is measured separately and subtracted). The speed figures are
// cold: each timed run is the first and only run of a fresh process (the program
// re-executes itself with --one KIND,N), the median over K processes; the figures named
// _warm come from runs after others in one process. See bench/README.md.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fresh_process.hpp"
#include "report.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

namespace tk = taskmaster;
using Point = std::array<double, 2>;
using bench::Figure;

constexpr tk::Bounds2D square{{{-1, 1}, {-1, 1}}};

double ring(const Point& p) {
  const double r = p[0] * p[0] + p[1] * p[1] - 0.75 * 0.75;
  return p[0] + std::exp(-r * r / std::pow(0.2, 4));
}

/// Peak resident memory of this process so far (VmHWM), in bytes.
double peak_memory_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  }
  return NAN;
}

/// CPU time of this thread, in seconds: the machine these figures come from
/// is shared, and wall time would count other processes' turns.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Sequential ask(1)/tell; returns the CPU seconds spent inside the learner
/// at each checkpoint (cumulative). Reading a CPU clock around every call
/// would cost more than the function, so the loop is timed whole and the
/// function's own cost, measured on the same points, is subtracted.
template <class L, class F>
std::vector<double> run_sequential(L& learner, F f, const std::vector<std::size_t>& checkpoints) {
  std::vector<double> seconds;
  std::vector<typename L::input_type> asked;
  double inside = 0;
  std::size_t done = 0;
  for (std::size_t target : checkpoints) {
    asked.clear();
    const double t0 = thread_seconds();
    for (; done < target; ++done) {
      auto x = *learner.ask(0);
      learner.tell(x, f(x));
      asked.push_back(std::move(x));
    }
    const double t1 = thread_seconds();
    double sink = 0;
    for (const auto& x : asked) sink += f(x);
    const double t2 = thread_seconds();
    if (sink == 42) std::fputs("", stderr);  // keeps the evaluations
    inside += (t1 - t0) - (t2 - t1);
    seconds.push_back(inside);
  }
  return seconds;
}

double mean_error(const tk::Learner2D<double>& learner) {
  double total = 0;
  for (int i = 0; i <= 400; ++i) {
    for (int j = 0; j <= 400; ++j) {
      const Point p{-1 + 2.0 * i / 400, -1 + 2.0 * j / 400};
      total += std::abs(learner.interpolate(p).value_or(NAN) - ring(p));
    }
  }
  return total / (401.0 * 401.0);
}

void sequential_2d(std::vector<Figure>& out, bool quick) {
  const std::vector<std::size_t> checkpoints =
      quick ? std::vector<std::size_t>{2'000, 10'000}
            : std::vector<std::size_t>{10'000, 100'000, 1'000'000};
  const double memory_before = peak_memory_bytes();
  tk::Learner2D<double> learner(square);
  const auto seconds = run_sequential(learner, ring, checkpoints);
  const double memory_after = peak_memory_bytes();
  std::size_t previous = 0;
  double previous_seconds = 0;
  for (std::size_t i = 0; i < checkpoints.size(); ++i) {
    const auto n = checkpoints[i];
    const double rate = static_cast<double>(n - previous) / (seconds[i] - previous_seconds);
    Figure f{
        .name = fmt::format("learner2d_sequential_rate_{}_warm", n),
        .value = rate,
        .unit = "points/s",
        .parameters = {{"from", previous}, {"to", n}, {"loss", "default"}},
        .note = fmt::format("warm: Learner2D ask(1)/tell, points {}..{} of one run", previous, n)};
    out.push_back(f);
    previous = n;
    previous_seconds = seconds[i];
  }
  // Cost per point relative to N = 1e4: log N growth allows log(N)/log(1e4).
  if (checkpoints.size() == 3) {
    const double per_point_1e4 = seconds[0] / 1e4;
    const double per_point_last = (seconds[2] - seconds[1]) / 9e5;
    out.push_back(
        {.name = "learner2d_cost_growth_1e4_to_1e6",
         .value = per_point_last / per_point_1e4,
         .unit = "ratio",
         .target = std::log(1e6) / std::log(1e4) * 1.5,  // log N growth plus cache effects
         .lower_is_better = true,
         .note = "per-point cost in 1e5..1e6 over per-point cost in 0..1e4"});
  }
  out.push_back({.name = "learner2d_peak_memory_per_point",
                 .value = (memory_after - memory_before) / static_cast<double>(checkpoints.back()),
                 .unit = "bytes/point",
                 .parameters = {{"points", checkpoints.back()}},
                 .note = "peak resident memory (VmHWM) growth over the run, per point"});
}

/// CPU seconds inside a batched run: ask(batch), evaluate, one tell per point.
double run_batched(tk::Learner2D<double>& learner, std::size_t n, std::size_t batch) {
  double inside = 0;
  std::size_t told = 0;
  while (told < n) {
    const double t0 = thread_seconds();
    const auto xs = learner.ask(std::min(batch, n - told), 0);
    inside += thread_seconds() - t0;
    std::vector<double> ys;
    for (const auto& x : xs) ys.push_back(ring(x));
    const double t1 = thread_seconds();
    for (std::size_t i = 0; i < xs.size(); ++i) learner.tell(xs[i], ys[i]);
    inside += thread_seconds() - t1;
    told += xs.size();
  }
  return inside;
}

void batched_2d(std::vector<Figure>& out, bool quick) {
  const std::size_t n = quick ? 2'000 : 10'000, batch = 100;
  tk::Learner2D<double> learner(square);
  const double inside = run_batched(learner, n, batch);
  out.push_back({.name = "learner2d_batch100_rate_warm",
                 .value = static_cast<double>(n) / inside,
                 .unit = "points/s",
                 .parameters = {{"points", n}, {"batch", batch}},
                 .note = "warm: Learner2D ask(100) then 100 tells, up to N points"});
}

void quality_2d(std::vector<Figure>& out) {
  tk::Learner2D<double> learner(square);
  run_sequential(learner, ring, {1'000});
  const double at_1000 = mean_error(learner);
  run_sequential(learner, ring, {4'000});
  const double at_5000 = mean_error(learner);
  tk::Learner2D<double> grid(square, tk::losses_2d::uniform());
  std::vector<Point> xs;
  std::vector<double> ys;
  for (int i = 0; i < 71; ++i) {
    for (int j = 0; j < 71; ++j) {
      xs.push_back({-1 + 2.0 * i / 70, -1 + 2.0 * j / 70});
      ys.push_back(ring(xs.back()));
    }
  }
  grid.tell_many(xs, ys);
  const double uniform = mean_error(grid);
  // Target: within 10% of python-adaptive's error for the same number of points.
  const auto learner_error = [](std::size_t points, double error, double python_adaptive) {
    return Figure{.name = fmt::format("learner2d_ring_error_{}", points),
                  .value = error,
                  .parameters = {{"points", points}, {"python_adaptive", python_adaptive}},
                  .target = 1.1 * python_adaptive,
                  .lower_is_better = true,
                  .note = "mean |error| of linear interpolation, 401x401 grid"};
  };
  out.push_back(learner_error(1000, at_1000, 1.07e-2));
  out.push_back(learner_error(5000, at_5000, 1.38e-3));
  out.push_back({.name = "uniform_grid_ring_error_5041",
                 .value = uniform,
                 .parameters = {{"points", 5041}},
                 .note = "the same for a 71x71 uniform grid"});
  out.push_back({.name = "learner2d_advantage_over_grid_5000",
                 .value = uniform / at_5000,
                 .unit = "ratio",
                 .target = 5.0,
                 .note = "uniform grid error / Learner2D error"});
}

/// The ring's 3D analogue: a sharp spherical shell on a slope.
double shell(const std::vector<double>& p) {
  const double r = p[0] * p[0] + p[1] * p[1] + p[2] * p[2] - 0.75 * 0.75;
  return p[0] + std::exp(-r * r / std::pow(0.2, 4));
}

void sequential_nd(std::vector<Figure>& out, bool quick) {
  const std::size_t n = quick ? 2'000 : 10'000;
  tk::LearnerND<double> learner(std::vector<std::array<double, 2>>(3, {-1.0, 1.0}));
  const auto seconds = run_sequential(learner, shell, {n});
  out.push_back({.name = fmt::format("learnernd_3d_sequential_rate_{}_warm", n),
                 .value = static_cast<double>(n) / seconds[0],
                 .unit = "points/s",
                 .parameters = {{"points", n}, {"dim", 3}},
                 .note = "warm: LearnerND in 3D, ask(1)/tell, default loss"});
}

double ring_nd(const std::vector<double>& p) { return ring({p[0], p[1]}); }

/// The child's side of a cold figure: one run of KIND to N points in this
/// fresh process, its figures as JSON. KIND is learner2d, learner2d_batch100,
/// learnernd2d (the ring) or learnernd3d (the shell).
int run_one(const std::string& config) {
  const auto comma = config.find(',');
  const std::string kind = config.substr(0, comma);
  const std::size_t n =
      comma == std::string::npos ? 0 : std::strtoull(config.c_str() + comma + 1, nullptr, 10);
  const long faults = bench::minor_faults();
  double seconds = 0;
  if (kind == "learner2d" && n > 0) {
    tk::Learner2D<double> learner(square);
    seconds = run_sequential(learner, ring, {n}).back();
  } else if (kind == "learner2d_batch100" && n > 0) {
    tk::Learner2D<double> learner(square);
    seconds = run_batched(learner, n, 100);
  } else if (kind == "learnernd2d" && n > 0) {
    tk::LearnerND<double> learner(std::vector<std::array<double, 2>>(2, {-1.0, 1.0}));
    seconds = run_sequential(learner, ring_nd, {n}).back();
  } else if (kind == "learnernd3d" && n > 0) {
    tk::LearnerND<double> learner(std::vector<std::array<double, 2>>(3, {-1.0, 1.0}));
    seconds = run_sequential(learner, shell, {n}).back();
  } else {
    fmt::print(stderr, "learner_2d: --one takes KIND,N, got {}\n", config);
    return 2;
  }
  const auto points = static_cast<double>(n);
  fmt::print("{}\n", nlohmann::json{{"cpu_points_per_s", points / seconds},
                                    {"minor_faults_per_point",
                                     static_cast<double>(bench::minor_faults() - faults) / points}}
                         .dump());
  return 0;
}

/// One cold configuration: what it measures, its target, python-adaptive's
/// name for the same loop (empty when not compared).
struct Cold {
  std::string kind;
  std::size_t points;
  std::string what;
  std::optional<double> target{};
  std::string python_kind{};
  std::optional<double> ratio_target{};
};

// python-adaptive 1.5.2, the same loop in a fresh Python process, points per
// second of CPU time, on the 2-core development VM on 2 Dec 2026
// (bench/README.md): used when python-adaptive is not importable.
double recorded_python_adaptive(const std::string& kind, std::size_t n) {
  if (kind == "learner2d" && n == 10'000) return 125.8;
  if (kind == "learnernd2d" && n == 2'000) return 790.1;
  return 0;
}

void cold_figures(bench::Report& report, bool quick, int processes,
                  const std::string& python_path) {
  const std::size_t small = quick ? 2'000 : 10'000;
  std::vector<Cold> configs{
      {"learner2d", small, "Learner2D ask(1)/tell", quick ? std::nullopt : std::optional(1e5),
       "learner2d", 1000.0},
      {"learner2d_batch100", small, "Learner2D ask(100) then 100 tells"},
      {"learnernd2d",
       quick ? std::size_t{500} : std::size_t{2'000},
       "LearnerND in 2D (the ring), ask(1)/tell",
       {},
       "learnernd2d",
       300.0},
      {"learnernd3d", small, "LearnerND in 3D (a shell), ask(1)/tell",
       quick ? std::nullopt : std::optional(2e4)},
  };
  if (!quick) {
    configs.push_back({"learner2d", 100'000, "Learner2D ask(1)/tell"});
    configs.push_back({"learner2d", 1'000'000, "Learner2D ask(1)/tell"});
  }
  // A quick run prints no comparison: python-adaptive's Learner2D takes half
  // a minute for 1e4 points, and the recorded figures are for the full sizes.
  const bench::PythonAdaptive python(python_path, TASKMASTER_BENCH_DIR "/python_learners.py");
  const bool measure_python = python.available();
  for (const auto& c : configs) {
    const auto runs = bench::fresh_runs(fmt::format("{},{}", c.kind, c.points), processes);
    const double cold = bench::median_of(runs, "cpu_points_per_s");
    const double faults = bench::median_of(runs, "minor_faults_per_point");
    report.add({.name = fmt::format("{}_cold_{}", c.kind, c.points),
                .value = cold,
                .unit = "points/s",
                .parameters = {{"points", c.points},
                               {"processes", processes},
                               {"minor_faults_per_point", faults}},
                .target = c.target,
                .note = fmt::format("cold: {}, 0..{} in a fresh process; {:.3f} page faults/point",
                                    c.what, c.points, faults)});
    if (c.python_kind.empty() || quick) continue;  // compared at the full sizes only
    // python-adaptive's Learner2D manages a few hundred points a second: one
    // process for it, up to three for LearnerND.
    const int python_processes = c.kind == "learner2d" ? 1 : std::min(processes, 3);
    const double theirs =
        measure_python ? python.points_per_second(c.python_kind, c.points, 1, python_processes)
                       : recorded_python_adaptive(c.kind, c.points);
    const std::string source =
        measure_python ? fmt::format("measured in this run, {} fresh process(es)", python_processes)
                       : std::string("recorded figure: python-adaptive not importable");
    report.add({.name = fmt::format("{}_python_adaptive_{}", c.kind, c.points),
                .value = theirs,
                .unit = "points/s",
                .parameters = {{"points", c.points},
                               {"processes", measure_python ? python_processes : 0},
                               {"measured", measure_python}},
                .note = "python-adaptive 1.5.2, same loop, cold, CPU time; " + source});
    report.add({.name = fmt::format("{}_ratio_to_python_adaptive_{}", c.kind, c.points),
                .value = cold / theirs,
                .unit = "x",
                .parameters = {{"points", c.points}, {"measured", measure_python}},
                .target = c.ratio_target,
                .note = "cold over cold; " + source});
  }
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(
      argc, argv,
      {.program = "learner_2d",
       .value_options = {{"--one", "KIND,N",
                          "run one timed configuration and print it as JSON (internal)"},
                         {"--processes", "K",
                          "fresh processes per cold figure (default 5, quick 2)"},
                         {"--python", "PY", "interpreter for python-adaptive (default python3)"}},
       .layout = bench::ParameterLayout::grouped});
  if (const auto one = report.value("--one")) return run_one(*one);
  const bool quick = report.quick();
  const int processes =
      std::max(1, std::atoi(report.value("--processes").value_or(quick ? "2" : "5").c_str()));
  report.heading("Learner2D and LearnerND: cold figures (fresh process, median of {}), then warm",
                 processes);
  cold_figures(report, quick, processes, report.value("--python").value_or("python3"));
  std::vector<Figure> figures;
  quality_2d(figures);
  batched_2d(figures, quick);
  sequential_nd(figures, quick);
  sequential_2d(figures, quick);  // last: its peak memory must not include the others
  for (const auto& f : figures) report.add(f);
  return report.exit_status();
}
