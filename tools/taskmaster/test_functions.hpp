#pragma once
// Public test functions with known answers, for simulated runs and
// benchmarks: the functions python-adaptive's documentation samples, and
// integrands with known integrals.

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace taskmaster::cli {

/// A function of a point (and of a seed, for noisy ones) with the learner
/// it suits, its usual domain and, where known, the exact answer: the
/// integral over the domain (integrands) or the mean (noise).
struct TestFunction {
  std::string name;
  std::string description;
  std::string learner;
  std::vector<std::array<double, 2>> bounds;
  std::optional<double> reference;
  std::function<double(std::span<const double> x, std::uint64_t seed)> f;
};

namespace test_function_detail {

/// A standard normal determined by `seed` (splitmix64, then Box-Muller):
/// the same number on every platform.
inline double normal_from_seed(std::uint64_t seed) {
  const auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const double u = 1.0 - static_cast<double>(mix(seed) >> 11) * 0x1.0p-53;
  const double v = static_cast<double>(mix(seed ^ 0x5bd1e995ULL) >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
}

inline double peak(double x) {
  constexpr double a = 0.01;
  return x + a * a / (a * a + x * x);
}

}  // namespace test_function_detail

/// Every built-in test function.
inline const std::vector<TestFunction>& test_functions() {
  using namespace test_function_detail;
  using Span = std::span<const double>;
  static const std::vector<TestFunction> all = {
      {"peak",
       "x + a^2/(a^2 + x^2), a = 0.01: a sharp peak on a slope",
       "1d",
       {{-1, 1}},
       std::nullopt,
       [](Span x, std::uint64_t) { return peak(x[0]); }},
      {"ring",
       "x + exp(-(x^2 + y^2 - 0.75^2)^2 / a^4), a = 0.2: a ring of fire",
       "2d",
       {{-1, 1}, {-1, 1}},
       std::nullopt,
       [](Span x, std::uint64_t) {
         const double r = x[0] * x[0] + x[1] * x[1] - 0.75 * 0.75;
         return x[0] + std::exp(-r * r / std::pow(0.2, 4));
       }},
      {"sphere",
       "x + z^2 + exp(-(|x|^2 - 0.75^2)^2 / a^4), a = 0.4: a spherical shell",
       "nd",
       {{-1, 1}, {-1, 1}, {-1, 1}},
       std::nullopt,
       [](Span x, std::uint64_t) {
         double r = -0.75 * 0.75;
         for (double c : x) r += c * c;
         return x[0] + x.back() * x.back() + std::exp(-r * r / std::pow(0.4, 4));
       }},
      {"sqrt",
       "sqrt(x) on [0, 1]: integral 2/3",
       "integrator",
       {{0, 1}},
       2.0 / 3.0,
       [](Span x, std::uint64_t) { return std::sqrt(x[0]); }},
      {"1/sqrt",
       "1/sqrt(x) on [0, 1] (infinite at 0): integral 2",
       "integrator",
       {{0, 1}},
       2.0,
       [](Span x, std::uint64_t) { return 1.0 / std::sqrt(x[0]); }},
      {"log",
       "log(x) on [0, 1] (infinite at 0): integral -1",
       "integrator",
       {{0, 1}},
       -1.0,
       [](Span x, std::uint64_t) { return std::log(x[0]); }},
      {"cos100",
       "cos(100 x) on [0, 1]: integral sin(100)/100",
       "integrator",
       {{0, 1}},
       std::sin(100.0) / 100.0,
       [](Span x, std::uint64_t) { return std::cos(100.0 * x[0]); }},
      {"noise",
       "a standard normal drawn from the seed: mean 0",
       "average",
       {},
       0.0,
       [](Span, std::uint64_t seed) { return normal_from_seed(seed); }},
      {"noisy-peak",
       "peak plus a normal of standard deviation 0.05 drawn from the seed",
       "average1d",
       {{-1, 1}},
       std::nullopt,
       [](Span x, std::uint64_t seed) { return peak(x[0]) + 0.05 * normal_from_seed(seed); }},
  };
  return all;
}

/// The built-in function called `name`, or nullptr.
inline const TestFunction* find_test_function(const std::string& name) {
  for (const auto& f : test_functions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

/// A learner's input as coordinates and a seed, for TestFunction::f.
struct TestPoint {
  std::vector<double> x;
  std::uint64_t seed = 0;
};
inline TestPoint test_point(double x) { return {{x}, 0}; }
inline TestPoint test_point(const std::array<double, 2>& x) { return {{x[0], x[1]}, 0}; }
inline TestPoint test_point(const std::vector<double>& x) { return {x, 0}; }
inline TestPoint test_point(std::uint64_t seed) { return {{}, seed}; }
inline TestPoint test_point(const std::pair<std::int64_t, double>& x) {
  return {{x.second}, static_cast<std::uint64_t>(x.first)};
}

}  // namespace taskmaster::cli
