// BalancingLearner over many Learner1D: how the cost of ask + tell per point
// grows with the number of learners (python-adaptive asks every learner for
// every point, so its cost grows linearly).
//
//   balancing_learner [--quick] [--json]

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "report.hpp"
#include "taskmaster/learners/balancing_learner.hpp"
#include "taskmaster/learners/learner_1d.hpp"

namespace {

double peak(std::size_t i, double x) {
  const double a = 0.01;
  const double c = 0.5 * std::sin(static_cast<double>(i));  // a different centre per learner
  return x + a * a / (a * a + (x - c) * (x - c));
}

/// Points per second inside ask + tell for `learners` Learner1D children.
double points_per_second(std::size_t learners, std::size_t points) {
  taskmaster::BalancingLearner<double, double> balancing;
  for (std::size_t i = 0; i < learners; ++i)
    balancing.add(taskmaster::Learner1D<double>(-1.0, 1.0));
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < points; ++k) {
    const auto p = *balancing.ask(0);
    balancing.tell(p, peak(p.first, p.second));
  }
  return static_cast<double>(points) /
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(argc, argv, {.program = "balancing_learner"});
  const bool quick = report.quick();
  const std::size_t points = quick ? 20000 : 200000;
  const std::vector<std::size_t> counts =
      quick ? std::vector<std::size_t>{1, 10, 100} : std::vector<std::size_t>{1, 10, 100, 1000};
  report.heading("BalancingLearner of n Learner1D, {} points, time inside ask + tell (best of 3)",
                 points);
  double base = 0.0;
  for (std::size_t n : counts) {
    double best = 0.0;
    for (int r = 0; r < 3; ++r) best = std::max(best, points_per_second(n, points));
    if (n == counts.front()) base = best;
    const double cost_ratio = base / best;
    report.add(
        {.name = fmt::format("balancing_{}_learners", n),
         .value = best,
         .unit = "points/s",
         .parameters = {{"learners", n}, {"points", points}, {"cost_vs_one_learner", cost_ratio}},
         .note = fmt::format("cost per point {:.2f}x that of 1 learner (log2 n = {:.1f})",
                             cost_ratio, std::log2(static_cast<double>(n)))});
  }
  return 0;
}
