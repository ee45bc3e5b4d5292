#pragma once
// AverageLearner1D: a noisy function of one variable, sampled where the
// curve of its averages is least known, and resampled where the averages
// are too uncertain for the distance to their neighbours.

#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
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

#include <fmt/format.h>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// The parameters of AverageLearner1D, python-adaptive's, with its defaults.
struct AverageLearner1DOptions {
  /// A point is resampled while its error exceeds delta times the distance
  /// to its nearest neighbour (0 < delta <= 1).
  double delta = 0.2;
  /// The true mean lies within mean ± error with probability 1 - 2 alpha.
  double alpha = 0.005;
  /// A new point gets at least this fraction of its neighbours' mean number
  /// of samples before it stops counting as undersampled (0 < x <= 1).
  double neighbor_sampling = 0.3;
  /// Samples every point gets before anything else is considered.
  std::uint64_t min_samples = 50;
  /// No point gets more samples than this.
  std::uint64_t max_samples = std::numeric_limits<std::uint64_t>::max();
  /// Errors below this are small enough: the point is not resampled.
  double min_error = 0.0;
};

/// Learns a noisy f(seed, x) -> R on [a, b]: the input is (seed, x), each
/// seed giving an independent sample. It adds new points like Learner1D does
/// on the averages, and resamples a point while its confidence interval
/// (Student t quantile, from Boost.Math) is wide compared with the distance
/// to its neighbours. Native port of python-adaptive's AverageLearner1D,
/// with two changes: among undersampled points the leftmost is served first
/// (python-adaptive takes an arbitrary one), and seeds already pending are
/// not asked again. NaN samples are counted and left out of the averages.
///
/// @code
/// taskmaster::AverageLearner1D learner(-1.0, 1.0, {.min_samples = 20});
/// auto noisy = [](const std::pair<std::int64_t, double>& p) {
///   std::mt19937_64 rng(p.first);
///   return std::tanh(10 * p.second) + std::normal_distribution(0.0, 0.1)(rng);
/// };
/// taskmaster::evaluate(noisy, learner, taskmaster::stop::points(5000));
/// @endcode
class AverageLearner1D {
 public:
  using input_type = std::pair<std::int64_t, double>;
  using output_type = double;

  AverageLearner1D(double a, double b, AverageLearner1DOptions options = {},
                   IntervalLoss loss = losses_1d::distance())
      : curve_(a, b, std::move(loss)), options_(options) {
    const auto& o = options_;
    if (!(o.delta > 0.0 && o.delta <= 1.0)) {
      throw std::invalid_argument(
          fmt::format("AverageLearner1D: need 0 < delta <= 1, got {}", o.delta));
    }
    if (!(o.alpha > 0.0 && o.alpha < 1.0)) {
      throw std::invalid_argument(
          fmt::format("AverageLearner1D: need 0 < alpha < 1, got {}", o.alpha));
    }
    if (!(o.neighbor_sampling > 0.0 && o.neighbor_sampling <= 1.0)) {
      throw std::invalid_argument(fmt::format(
          "AverageLearner1D: need 0 < neighbor_sampling <= 1, got {}", o.neighbor_sampling));
    }
    if (o.min_samples == 0)
      throw std::invalid_argument("AverageLearner1D: min_samples must be at least 1");
    if (o.min_samples > o.max_samples) {
      throw std::invalid_argument(
          fmt::format("AverageLearner1D: max_samples ({}) must be at least min_samples ({})",
                      o.max_samples, o.min_samples));
    }
    if (!(o.min_error >= 0.0)) {
      throw std::invalid_argument(
          fmt::format("AverageLearner1D: need min_error >= 0, got {}", o.min_error));
    }
  }

  // --- asking ---------------------------------------------------------------

  std::optional<input_type> ask(Entropy) { return propose(1).points.front(); }
  std::vector<input_type> ask(std::size_t n, Entropy) { return propose(n).points; }

  /// n samples: either more samples of the point that needs them most, or n
  /// samples of a new point, with their expected loss improvements.
  Proposal<input_type> propose(std::size_t n, bool mark_pending = true) {
    Proposal<input_type> out;
    if (n == 0) return out;
    if (!undersampled_.empty()) {
      more_samples(*undersampled_.begin(), n, out);
    } else if (points_.size() <= 1 || rescaled_order_.empty() ||
               -rescaled_order_.begin()->first <= options_.delta) {
      new_point(n, out);
    } else {
      more_samples(rescaled_order_.begin()->second, n, out);
    }
    if (mark_pending) {
      for (const auto& p : out.points) tell_pending(p);
    }
    return out;
  }

  // --- telling --------------------------------------------------------------

  void tell_pending(const input_type& p) {
    const auto& [seed, x] = p;
    check_x(x);
    if (!pending_.insert(p).second) return;
    auto& next = next_seed_[x];
    next = std::max(next, seed + 1);
    if (!points_.contains(x)) curve_.tell_pending(x);
  }

  void tell(const input_type& p, const double& y) {
    const auto& [seed, x] = p;
    check_x(x);
    pending_.erase(p);
    auto& next = next_seed_[x];
    next = std::max(next, seed + 1);
    if (std::isnan(y)) {
      ++nan_samples_;
      give_up_if_nothing_left(x);
      return;
    }
    auto it = points_.find(x);
    if (it == points_.end()) {
      add_point(seed, x, y);
    } else if (!it->second.samples.contains(seed)) {
      add_sample(it, seed, y);
    }
  }

  void fail(const input_type& p) {
    pending_.erase(p);
    give_up_if_nothing_left(p.second);
  }

  void remove_unfinished() {
    pending_.clear();
    curve_.remove_unfinished();
  }

  // --- reading --------------------------------------------------------------

  /// The loss of the curve of averages (python-adaptive's, as Learner1D's).
  [[nodiscard]] double loss() const { return curve_.loss(); }
  [[nodiscard]] double pending_loss() const { return curve_.pending_loss(); }
  /// Number of distinct points x.
  [[nodiscard]] std::size_t size() const noexcept { return points_.size(); }
  /// Number of samples over all points.
  [[nodiscard]] std::uint64_t samples() const noexcept { return total_samples_; }
  /// Samples that were NaN, left out of the averages.
  [[nodiscard]] std::uint64_t nan_samples() const noexcept { return nan_samples_; }
  /// (x, average) in increasing x.
  [[nodiscard]] std::vector<std::pair<double, double>> data() const { return curve_.data(); }
  /// The half-width of the confidence interval of the average at x.
  [[nodiscard]] double error(double x) const { return points_.at(x).error; }
  [[nodiscard]] std::uint64_t samples_at(double x) const { return points_.at(x).samples.size(); }
  [[nodiscard]] const std::map<std::int64_t, double>& samples_of(double x) const {
    return points_.at(x).samples;
  }
  [[nodiscard]] const Learner1D<double>& curve() const noexcept { return curve_; }

  [[nodiscard]] nlohmann::json save() const {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& [x, s] : points_) {
      const auto r = rescaled_.find(x);
      points.push_back({{"x", saved_number(x)},
                        {"mean", saved_number(s.mean)},
                        {"m2", saved_number(s.m2)},
                        {"error", saved_number(s.error)},
                        {"samples", saved_value(std::vector<std::pair<std::int64_t, double>>(
                                        s.samples.begin(), s.samples.end()))},
                        {"undersampled", undersampled_.contains(x)},
                        {"rescaled_error", r == rescaled_.end() ? nlohmann::json(nullptr)
                                                                : saved_number(r->second)}});
    }
    return seal_state(
        state_kind, state_version,
        {{"curve", curve_.save()}, {"points", points}, {"nan_samples", nan_samples_}});
  }

  /// Loads what `save` wrote into this new learner (else StateError).
  void load(const nlohmann::json& state) {
    load_state(state, state_kind, state_version, points_.empty() && next_seed_.empty(),
               [this](const nlohmann::json& saved, int) { load_payload(saved); });
  }

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "AverageLearner1D";
  static constexpr int state_version = 1;

 private:
  void load_payload(const nlohmann::json& state) {
    curve_.load(state.at("curve"));
    nan_samples_ = state.at("nan_samples").get<std::uint64_t>();
    for (const auto& p : state.at("points")) {
      const double x = read_saved_number(p.at("x"));
      Stats s;
      s.mean = read_saved_number(p.at("mean"));
      s.m2 = read_saved_number(p.at("m2"));
      s.error = read_saved_number(p.at("error"));
      for (const auto& [seed, y] :
           decode<std::vector<std::pair<std::int64_t, double>>>(p.at("samples"))) {
        s.samples.emplace(seed, y);
        next_seed_[x] = std::max(next_seed_[x], seed + 1);
      }
      total_samples_ += s.samples.size();
      points_.emplace(x, std::move(s));
      if (decode<bool>(p.at("undersampled"))) undersampled_.insert(x);
      if (auto r = decode<std::optional<double>>(p.at("rescaled_error"))) set_rescaled(x, *r);
    }
    for (const auto& entry : points_) update_distances(entry.first);
  }

  struct Stats {
    std::map<std::int64_t, double> samples;
    double mean = 0.0;
    double m2 = 0.0;  // sum of squared deviations from the mean (Welford)
    double error = std::numeric_limits<double>::infinity();
  };
  using Points = std::map<double, Stats>;

  void check_x(double x) const {
    if (!(x >= curve_.lower_bound() && x <= curve_.upper_bound())) {
      throw std::invalid_argument(
          fmt::format("AverageLearner1D: x = {} lies outside the bounds [{}, {}]", x,
                      curve_.lower_bound(), curve_.upper_bound()));
    }
  }

  void more_samples(double x, std::size_t n, Proposal<input_type>& out) {
    const auto it = points_.find(x);
    const std::uint64_t existing = it == points_.end() ? 0 : it->second.samples.size();
    const std::int64_t first_seed = next_seed_[x];
    const auto [left, right] = curve_.losses_around(x);
    const double loss = (left + right) / 2;
    const double m = static_cast<double>(existing);
    const double improvement =
        std::isinf(loss) ? std::numeric_limits<double>::infinity()
                         : loss - loss * std::sqrt(m) / std::sqrt(m + static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i) {
      out.points.emplace_back(first_seed + static_cast<std::int64_t>(i), x);
      out.loss_improvements.push_back(improvement / static_cast<double>(n));
    }
  }

  void new_point(std::size_t n, Proposal<input_type>& out) {
    const auto next = curve_.propose(1, false);
    const double x = next.points.front();
    const std::int64_t first_seed = next_seed_.contains(x) ? next_seed_[x] : 0;
    for (std::size_t i = 0; i < n; ++i) {
      out.points.emplace_back(first_seed + static_cast<std::int64_t>(i), x);
      out.loss_improvements.push_back(next.loss_improvements.front() / static_cast<double>(n));
    }
  }

  /// A point none of whose samples arrived and none is pending: the curve
  /// keeps it as a failed divider rather than asking it again.
  void give_up_if_nothing_left(double x) {
    if (points_.contains(x)) return;
    const bool more =
        std::any_of(pending_.begin(), pending_.end(), [x](const auto& q) { return q.second == x; });
    if (!more) curve_.fail(x);
  }

  void add_point(std::int64_t seed, double x, double y) {
    Stats s;
    s.samples.emplace(seed, y);
    s.mean = y;
    auto it = points_.emplace(x, std::move(s)).first;
    ++total_samples_;
    curve_.tell(x, y);
    undersampled_.insert(x);
    set_rescaled(x, std::numeric_limits<double>::infinity());
    update_distances(x);
    update_rescaled_errors(it, false);
  }

  void add_sample(Points::iterator it, std::int64_t seed, double y) {
    const double x = it->first;
    Stats& s = it->second;
    s.samples.emplace(seed, y);
    ++total_samples_;
    const double n = static_cast<double>(s.samples.size());
    // The running mean as python-adaptive updates it, and Welford's sum of
    // squared deviations for the variance (one pass, no re-summing).
    const double old_mean = s.mean;
    s.mean = s.mean * (n - 1) / n + y / n;
    s.m2 += (y - old_mean) * (y - s.mean);
    const std::uint64_t count = s.samples.size();
    if (undersampled_.contains(x) && count >= options_.min_samples) {
      auto prev = it == points_.begin() ? points_.end() : std::prev(it);
      auto next = std::next(it);
      double neighbours = 0.0;
      if (prev != points_.end() && next != points_.end()) {
        neighbours =
            static_cast<double>(prev->second.samples.size() + next->second.samples.size()) / 2;
      } else if (prev != points_.end()) {
        neighbours = static_cast<double>(prev->second.samples.size());
      } else if (next != points_.end()) {
        neighbours = static_cast<double>(next->second.samples.size());
      }
      if (static_cast<double>(count) > options_.neighbor_sampling * neighbours)
        undersampled_.erase(x);
    }
    s.error = error_in_mean(s, count);
    curve_.update_value(x, s.mean, y);
    update_distances(x);
    update_rescaled_errors(it, true);
    if (s.error <= options_.min_error || count >= options_.max_samples) erase_rescaled(x);
  }

  /// Student t quantile times the standard error of the mean.
  double error_in_mean(const Stats& s, std::uint64_t n) const {
    if (n < 2) return std::numeric_limits<double>::infinity();
    const double dof = static_cast<double>(n - 1);
    const double variance_of_mean = s.m2 / dof / static_cast<double>(n);
    const boost::math::students_t_distribution<double> t(dof);
    return boost::math::quantile(t, 1.0 - options_.alpha) * std::sqrt(variance_of_mean);
  }

  /// Distance from each point to its right neighbour in the (x, average)
  /// plane, unscaled, as python-adaptive keeps it.
  void update_distances(double x) {
    auto it = points_.find(x);
    if (it == points_.end()) return;
    if (it != points_.begin()) {
      auto prev = std::prev(it);
      distances_[prev->first] = std::hypot(x - prev->first, it->second.mean - prev->second.mean);
    }
    if (auto next = std::next(it); next != points_.end()) {
      distances_[x] = std::hypot(next->first - x, next->second.mean - it->second.mean);
    }
  }

  void update_rescaled_errors(Points::iterator it, bool resampled) {
    const double x = it->first;
    const bool has_left = it != points_.begin();
    const bool has_right = std::next(it) != points_.end();
    if (!has_left && !has_right) return;
    double d_left = 0.0;
    double d_right = 0.0;
    if (!has_left) {
      d_left = distances_.at(x);
    } else {
      auto left = std::prev(it);
      d_left = distances_.at(left->first);
      if (rescaled_.contains(left->first)) {
        const double norm =
            left == points_.begin()
                ? distances_.at(left->first)
                : std::min(distances_.at(std::prev(left)->first), distances_.at(left->first));
        set_rescaled(left->first, left->second.error / norm);
      }
    }
    if (!has_right) {
      d_right = distances_.at(std::prev(it)->first);
    } else {
      auto right = std::next(it);
      d_right = distances_.at(x);
      if (rescaled_.contains(right->first)) {
        const double norm = std::next(right) == points_.end()
                                ? distances_.at(x)
                                : std::min(distances_.at(x), distances_.at(right->first));
        set_rescaled(right->first, right->second.error / norm);
      }
    }
    if (resampled) set_rescaled(x, it->second.error / std::min(d_left, d_right));
  }

  void set_rescaled(double x, double value) {
    erase_rescaled(x);
    rescaled_.emplace(x, value);
    rescaled_order_.emplace(-(std::isnan(value) ? -std::numeric_limits<double>::infinity() : value),
                            x);
  }
  void erase_rescaled(double x) {
    auto it = rescaled_.find(x);
    if (it == rescaled_.end()) return;
    const double value = it->second;
    rescaled_order_.erase(
        {-(std::isnan(value) ? -std::numeric_limits<double>::infinity() : value), x});
    rescaled_.erase(it);
  }

  Learner1D<double> curve_;  // the averages, learned as a Learner1D
  AverageLearner1DOptions options_;
  Points points_;
  std::map<double, double> distances_;
  std::map<double, double> rescaled_;
  std::set<std::pair<double, double>> rescaled_order_;  // (-rescaled error, x): largest first
  std::set<double> undersampled_;                       // served leftmost first
  std::set<input_type> pending_;
  std::map<double, std::int64_t> next_seed_;
  std::uint64_t total_samples_ = 0;
  std::uint64_t nan_samples_ = 0;
};

}  // namespace taskmaster
