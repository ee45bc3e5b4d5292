#pragma once
// How long a simulated task takes: a seeded distribution of virtual seconds.

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/history/history.hpp"

namespace taskmaster {

/// A distribution of task durations in virtual seconds, for SimulatedMaster.
///
/// Every draw is computed here from the raw 64-bit output of a
/// std::mt19937_64 (whose sequence the standard fixes), not by the standard
/// library's distributions (whose algorithms it leaves to each
/// implementation): a seed gives the same durations on every platform, which
/// is what makes a simulation itself replayable.
///
/// @code
/// auto durations = taskmaster::TaskDurations::parse("lognormal:0,0.5");
/// std::mt19937_64 rng(7);
/// double seconds = durations.draw(rng);
/// @endcode
class TaskDurations {
 public:
  enum class Kind { fixed, uniform, lognormal, pareto, recorded };

  /// Every task takes `seconds`.
  static TaskDurations fixed(double seconds) {
    require(seconds >= 0, "fixed: the duration must be >= 0");
    return TaskDurations(Kind::fixed, seconds, seconds);
  }
  /// Uniform on [lo, hi].
  static TaskDurations uniform(double lo, double hi) {
    require(lo >= 0 && hi >= lo, "uniform: need 0 <= lo <= hi");
    return TaskDurations(Kind::uniform, lo, hi);
  }
  /// exp(N(mu, sigma^2)): the usual shape of run times of one code over its inputs.
  static TaskDurations lognormal(double mu, double sigma) {
    require(sigma >= 0, "lognormal: sigma must be >= 0");
    return TaskDurations(Kind::lognormal, mu, sigma);
  }
  /// Pareto with minimum `scale` and tail index `shape`: heavy-tailed, a few
  /// tasks take far longer than the rest (infinite variance for shape <= 2).
  static TaskDurations pareto(double scale, double shape) {
    require(scale > 0 && shape > 0, "pareto: need scale > 0 and shape > 0");
    return TaskDurations(Kind::pareto, scale, shape);
  }
  /// Draws (with replacement) from durations measured in a real run.
  static TaskDurations recorded(std::vector<double> seconds) {
    require(!seconds.empty(), "recorded: no durations to draw from");
    for (double s : seconds) require(s >= 0 && std::isfinite(s), "recorded: a duration is < 0");
    TaskDurations d(Kind::recorded, 0, 0);
    d.recorded_ = std::move(seconds);
    return d;
  }
  /// The durations of the evaluations a history records (its tells and fails).
  template <class X, class Y>
  static TaskDurations recorded(const History<X, Y>& history) {
    std::vector<double> seconds;
    for (const auto& e : history.events) {
      if (e.kind == EventKind::tell || e.kind == EventKind::fail) seconds.push_back(e.duration);
    }
    if (seconds.empty()) throw std::invalid_argument("recorded: the history holds no evaluation");
    return recorded(std::move(seconds));
  }

  /// Reads `fixed:S`, `uniform:LO,HI`, `lognormal:MU,SIGMA` or
  /// `pareto:SCALE,SHAPE`; throws std::invalid_argument naming the text.
  static TaskDurations parse(const std::string& text) {
    const auto colon = text.find(':');
    const std::string kind = text.substr(0, colon);
    std::vector<double> values;
    if (colon != std::string::npos) {
      std::size_t start = colon + 1;
      for (;;) {
        const auto comma = text.find(',', start);
        const std::string word = text.substr(start, comma - start);
        std::size_t used = 0;
        double v = 0;
        try {
          v = std::stod(word, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != word.size() || !std::isfinite(v)) {
          throw std::invalid_argument(fmt::format("'{}': '{}' is not a finite number", text, word));
        }
        values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
    const auto need = [&](std::size_t n, const char* form) {
      if (values.size() != n)
        throw std::invalid_argument(fmt::format("'{}': expected {}", text, form));
    };
    try {
      if (kind == "fixed") return need(1, "fixed:SECONDS"), fixed(values[0]);
      if (kind == "uniform") return need(2, "uniform:LO,HI"), uniform(values[0], values[1]);
      if (kind == "lognormal")
        return need(2, "lognormal:MU,SIGMA"), lognormal(values[0], values[1]);
      if (kind == "pareto") return need(2, "pareto:SCALE,SHAPE"), pareto(values[0], values[1]);
    } catch (const std::invalid_argument& e) {
      if (std::string(e.what()).starts_with("'")) throw;
      throw std::invalid_argument(fmt::format("'{}': {}", text, e.what()));
    }
    throw std::invalid_argument(fmt::format(
        "'{}': unknown distribution '{}' (known: fixed, uniform, lognormal, pareto)", text, kind));
  }

  /// One duration, in virtual seconds.
  double draw(std::mt19937_64& rng) const {
    switch (kind_) {
      case Kind::fixed: return a_;
      case Kind::uniform: return a_ + (b_ - a_) * unit(rng);
      case Kind::lognormal: return std::exp(a_ + b_ * normal(rng));
      case Kind::pareto: return a_ * std::pow(1.0 - unit(rng), -1.0 / b_);
      case Kind::recorded: return recorded_[rng() % recorded_.size()];
    }
    return a_;
  }

  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  /// The mean duration, for estimates (infinite for a Pareto of shape <= 1).
  [[nodiscard]] double mean() const {
    switch (kind_) {
      case Kind::fixed: return a_;
      case Kind::uniform: return (a_ + b_) / 2;
      case Kind::lognormal: return std::exp(a_ + b_ * b_ / 2);
      case Kind::pareto:
        return b_ <= 1 ? std::numeric_limits<double>::infinity() : a_ * b_ / (b_ - 1);
      case Kind::recorded: {
        double sum = 0;
        for (double s : recorded_) sum += s;
        return sum / static_cast<double>(recorded_.size());
      }
    }
    return a_;
  }

 private:
  TaskDurations(Kind kind, double a, double b) : kind_(kind), a_(a), b_(b) {}

  static void require(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(what);
  }
  /// Uniform on [0, 1): the top 53 bits as a double's mantissa.
  static double unit(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
  /// Standard normal by Box-Muller (one of the pair, for simplicity).
  static double normal(std::mt19937_64& rng) {
    const double u = 1.0 - unit(rng);  // (0, 1]: log(u) is finite
    const double v = unit(rng);
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * v);
  }

  Kind kind_;
  double a_;
  double b_;
  std::vector<double> recorded_;
};

}  // namespace taskmaster
