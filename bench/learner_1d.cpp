// Learner1D: cost of ask + tell, memory per point, and sampling quality, on
// python-adaptive's peak function x + a^2 / (a^2 + x^2), a = 0.01, on [-1, 1].
//
//   learner_1d            full sizes (up to 1e6 points)
//   learner_1d --quick    small sizes, for a smoke run
//   learner_1d --json     one JSON object per figure and line

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "report.hpp"
#include "taskmaster/learners/learner_1d.hpp"

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

/// Points per second inside ask + tell, for n points asked `batch` at a time.
double points_per_second(std::size_t n, std::size_t batch) {
  taskmaster::Learner1D<double> learner(-1.0, 1.0);
  std::vector<double> ys;
  const auto start = std::chrono::steady_clock::now();
  std::size_t done = 0;
  while (done < n) {
    const auto xs = learner.ask(std::min(batch, n - done), 0);
    for (double x : xs) learner.tell(x, peak(x));
    done += xs.size();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(n) / seconds;
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

// python-adaptive 1.5.2 on this kind of machine, points/s, median of 3.
double python_adaptive(std::size_t n, std::size_t batch) {
  if (batch == 1) return n == 1000 ? 20399 : n == 10000 ? 17439 : n == 100000 ? 13159 : 0;
  if (batch == 100) return n == 1000 ? 28852 : n == 10000 ? 24062 : n == 100000 ? 16508 : 0;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(argc, argv, {.program = "learner_1d"});
  const bool quick = report.quick();
  const std::vector<std::size_t> sizes =
      quick ? std::vector<std::size_t>{1000, 10000}
            : std::vector<std::size_t>{1000, 10000, 100000, 1000000};
  report.heading("Learner1D, peak function, time inside ask + tell (median of 3)");

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
      std::vector<double> runs;
      for (int r = 0; r < 3; ++r) runs.push_back(points_per_second(n, batch));
      std::sort(runs.begin(), runs.end());
      const double median = runs[1];
      if (n == sizes.front()) at_smallest = median;
      const double python = python_adaptive(n, batch);
      std::string comparison =
          python > 0 ? fmt::format("{:.0f}x python-adaptive ({:.0f}/s)", median / python, python)
                     : "";
      bench::Figure figure{.name = fmt::format("ask_tell_batch{}_n{}", batch, n),
                           .value = median,
                           .unit = "points/s",
                           .parameters = {{"batch", batch}, {"points", n}, {"repetitions", 3}},
                           .note = comparison};
      if (n == 100000 && batch == 1) figure.target = 1.3e6;
      report.add(figure);
      if (n == sizes.back()) {
        report.add({.name = fmt::format("growth_batch{}", batch),
                    .value = median / at_smallest,
                    .unit = "ratio",
                    .parameters = {{"batch", batch}, {"from", sizes.front()}, {"to", n}},
                    .target = 0.5,
                    .note = "points/s at the largest N over the smallest"});
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
