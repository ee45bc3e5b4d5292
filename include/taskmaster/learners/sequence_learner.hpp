#pragma once
// A learner that evaluates a given sequence and keeps the results in its order.

#include <concepts>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// Evaluates every point of a sequence once; results come back in any order
/// and are kept in sequence order. Done when every point is told or failed.
/// Its loss is the fraction of points not yet resolved, so loss goals work.
/// Points may repeat: each occurrence is evaluated. A tell finds its point
/// among the pending ones in O(log n) where X is ordered
/// (std::totally_ordered), by a scan otherwise. save()/load() keep the
/// results and failures (X and Y encodable, as a history needs); points that
/// were pending when saved are asked again after loading.
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
    const auto index = take_next();
    if (!index) return std::nullopt;
    add_pending(*index);
    return points_[*index];
  }

  std::vector<X> ask(std::size_t n, Entropy) {
    std::vector<X> out;
    while (out.size() < n) {
      const auto index = take_next();
      if (!index) break;
      add_pending(*index);
      out.push_back(points_[*index]);
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

  /// The sequence, the results by index and the indices that failed.
  [[nodiscard]] nlohmann::json save() const {
    nlohmann::json results = nlohmann::json::array();
    nlohmann::json failed = nlohmann::json::array();
    for (std::size_t i = 0; i < points_.size(); ++i) {
      if (results_[i]) results.push_back({i, saved_value(*results_[i])});
      if (failed_[i]) failed.push_back(i);
    }
    return seal_state(state_kind, state_version,
                      {{"points", saved_value(points_)}, {"results", results}, {"failed", failed}});
  }

  /// Loads what save() wrote into a new learner over the same sequence
  /// (else StateError).
  void load(const nlohmann::json& state) {
    load_state(state, state_kind, state_version, next_ == 0 && again_.empty(),
               [this](const nlohmann::json& saved, int) { load_payload(saved); });
  }

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "SequenceLearner";
  static constexpr int state_version = 1;

 private:
  /// The index to ask next: one asked before a load and left unresolved,
  /// else the next one in order.
  std::optional<std::size_t> take_next() {
    if (!again_.empty()) {
      const std::size_t index = again_.back();
      again_.pop_back();
      return index;
    }
    if (next_ == points_.size()) return std::nullopt;
    return next_++;
  }

  void load_payload(const nlohmann::json& saved) {
    const auto points = decode<std::vector<X>>(saved.at("points"));
    if (points.size() != points_.size()) {
      throw std::invalid_argument(
          fmt::format("saved for {} points, this sequence has {}", points.size(), points_.size()));
    }
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (!(points[i] == points_[i])) {
        throw std::invalid_argument(
            fmt::format("saved for another sequence (point {} differs)", i));
      }
    }
    std::vector<std::optional<Y>> results(points_.size());
    std::vector<bool> failed(points_.size(), false);
    const auto index_of = [this](const nlohmann::json& j) {
      const auto i = decode<std::size_t>(j);
      if (i >= points_.size()) {
        throw std::invalid_argument(
            fmt::format("index {} beyond the {} points", i, points_.size()));
      }
      return i;
    };
    for (const auto& entry : saved.at("results"))
      results[index_of(entry.at(0))] = decode<Y>(entry.at(1));
    for (const auto& entry : saved.at("failed")) failed[index_of(entry)] = true;
    // Resolved points are not asked again; those before the last resolved
    // one that are not (pending when saved) are, first, in order.
    std::size_t next = 0;
    std::size_t resolved = 0;
    for (std::size_t i = 0; i < points_.size(); ++i) {
      if (results[i] || failed[i]) {
        next = i + 1;
        ++resolved;
      }
    }
    std::vector<std::size_t> again;
    for (std::size_t i = next; i-- > 0;) {
      if (!results[i] && !failed[i]) again.push_back(i);
    }
    results_ = std::move(results);
    failed_ = std::move(failed);
    resolved_ = resolved;
    next_ = next;
    again_ = std::move(again);
  }

  // Where X is ordered, the pending points are kept in a multimap from
  // point to index: a tell finds its index in O(log n) however many are
  // pending (10,000 workers keep 10,000 pending). Otherwise they are scanned.
  // Either way the earliest pending occurrence is taken, which keeps
  // duplicates in order (a multimap keeps equal keys in insertion order).
  static constexpr bool ordered = std::totally_ordered<X>;

  void add_pending(std::size_t index) {
    if constexpr (ordered) {
      // A point unequal to itself (NaN) breaks the map's order, and no tell
      // could match it anyway.
      if (points_[index] == points_[index]) pending_by_point_.emplace(points_[index], index);
    } else {
      pending_.push_back(index);
    }
  }

  std::size_t take_pending(const X& x) {
    if constexpr (ordered) {
      // The first of equal keys, if any (none can match a NaN).
      const auto first = x == x ? pending_by_point_.lower_bound(x) : pending_by_point_.end();
      if (first != pending_by_point_.end() && !(x < first->first)) {
        const std::size_t index = first->second;
        pending_by_point_.erase(first);
        return index;
      }
    } else {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (points_[*it] == x) {
          const std::size_t index = *it;
          pending_.erase(it);
          return index;
        }
      }
    }
    throw std::invalid_argument("SequenceLearner: told a point that is not pending");
  }

  std::vector<X> points_;
  std::vector<std::optional<Y>> results_;
  std::vector<bool> failed_;
  std::multimap<X, std::size_t> pending_by_point_;  // where X is ordered
  std::vector<std::size_t> pending_;                // otherwise, in the order asked
  std::vector<std::size_t> again_;                  // to ask again, last one first
  std::size_t next_ = 0;
  std::size_t resolved_ = 0;
};

}  // namespace taskmaster
