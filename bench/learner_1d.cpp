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
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "taskmaster/learners/learner_1d.hpp"

namespace {

double peak(double x) {
  const double a = 0.01;
  return x + a * a / (a * a + x * x);
}

bool json_output = false;

void report(const std::string& name, double value, const std::string& unit, nlohmann::json params,
            const std::string& comparison = "") {
  if (json_output) {
    params["name"] = name;
    params["value"] = value;
    params["unit"] = unit;
    fmt::print("{}\n", params.dump());
  } else {
    fmt::print("{:<34} {:>14.6g} {:<9} {}\n", name, value, unit, comparison);
  }
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
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json_output = true;
    } else if (arg == "--quick") {
      quick = true;
    } else {
      fmt::print(stderr, "usage: {} [--quick] [--json]\n", argv[0]);
      return 2;
    }
  }
  const std::vector<std::size_t> sizes =
      quick ? std::vector<std::size_t>{1000, 10000}
            : std::vector<std::size_t>{1000, 10000, 100000, 1000000};
  if (!json_output) fmt::print("Learner1D, peak function, time inside ask + tell (median of 3)\n");

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
    report("memory_per_point", per_point, "bytes", {{"points", n}},
           "resident memory growth / points; target < 400");
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
      if (n == 100000 && batch == 1) comparison += ", target >= 1.3e6/s";
      report(fmt::format("ask_tell_batch{}_n{}", batch, n), median, "points/s",
             {{"batch", batch}, {"points", n}, {"repetitions", 3}}, comparison);
      if (n == sizes.back()) {
        report(fmt::format("growth_batch{}", batch), median / at_smallest, "ratio",
               {{"batch", batch}, {"from", sizes.front()}, {"to", n}},
               "points/s at the largest N over the smallest; target >= 0.5");
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
    report(fmt::format("interpolation_error_n{}", n), adaptive, "mean |err|", {{"points", n}},
           fmt::format("python-adaptive {:.3g} (ratio {:.3f}), uniform grid {:.3g} ({:.0f}x worse)",
                       python, adaptive / python, uniform, uniform / adaptive));
  }
  return 0;
}
