// learners_misc: how fast AverageLearner and IntegratorLearner ask and learn,
// against python-adaptive's figures for the same work; and how a
// SequenceLearner's tell scales with the points pending.
//
//   learners_misc           full run; exits 1 if a target is missed
//   learners_misc --quick   small sizes, for smoke runs; always exits 0
//   learners_misc --json    one JSON object per line instead of a table
//
// The learners are driven directly (ask, evaluate a cheap function, tell),
// so the figures are the learners' own cost, in points per second of CPU
// time (the wall-clock rate is printed too). The main figures are cold: each
// timed run is the first and only run of a fresh process (the program
// re-executes itself with --one NAME,N), the median over --processes K (5)
// processes. The figures named _warm are the median of 5 repetitions in one
// process. See bench/README.md.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fresh_process.hpp"
#include "report.hpp"
#include "taskmaster/learners/average_learner.hpp"
#include "taskmaster/learners/integrator_learner.hpp"
#include "taskmaster/learners/sequence_learner.hpp"

namespace {

namespace tk = taskmaster;
using Clock = std::chrono::steady_clock;

constexpr int repetitions = 5;

/// One learner's measurement, before it becomes a bench::Figure.
struct Measurement {
  std::string name;
  std::string description;
  double value = 0;  // median, per second of CPU time
  double wall = 0;   // median, per second of wall-clock time
  double min = 0;
  double max = 0;
  std::string unit = "points/s";
  std::int64_t points = 0;     // per repetition
  double python_adaptive = 0;  // the same work in python-adaptive v1.5.2, points/s
  double target = 0;
  std::optional<std::int64_t> points_to_done{};
};

/// Both clocks at once: the learners are single-threaded, so the process's
/// CPU time is the time they ran, unaffected by other load on the machine.
struct Stopwatch {
  Clock::time_point wall = Clock::now();
  std::clock_t cpu = std::clock();
};

struct Rates {
  double per_cpu_second;
  double per_wall_second;
};

Rates rates(std::int64_t points, const Stopwatch& start) {
  const double wall = std::chrono::duration<double>(Clock::now() - start.wall).count();
  const double cpu = static_cast<double>(std::clock() - start.cpu) / CLOCKS_PER_SEC;
  const auto n = static_cast<double>(points);
  return {n / std::max(cpu, 1e-9), n / wall};
}

template <class F>
void measure(Measurement& figure, F&& once, int runs = repetitions) {
  std::vector<double> cpu;
  std::vector<double> wall;
  for (int i = 0; i < runs; ++i) {
    const Rates r = once();
    cpu.push_back(r.per_cpu_second);
    wall.push_back(r.per_wall_second);
  }
  std::sort(cpu.begin(), cpu.end());
  std::sort(wall.begin(), wall.end());
  figure.value = cpu[cpu.size() / 2];
  figure.min = cpu.front();
  figure.max = cpu.back();
  figure.wall = wall[wall.size() / 2];
}

/// A cheap deterministic "noisy" sample: the seed hashed to [0, 1).
double noisy(std::uint64_t seed) { return tk::unit_interval(tk::entropy_for(7, seed)); }

Measurement average_learner(std::int64_t n, int runs = repetitions) {
  Measurement f{.name = "average_learner",
                .description = "AverageLearner ask(1) + tell, atol 1e-6",
                .points = n,
                .python_adaptive = 357'000,
                .target = 10'000'000};
  double sink = 0;
  measure(
      f,
      [&] {
        tk::AverageLearner learner(1e-6);
        const Stopwatch start;
        for (std::int64_t i = 0; i < n; ++i) {
          const std::uint64_t seed = *learner.ask(0);
          learner.tell(seed, noisy(seed));
        }
        const Rates r = rates(n, start);
        if (learner.size() != static_cast<std::size_t>(n)) throw std::runtime_error("points lost");
        sink += learner.mean();
        return r;
      },
      runs);
  if (!(sink > 0)) throw std::runtime_error("the mean was not computed");
  return f;
}

double floor_exp(double x) { return std::floor(std::exp(x)); }

Measurement integrator_learner(std::int64_t n, int runs = repetitions) {
  Measurement f{.name = "integrator_learner",
                .description =
                    "IntegratorLearner ask(1) + tell on floor(exp x), [0, 3], tol 1e-8, "
                    "runs repeated until the points are used",
                .points = n,
                .python_adaptive = 25'840,
                .target = 2'000'000};
  measure(
      f,
      [&] {
        std::int64_t told = 0;
        const Stopwatch start;
        while (told < n) {
          tk::IntegratorLearner learner(0, 3, 1e-8);
          while (!learner.done() && told < n) {
            const auto x = learner.ask(0);
            if (!x) break;
            learner.tell(*x, floor_exp(*x));
            ++told;
          }
          if (learner.done()) f.points_to_done = static_cast<std::int64_t>(learner.size());
        }
        return rates(told, start);
      },
      runs);
  return f;
}

/// A point with == but no order: SequenceLearner falls back to scanning its
/// pending points for it, the baseline of `sequence_learner`.
struct UnorderedPoint {
  double x = 0;
  bool operator==(const UnorderedPoint&) const = default;
};

/// Points per CPU second of SequenceLearner ask + tell with `pending` points
/// out, told in a scrambled order (as workers finish), for point type X.
template <class X>
double sequence_rate(std::int64_t n, std::int64_t pending) {
  std::vector<X> points(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    points[static_cast<std::size_t>(i)] = X{0.5 * static_cast<double>(i)};
  std::vector<double> rates_seen;
  for (int run = 0; run < repetitions; ++run) {
    tk::SequenceLearner<X, double> learner(points);
    const Stopwatch start;
    while (!learner.done()) {
      auto out = learner.ask(static_cast<std::size_t>(pending), 0);
      // A fixed permutation: stride through the batch by a number prime to it.
      const std::size_t size = out.size();
      std::size_t step = size / 2 + 1;
      while (std::gcd(step, size) != 1) ++step;
      for (std::size_t k = 0, at = 0; k < size; ++k, at = (at + step) % size) {
        learner.tell(out[at], 1.0);
      }
    }
    rates_seen.push_back(rates(n, start).per_cpu_second);
  }
  std::sort(rates_seen.begin(), rates_seen.end());
  return rates_seen[rates_seen.size() / 2];
}

/// SequenceLearner's tell finds the told point among those pending through
/// an ordered map; the scan it replaces (still used for points without an
/// order) is measured in the same run as the baseline.
bench::Figure sequence_learner(std::int64_t n, std::int64_t pending) {
  const double mapped = sequence_rate<double>(n, pending);
  const double scanned = sequence_rate<UnorderedPoint>(n, pending);
  return {.name = "sequence_learner",
          .value = mapped,
          .unit = "points/s",
          .parameters = {{"clock", "cpu"},
                         {"points", n},
                         {"pending", pending},
                         {"repetitions", repetitions},
                         {"scan_points_per_s", scanned},
                         {"ratio_to_scan", mapped / scanned}},
          .note = fmt::format("SequenceLearner<double> ask({}) + tell in scrambled order; {:.0f}x "
                              "the scan of pending points ({} points/s, a point type without <)",
                              bench::readable_number(static_cast<double>(pending)),
                              mapped / scanned, bench::readable_number(scanned))};
}

/// The printed form of `m`: its extremes, clocks and python-adaptive figure as parameters.
bench::Figure figure(const Measurement& m) {
  bench::Figure f{
      .name = m.name,
      .value = m.value,
      .unit = m.unit,
      .parameters = {{"min", m.min},
                     {"max", m.max},
                     {"clock", "cpu"},
                     {"wall_clock_value", m.wall},
                     {"points", m.points},
                     {"repetitions", repetitions},
                     {"python_adaptive", m.python_adaptive},
                     {"ratio_to_python_adaptive", m.value / m.python_adaptive}},
      .target = m.target,
      .note = fmt::format("(min {}, max {})  {:.1f}x python-adaptive ({}); {}; {} points per "
                          "wall-clock second",
                          bench::readable_number(m.min), bench::readable_number(m.max),
                          m.value / m.python_adaptive, bench::readable_number(m.python_adaptive),
                          m.description, bench::readable_number(m.wall))};
  if (m.points_to_done) {
    f.parameters["points_to_done"] = *m.points_to_done;
    f.note += fmt::format("; done after {} points", *m.points_to_done);
  }
  return f;
}

/// One measurement, one run: in a fresh process, the cold figure.
Measurement run_once(const std::string& name, std::int64_t n) {
  if (name == "average_learner") return average_learner(n, 1);
  if (name == "integrator_learner") return integrator_learner(n, 1);
  throw std::invalid_argument("--one takes average_learner,N or integrator_learner,N");
}

/// The child's side of a cold figure: one run, its rates as JSON.
int run_one(const std::string& config) {
  const auto comma = config.find(',');
  const std::int64_t n =
      comma == std::string::npos ? 0 : std::strtoll(config.c_str() + comma + 1, nullptr, 10);
  if (n <= 0) throw std::invalid_argument("--one takes NAME,N");
  const long faults = bench::minor_faults();
  const Measurement m = run_once(config.substr(0, comma), n);
  fmt::print("{}\n", nlohmann::json{{"cpu_points_per_s", m.value},
                                    {"wall_points_per_s", m.wall},
                                    {"minor_faults_per_point",
                                     static_cast<double>(bench::minor_faults() - faults) /
                                         static_cast<double>(n)}}
                         .dump());
  return 0;
}

/// The cold figure (the median over fresh processes) printed first, with
/// the target and python-adaptive's figure; the warm one beside it.
void report_both(bench::Report& report, const Measurement& warm, int processes) {
  const auto runs = bench::fresh_runs(fmt::format("{},{}", warm.name, warm.points), processes);
  Measurement cold = warm;
  cold.value = bench::median_of(runs, "cpu_points_per_s");
  cold.wall = bench::median_of(runs, "wall_points_per_s");
  cold.min = cold.max = cold.value;
  for (const auto& run : runs) {
    cold.min = std::min(cold.min, run.at("cpu_points_per_s").get<double>());
    cold.max = std::max(cold.max, run.at("cpu_points_per_s").get<double>());
  }
  bench::Figure f = figure(cold);
  f.parameters["repetitions"] = 1;
  f.parameters["processes"] = processes;
  f.parameters["minor_faults_per_point"] = bench::median_of(runs, "minor_faults_per_point");
  f.note =
      "cold (fresh process, median of processes); python-adaptive figure recorded, not "
      "measured in this run; " +
      f.note;
  report.add(f);
  bench::Figure w = figure(warm);
  w.name += "_warm";
  w.target.reset();
  w.note = "warm (5 runs in one process); " + w.note;
  report.add(w);
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(
      argc, argv,
      {.program = "learners_misc",
       .value_options = {
           {"--one", "NAME,N", "run one timed configuration and print it as JSON (internal)"},
           {"--processes", "K", "fresh processes per cold figure (default 5, quick 2)"}}});
  const bool quick = report.quick();
  try {
    if (const auto one = report.value("--one")) return run_one(*one);
    const int processes =
        std::max(1, std::atoi(report.value("--processes").value_or(quick ? "2" : "5").c_str()));
    report_both(report, average_learner(quick ? 100'000 : 20'000'000), processes);
    report_both(report, integrator_learner(quick ? 20'000 : 1'000'000), processes);
    report.add(sequence_learner(quick ? 4'000 : 40'000, quick ? 1'000 : 10'000));
    return report.exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "learners_misc: %s\n", e.what());
    return 2;
  }
}
