#pragma once
// A learner that evaluates a given sequence and keeps the results in its order.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/entropy.hpp"

namespace taskmaster {

/// Evaluates every point of a sequence once; results come back in any order
/// and are kept in sequence order. Done when every point is told or failed.
/// Its loss is the fraction of points not yet resolved, so loss goals work.
/// Points may repeat: each occurrence is evaluated.
///
/// @code
/// taskmaster::SequenceLearner<double, double> learner({0.1, 0.2, 0.3});
/// taskmaster::evaluate([](double x) { return 2 * x; }, learner, taskmaster::stop::exhausted());
/// double second = *learner.result(1);  // 0.4
/// @endcode
template <class X, class Y>
class SequenceLearner {
 public:
  using input_type = X;
  using output_type = Y;

  explicit SequenceLearner(std::vector<X> points)
      : points_(std::move(points)), results_(points_.size()), failed_(points_.size(), false) {}

  std::optional<X> ask(Entropy) {
    if (next_ == points_.size()) return std::nullopt;
    pending_.push_back(next_);
    return points_[next_++];
  }

  std::vector<X> ask(std::size_t n, Entropy) {
    std::vector<X> out;
    while (out.size() < n && next_ < points_.size()) {
      pending_.push_back(next_);
      out.push_back(points_[next_++]);
    }
    return out;
  }

  void tell(const X& x, const Y& y) {
    results_[take_pending(x)] = y;
    ++resolved_;
  }
  void fail(const X& x) {
    failed_[take_pending(x)] = true;
    ++resolved_;
  }

  [[nodiscard]] bool done() const noexcept { return resolved_ == points_.size(); }
  [[nodiscard]] double loss() const noexcept {
    return points_.empty()
               ? 0.0
               : 1.0 - static_cast<double>(resolved_) / static_cast<double>(points_.size());
  }

  [[nodiscard]] std::size_t size() const noexcept { return points_.size(); }
  [[nodiscard]] const X& point(std::size_t i) const { return points_.at(i); }
  /// The result of the i-th point, if it has one yet.
  [[nodiscard]] const std::optional<Y>& result(std::size_t i) const { return results_.at(i); }
  /// Every result in sequence order (empty where none arrived).
  [[nodiscard]] const std::vector<std::optional<Y>>& results() const noexcept { return results_; }
  /// Whether the i-th point failed for good.
  [[nodiscard]] bool failed(std::size_t i) const { return failed_.at(i); }

 private:
  // Pending points are few (at most the master's capacity), so a scan finds
  // the told point's index without requiring X to be hashable; the earliest
  // pending occurrence is taken, which keeps duplicates in order.
  std::size_t take_pending(const X& x) {
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (points_[*it] == x) {
        const std::size_t index = *it;
        pending_.erase(it);
        return index;
      }
    }
    throw std::invalid_argument("SequenceLearner: told a point that is not pending");
  }

  std::vector<X> points_;
  std::vector<std::optional<Y>> results_;
  std::vector<bool> failed_;
  std::vector<std::size_t> pending_;
  std::size_t next_ = 0;
  std::size_t resolved_ = 0;
};

}  // namespace taskmaster
