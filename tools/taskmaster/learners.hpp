#pragma once
// The learners the tool offers, built from a RunConfig and handed to a
// generic callable: the one place where the run-time choice of learner
// meets the compile-time types.

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "scalar_output_learner.hpp"
#include "taskmaster/learners/average_learner.hpp"
#include "taskmaster/learners/average_learner_1d.hpp"
#include "taskmaster/learners/integrator_learner.hpp"
#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/learners/learner_2d.hpp"
#include "taskmaster/learners/learner_nd.hpp"
#include "taskmaster/learners/sequence_learner.hpp"

namespace taskmaster::cli {

using Learner1 = Learner1D<std::vector<double>>;
using Learner2 = Learner2D<std::vector<double>>;
using LearnerN = LearnerND<std::vector<double>>;
using Sequence = SequenceLearner<std::vector<double>, std::vector<double>>;
using Integrator = ScalarOutputLearner<IntegratorLearner>;
using Average = ScalarOutputLearner<AverageLearner>;
using Average1 = ScalarOutputLearner<AverageLearner1D>;

inline double param(const RunConfig& c, const std::string& name, double fallback) {
  const auto it = c.loss_params.find(name);
  return it == c.loss_params.end() ? fallback : it->second;
}

/// A `--learner-param`, if given.
inline std::optional<double> learner_param(const RunConfig& c, const std::string& name) {
  const auto it = c.learner_params.find(name);
  return it == c.learner_params.end() ? std::nullopt : std::optional<double>(it->second);
}

/// A `--learner-param` that must be a whole number >= 0.
inline std::optional<std::uint64_t> count_param(const RunConfig& c, const std::string& name) {
  const auto v = learner_param(c, name);
  if (!v) return std::nullopt;
  if (!(*v >= 0) || *v != std::floor(*v) || *v > 1e18) {
    throw UsageError(
        fmt::format("--learner-param: {} must be a whole number >= 0, got {}", name, *v));
  }
  return static_cast<std::uint64_t>(*v);
}

inline IntervalLoss interval_loss(const RunConfig& c) {
  const std::string& name = c.loss.empty() ? std::string("distance") : c.loss;
  if (name == "distance") return losses_1d::distance();
  if (name == "uniform") return losses_1d::uniform();
  if (name == "triangle") return losses_1d::triangle();
  if (name == "abs_min_log") return losses_1d::abs_min_log();
  if (name == "curvature") {
    return losses_1d::curvature(param(c, "area_factor", 1.0), param(c, "euclid_factor", 0.02),
                                param(c, "horizontal_factor", 0.02));
  }
  if (name == "resolution") {
    return losses_1d::resolution(param(c, "min_length", 0.0), param(c, "max_length", 1.0));
  }
  throw UsageError(fmt::format("--loss: unknown loss '{}' for learner 1d", name));
}

inline TriangleLoss triangle_loss(const RunConfig& c) {
  const std::string& name = c.loss.empty() ? std::string("default") : c.loss;
  if (name == "default") return loss2d::default_loss();
  if (name == "uniform") return loss2d::uniform();
  if (name == "triangle") return loss2d::triangle();
  if (name == "minimize_triangle_surface") return loss2d::minimize_triangle_surface();
  if (name == "resolution") {
    return loss2d::resolution(param(c, "min_distance", 0.0), param(c, "max_distance", 1.0));
  }
  throw UsageError(fmt::format("--loss: unknown loss '{}' for learner 2d", name));
}

inline SimplexLoss simplex_loss(const RunConfig& c) {
  const std::string& name = c.loss.empty() ? std::string("default") : c.loss;
  if (name == "default") return lossnd::default_loss();
  if (name == "uniform") return lossnd::uniform();
  if (name == "std") return lossnd::std_loss();
  if (name == "triangle") return lossnd::triangle();
  if (name == "curvature") return lossnd::curvature(param(c, "exploration", 0.05));
  throw UsageError(fmt::format("--loss: unknown loss '{}' for learner nd", name));
}

/// Builds a fresh learner for `c` and calls `f(learner)` with it.
///
/// @code
/// auto points = taskmaster::cli::with_learner(config, [](auto& learner) { return learner.size();
/// });
/// @endcode
template <class F>
decltype(auto) with_learner(const RunConfig& c, F&& f) {
  // Bounds or loss parameters the learner refuses are the user's mistake.
  const auto checked = [](auto make) {
    try {
      return make();
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());  // the learner names the value it refuses
    }
  };
  if (c.learner == "1d") {
    Learner1 learner =
        checked([&] { return Learner1(c.bounds.at(0)[0], c.bounds.at(0)[1], interval_loss(c)); });
    return f(learner);
  }
  if (c.learner == "2d") {
    Learner2 learner = checked([&] {
      return Learner2(Bounds2D{c.bounds.at(0), c.bounds.at(1)}, triangle_loss(c));
    });
    return f(learner);
  }
  if (c.learner == "nd") {
    LearnerN learner = checked([&] { return LearnerN(c.bounds, simplex_loss(c)); });
    return f(learner);
  }
  if (c.learner == "sequence") {
    Sequence learner(c.points);
    return f(learner);
  }
  if (c.learner == "integrator") {
    Integrator learner = checked([&] {
      return Integrator(IntegratorLearner(c.bounds.at(0)[0], c.bounds.at(0)[1],
                                          learner_param(c, "tol").value_or(1e-6)));
    });
    return f(learner);
  }
  if (c.learner == "average") {
    Average learner = checked([&] {
      const auto atol = learner_param(c, "atol");
      const auto rtol = learner_param(c, "rtol");
      return Average(AverageLearner(!atol && !rtol ? std::optional<double>(0.01) : atol, rtol,
                                    count_param(c, "min_npoints").value_or(2)));
    });
    return f(learner);
  }
  if (c.learner == "average1d") {
    Average1 learner = checked([&] {
      AverageLearner1DOptions o;
      o.delta = learner_param(c, "delta").value_or(o.delta);
      o.alpha = learner_param(c, "alpha").value_or(o.alpha);
      o.neighbor_sampling = learner_param(c, "neighbor_sampling").value_or(o.neighbor_sampling);
      o.min_samples = count_param(c, "min_samples").value_or(o.min_samples);
      o.max_samples = count_param(c, "max_samples").value_or(o.max_samples);
      o.min_error = learner_param(c, "min_error").value_or(o.min_error);
      return Average1(AverageLearner1D(c.bounds.at(0)[0], c.bounds.at(0)[1], o, interval_loss(c)));
    });
    return f(learner);
  }
  throw UsageError(
      fmt::format("--learner: unknown learner '{}' (known: {})", c.learner, known_learners));
}

}  // namespace taskmaster::cli
