// BalancingLearner over many Learner1D: how the cost of ask + tell per point
// grows with the number of learners (python-adaptive asks every learner for
// every point, so its cost grows linearly).
//
//   balancing_learner [--quick] [--json] [--processes K]
//
// Points per second of CPU time. The main figures are cold: each timed run is
// the first and only run of a fresh process (the program re-executes itself
// with --one LEARNERS,POINTS), the median over K (5) processes; the figures
// named _warm are the best of 3 runs in one process.

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fresh_process.hpp"
#include "report.hpp"
#include "taskmaster/learners/balancing_learner.hpp"
#include "taskmaster/learners/learner_1d.hpp"

namespace {

double peak(std::size_t i, double x) {
  const double a = 0.01;
  const double c = 0.5 * std::sin(static_cast<double>(i));  // a different centre per learner
  return x + a * a / (a * a + (x - c) * (x - c));
}

/// Points per second of CPU time inside ask + tell for `learners` Learner1D
/// children (the children's construction included).
double points_per_second(std::size_t learners, std::size_t points) {
  const double start = bench::process_cpu_seconds();
  taskmaster::BalancingLearner<double, double> balancing;
  for (std::size_t i = 0; i < learners; ++i)
    balancing.add(taskmaster::Learner1D<double>(-1.0, 1.0));
  for (std::size_t k = 0; k < points; ++k) {
    const auto p = *balancing.ask(0);
    balancing.tell(p, peak(p.first, p.second));
  }
  return static_cast<double>(points) / (bench::process_cpu_seconds() - start);
}

/// The child's side of a cold figure: one run, its rate as JSON.
int run_one(const std::string& config) {
  std::size_t learners = 0;
  std::size_t points = 0;
  if (std::sscanf(config.c_str(), "%zu,%zu", &learners, &points) != 2 || points == 0) {
    fmt::print(stderr, "balancing_learner: --one takes LEARNERS,POINTS, got {}\n", config);
    return 2;
  }
  const long faults = bench::minor_faults();
  const double rate = points_per_second(learners, points);
  fmt::print("{}\n", nlohmann::json{{"cpu_points_per_s", rate},
                                    {"minor_faults_per_point",
                                     static_cast<double>(bench::minor_faults() - faults) /
                                         static_cast<double>(points)}}
                         .dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(
      argc, argv,
      {.program = "balancing_learner",
       .value_options = {
           {"--one", "LEARNERS,POINTS",
            "run one timed configuration and print it as JSON "
            "(internal)"},
           {"--processes", "K", "fresh processes per cold figure (default 5, quick 2)"}}});
  if (const auto one = report.value("--one")) return run_one(*one);
  const bool quick = report.quick();
  const int processes =
      std::max(1, std::atoi(report.value("--processes").value_or(quick ? "2" : "5").c_str()));
  const std::size_t points = quick ? 20000 : 200000;
  const std::vector<std::size_t> counts =
      quick ? std::vector<std::size_t>{1, 10, 100} : std::vector<std::size_t>{1, 10, 100, 1000};
  report.heading(
      "BalancingLearner of n Learner1D, {} points, ask + tell, points per second of CPU time "
      "(cold: median of {} fresh processes; warm: best of 3 in one process)",
      points, processes);
  double base = 0.0;
  for (std::size_t n : counts) {
    const auto runs = bench::fresh_runs(fmt::format("{},{}", n, points), processes);
    const double cold = bench::median_of(runs, "cpu_points_per_s");
    const double faults = bench::median_of(runs, "minor_faults_per_point");
    double best = 0.0;
    for (int r = 0; r < 3; ++r) best = std::max(best, points_per_second(n, points));
    if (n == counts.front()) base = cold;
    const double cost_ratio = base / cold;
    report.add(
        {.name = fmt::format("balancing_{}_learners", n),
         .value = cold,
         .unit = "points/s",
         .parameters = {{"learners", n},
                        {"points", points},
                        {"processes", processes},
                        {"minor_faults_per_point", faults},
                        {"cost_vs_one_learner", cost_ratio}},
         .note = fmt::format("cold; cost per point {:.2f}x that of 1 learner (log2 n = {:.1f}); "
                             "{:.3f} page faults/point",
                             cost_ratio, std::log2(static_cast<double>(n)), faults)});
    report.add({.name = fmt::format("balancing_{}_learners_warm", n),
                .value = best,
                .unit = "points/s",
                .parameters = {{"learners", n}, {"points", points}, {"repetitions", 3}},
                .note = "warm: best of 3 runs in one process"});
  }
  return 0;
}
