#pragma once
// Monte-Carlo averaging of a noisy function until its mean is known well enough.

#include <fmt/format.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// Estimates the mean of a noisy function f(seed) by sampling it at seeds
/// 0, 1, 2, ... (the lowest seeds not yet taken, as python-adaptive's
/// AverageLearner does), so a run is reproducible without any randomness
/// in the learner: the function draws its noise from the seed.
///
/// Its loss is the standard error of the mean relative to the tolerances,
/// max(stderr / atol, stderr / (rtol |mean|)), infinite below `min_npoints`
/// samples; done() when that is at most 1. A non-finite sample is kept (its
/// seed is not asked again) but left out of the mean and counted in
/// nonfinite_count(), rather than turning the mean into NaN.
///
/// @code
/// taskmaster::AverageLearner learner(/*atol=*/0.01);
/// taskmaster::evaluate([](std::uint64_t seed) { return noisy(seed); }, learner,
///                      taskmaster::stop::learner_done());
/// double estimate = learner.mean();
/// @endcode
class AverageLearner {
 public:
  using input_type = std::uint64_t;
  using output_type = double;

  /// At least one tolerance is required; each given must be positive.
  /// Fewer than 2 minimum points are raised to 2 (a deviation needs two).
  explicit AverageLearner(std::optional<double> atol, std::optional<double> rtol = std::nullopt,
                          std::size_t min_npoints = 2)
      : atol_(atol.value_or(std::numeric_limits<double>::infinity())),
        rtol_(rtol.value_or(std::numeric_limits<double>::infinity())),
        min_npoints_(std::max<std::size_t>(min_npoints, 2)) {
    if (!atol && !rtol) {
      throw std::invalid_argument("AverageLearner: give at least one of atol and rtol");
    }
    if (atol && !(*atol > 0)) {
      throw std::invalid_argument(
          fmt::format("AverageLearner: atol must be positive, got {}", *atol));
    }
    if (rtol && !(*rtol > 0)) {
      throw std::invalid_argument(
          fmt::format("AverageLearner: rtol must be positive, got {}", *rtol));
    }
  }

  std::optional<std::uint64_t> ask(Entropy) {
    const std::uint64_t seed = take_seed();
    return seed;
  }

  std::vector<std::uint64_t> ask(std::size_t n, Entropy) {
    std::vector<std::uint64_t> seeds(n);
    for (auto& seed : seeds) seed = take_seed();
    return seeds;
  }

  /// The n lowest free seeds, each with the loss improvement expected from
  /// it (the drop of the loss from n more samples, shared equally). With
  /// mark_pending false the learner is left unchanged.
  Proposal<std::uint64_t> propose(std::size_t n, bool mark_pending = true) {
    Proposal<std::uint64_t> out;
    const double improvement = n == 0 ? 0.0 : loss_improvement(n) / static_cast<double>(n);
    if (mark_pending) {
      out.points = ask(n, 0);
    } else {
      auto free = free_.begin();
      std::uint64_t next = next_;
      auto ahead = ahead_.begin();
      while (out.points.size() < n) {
        if (free != free_.end()) {
          out.points.push_back(*free++);
          continue;
        }
        while (ahead != ahead_.end() && ahead->first == next) {
          ++ahead;
          ++next;
        }
        out.points.push_back(next++);
      }
    }
    out.loss_improvements.assign(out.points.size(), improvement);
    return out;
  }

  /// A seed told twice keeps its first value.
  void tell(const std::uint64_t& seed, const double& y) {
    if (seed < next_) {
      auto& state = states_[seed];
      if (state == told) return;
      if (state == pending) --pending_;
      if (state == free) free_.erase(seed);
      state = told;
      values_[seed] = y;
    } else {
      auto [it, inserted] = ahead_.try_emplace(seed, Ahead{told, y});
      if (!inserted) {
        if (it->second.state == told) return;
        --pending_;
        it->second = Ahead{told, y};
      }
    }
    add_sample(y);
  }

  void tell_many(const std::vector<std::uint64_t>& seeds, const std::vector<double>& ys) {
    if (seeds.size() != ys.size()) {
      throw std::invalid_argument(fmt::format("AverageLearner::tell_many: {} seeds but {} values",
                                              seeds.size(), ys.size()));
    }
    for (std::size_t i = 0; i < seeds.size(); ++i) tell(seeds[i], ys[i]);
  }

  /// Marks a seed as being evaluated, so it is not proposed.
  void tell_pending(const std::uint64_t& seed) {
    if (seed < next_) {
      auto& state = states_[seed];
      if (state != free) return;
      free_.erase(seed);
      state = pending;
      ++pending_;
    } else if (ahead_.try_emplace(seed, Ahead{pending, 0.0}).second) {
      ++pending_;
    }
  }

  /// The seed will get no value: it is free to be proposed again (first).
  void fail(const std::uint64_t& seed) { release(seed); }

  /// Every pending seed is free again; the lowest are proposed first.
  void remove_unfinished() {
    for (std::uint64_t seed = 0; seed < next_; ++seed) {
      if (states_[seed] == pending) release(seed);
    }
    for (auto it = ahead_.begin(); it != ahead_.end();) {
      if (it->second.state == pending) {
        --pending_;
        it = ahead_.erase(it);
      } else {
        ++it;
      }
    }
  }

  /// Mean of the finite samples (NaN before the first).
  [[nodiscard]] double mean() const noexcept {
    return finite_ == 0 ? std::numeric_limits<double>::quiet_NaN() : mean_;
  }
  /// Sample standard deviation; infinite below min_npoints samples.
  [[nodiscard]] double standard_deviation() const noexcept {
    if (finite_ < min_npoints_) return std::numeric_limits<double>::infinity();
    return std::sqrt(std::max(0.0, m2_ / static_cast<double>(finite_ - 1)));
  }
  [[nodiscard]] double standard_error() const noexcept { return error_with(finite_); }

  [[nodiscard]] double loss() const noexcept { return loss_with(finite_); }
  /// The loss once the pending samples are in (assuming the same spread).
  [[nodiscard]] double pending_loss() const noexcept { return loss_with(finite_ + pending_); }
  /// Both tolerances are met: loss() <= 1.
  [[nodiscard]] bool done() const noexcept { return loss() <= 1; }

  /// Samples told, finite or not.
  [[nodiscard]] std::size_t size() const noexcept { return finite_ + nonfinite_; }
  /// Finite samples, those the mean is made of.
  [[nodiscard]] std::size_t npoints() const noexcept { return finite_; }
  /// Samples that were NaN or infinite, left out of the mean.
  [[nodiscard]] std::size_t nonfinite_count() const noexcept { return nonfinite_; }
  [[nodiscard]] std::size_t pending_count() const noexcept { return pending_; }
  [[nodiscard]] std::size_t min_npoints() const noexcept { return min_npoints_; }

  /// Every told (seed, value), by seed.
  [[nodiscard]] std::vector<std::pair<std::uint64_t, double>> data() const {
    std::vector<std::pair<std::uint64_t, double>> out;
    out.reserve(size());
    for (std::uint64_t seed = 0; seed < next_; ++seed) {
      if (states_[seed] == told) out.emplace_back(seed, values_[seed]);
    }
    for (const auto& [seed, entry] : ahead_) {
      if (entry.state == told) out.emplace_back(seed, entry.y);
    }
    return out;
  }

  [[nodiscard]] nlohmann::json save() const {
    nlohmann::json told_seeds = nlohmann::json::array();
    nlohmann::json pending_seeds = nlohmann::json::array();
    for (const auto& [seed, y] : data()) told_seeds.push_back({seed, saved_number(y)});
    for (std::uint64_t seed = 0; seed < next_; ++seed) {
      if (states_[seed] == pending) pending_seeds.push_back(seed);
    }
    for (const auto& [seed, entry] : ahead_) {
      if (entry.state == pending) pending_seeds.push_back(seed);
    }
    return seal_state(state_kind, state_version,
                      {{"atol", saved_number(atol_)},
                       {"rtol", saved_number(rtol_)},
                       {"min_npoints", min_npoints_},
                       {"next", next_},
                       {"mean", saved_number(mean_)},
                       {"m2", saved_number(m2_)},
                       {"data", std::move(told_seeds)},
                       {"pending", std::move(pending_seeds)}});
  }

  /// Restores what save() wrote into a new learner made with the same
  /// parameters (else StateError).
  void load(const nlohmann::json& state) {
    load_state(state, state_kind, state_version, next_ == 0 && ahead_.empty(),
               [this](const nlohmann::json& saved, int) { load_payload(saved); });
  }

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "AverageLearner";
  static constexpr int state_version = 1;

 private:
  enum State : std::uint8_t { free, pending, told };
  struct Ahead {
    State state;
    double y;
  };

  void load_payload(const nlohmann::json& saved) {
    if (read_saved_number(saved.at("atol")) != atol_ ||
        read_saved_number(saved.at("rtol")) != rtol_ ||
        saved.at("min_npoints").get<std::size_t>() != min_npoints_) {
      throw std::invalid_argument(
          fmt::format("saved with atol {}, rtol {}, min_npoints {}; this learner has {}, {}, {}",
                      saved.at("atol").dump(), saved.at("rtol").dump(),
                      saved.at("min_npoints").dump(), atol_, rtol_, min_npoints_));
    }
    AverageLearner fresh(*this);
    fresh.clear();
    const auto next = saved.at("next").get<std::uint64_t>();
    fresh.states_.assign(next, free);
    fresh.values_.assign(next, 0.0);
    fresh.next_ = next;
    for (const auto& entry : saved.at("data")) {
      const auto seed = entry.at(0).get<std::uint64_t>();
      const double y = read_saved_number(entry.at(1));
      if (seed < next) {
        fresh.states_[seed] = told;
        fresh.values_[seed] = y;
      } else {
        fresh.ahead_[seed] = Ahead{told, y};
      }
      (std::isfinite(y) ? fresh.finite_ : fresh.nonfinite_) += 1;
    }
    for (const auto& entry : saved.at("pending")) fresh.tell_pending(entry.get<std::uint64_t>());
    for (std::uint64_t seed = 0; seed < next; ++seed) {
      if (fresh.states_[seed] == free) fresh.free_.insert(seed);
    }
    // The running statistics as they were, not recomputed: bit-identical.
    fresh.mean_ = read_saved_number(saved.at("mean"));
    fresh.m2_ = read_saved_number(saved.at("m2"));
    *this = std::move(fresh);
  }

  void clear() {
    states_.clear();
    values_.clear();
    free_.clear();
    ahead_.clear();
    next_ = 0;
    pending_ = finite_ = nonfinite_ = 0;
    mean_ = m2_ = 0;
  }

  std::uint64_t take_seed() {
    ++pending_;
    if (!free_.empty()) {
      const std::uint64_t seed = *free_.begin();
      free_.erase(free_.begin());
      states_[seed] = pending;
      return seed;
    }
    // Seeds told or marked before they were reached are skipped.
    while (!ahead_.empty() && ahead_.begin()->first == next_) {
      states_.push_back(ahead_.begin()->second.state);
      values_.push_back(ahead_.begin()->second.y);
      ahead_.erase(ahead_.begin());
      ++next_;
    }
    states_.push_back(pending);
    values_.push_back(0.0);
    return next_++;
  }

  void release(std::uint64_t seed) {
    if (seed < next_) {
      if (states_[seed] != pending) return;
      states_[seed] = free;
      free_.insert(seed);
      --pending_;
    } else {
      auto it = ahead_.find(seed);
      if (it != ahead_.end() && it->second.state == pending) {
        ahead_.erase(it);
        --pending_;
      }
    }
  }

  void add_sample(double y) {
    if (!std::isfinite(y)) {
      ++nonfinite_;
      return;
    }
    // Welford's update: no cancellation when the mean is large against the spread.
    ++finite_;
    const double delta = y - mean_;
    mean_ += delta / static_cast<double>(finite_);
    m2_ += delta * (y - mean_);
  }

  [[nodiscard]] double error_with(std::size_t n) const noexcept {
    if (n < min_npoints_) return std::numeric_limits<double>::infinity();
    return standard_deviation() / std::sqrt(static_cast<double>(n));
  }

  [[nodiscard]] double loss_with(std::size_t n) const noexcept {
    const double error = error_with(n);
    if (!std::isfinite(error)) return std::numeric_limits<double>::infinity();
    if (error == 0) return 0.0;
    const double absolute = error / atol_;
    const double relative = std::isinf(rtol_) ? 0.0 : error / (std::fabs(mean_) * rtol_);
    return std::max(absolute, relative);
  }

  [[nodiscard]] double loss_improvement(std::size_t n) const noexcept {
    const double now = loss();
    if (!std::isfinite(now)) return std::numeric_limits<double>::infinity();
    return now - loss_with(finite_ + n);
  }

  double atol_;
  double rtol_;
  std::size_t min_npoints_;
  std::vector<State> states_;             // by seed, below next_
  std::vector<double> values_;            // by seed, below next_
  std::set<std::uint64_t> free_;          // below next_, to propose again
  std::map<std::uint64_t, Ahead> ahead_;  // told or pending at or above next_
  std::uint64_t next_ = 0;
  std::size_t pending_ = 0;
  std::size_t finite_ = 0;
  std::size_t nonfinite_ = 0;
  double mean_ = 0;
  double m2_ = 0;
};

}  // namespace taskmaster
