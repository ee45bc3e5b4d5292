#pragma once
// A small adaptive learner for tests: what it asks depends on the results it
// was told and on their order, and it draws on the entropy, so it exercises
// everything replay has to reproduce.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <vector>

#include "taskmaster/core/entropy.hpp"

namespace taskmaster::test_support {

class GapLearner {
 public:
  using input_type = double;
  using output_type = double;

  std::optional<double> ask(Entropy entropy) {
    if (points_.empty()) return take(0.0);
    if (points_.size() == 1) return take(1.0);
    // The interval with the largest dx * (1 + |dy|) is split near its middle.
    double best_loss = -1.0;
    double best_left = 0.0;
    double best_right = 0.0;
    for (auto it = points_.begin(), next = std::next(it); next != points_.end(); ++it, ++next) {
      const double dx = next->first - it->first;
      double dy = 0.0;
      if (it->second && next->second) dy = std::fabs(*next->second - *it->second);
      const double loss = dx * (1.0 + dy);
      if (loss > best_loss) {
        best_loss = loss;
        best_left = it->first;
        best_right = next->first;
      }
    }
    const double jitter = 0.1 * (unit_interval(entropy) - 0.5);
    return take(best_left + (best_right - best_left) * (0.5 + jitter));
  }

  void tell(const double& x, const double& y) {
    auto it = points_.find(x);
    if (it == points_.end()) throw std::invalid_argument("GapLearner: told a point it never asked");
    if (it->second) throw std::logic_error("GapLearner: told the same point twice");
    it->second = y;
    ++told_;
  }
  void fail(const double& x) {
    points_.erase(x);
    ++failed_;
  }

  [[nodiscard]] double loss() const {
    if (points_.size() < 2) return 1.0;
    double largest = 0.0;
    for (auto it = points_.begin(), next = std::next(it); next != points_.end(); ++it, ++next) {
      largest = std::max(largest, next->first - it->first);
    }
    return largest;
  }

  /// Every point with its value (none while pending), in x order.
  [[nodiscard]] const std::map<double, std::optional<double>>& points() const { return points_; }
  [[nodiscard]] std::size_t told() const { return told_; }
  [[nodiscard]] std::size_t failed() const { return failed_; }

 private:
  double take(double x) {
    points_.emplace(x, std::nullopt);
    return x;
  }

  std::map<double, std::optional<double>> points_;
  std::size_t told_ = 0;
  std::size_t failed_ = 0;
};

}  // namespace taskmaster::test_support
