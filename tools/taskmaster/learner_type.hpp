#pragma once
// The typed half of a learner's record: how to build it from a run's
// configuration, how to draw it, and what only it knows.

#include <cairo.h>

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"
#include "learner_descriptor.hpp"

namespace taskmaster::cli {

struct Picture;

/// What the tool needs of learner type `L` beyond the Learner concept.
///
/// @code
/// taskmaster::cli::LearnerType<Learner1> type{
///     .make = [](const RunConfig& c) { return Learner1(c.bounds[0][0], c.bounds[0][1]); },
///     .picture = draw_curve};
/// @endcode
template <class L>
struct LearnerType {
  /// A fresh learner for a configuration `validate_settings` accepted; may
  /// throw std::invalid_argument naming a value the learner refuses.
  L (*make)(const RunConfig&) = nullptr;
  /// How `taskmaster plot` draws it (pictures.hpp).
  void (*picture)(cairo_t*, const L&, const Picture&) = nullptr;
  /// The one number it estimates (an integral, a mean), if it does.
  std::optional<double> (*estimate)(const L&) = nullptr;
  /// `taskmaster info`'s line about that estimate.
  std::string (*estimate_line)(const L&) = nullptr;
  /// Makes a fresh learner ready to be told recorded results without being
  /// asked first (a sequence takes results only for points it handed out).
  void (*ready_for_results)(L&) = nullptr;
};

/// The loss parameters a run gives, with the default of those it leaves out.
///
/// @code
/// double factor = taskmaster::cli::LossParams{config}.get("area_factor", 1.0);
/// @endcode
struct LossParams {
  const RunConfig& config;
  [[nodiscard]] double get(const std::string& name, double fallback) const {
    const auto it = config.loss_params.find(name);
    return it == config.loss_params.end() ? fallback : it->second;
  }
};

/// One `--loss` of a learner whose losses are of type `Loss`: its name and
/// parameters, and how to build it.
template <class Loss>
struct LossChoice {
  LossDescriptor descriptor;
  Loss (*make)(const LossParams&);
};

/// The descriptors of `choices`, for the learner's record.
template <class Loss>
std::vector<LossDescriptor> loss_descriptors(const std::vector<LossChoice<Loss>>& choices) {
  std::vector<LossDescriptor> out;
  for (const auto& c : choices) out.push_back(c.descriptor);
  return out;
}

/// The loss `config` names (the first of `choices` when it names none).
template <class Loss>
Loss make_loss(const std::vector<LossChoice<Loss>>& choices, const RunConfig& config) {
  for (const auto& c : choices) {
    if (config.loss.empty() || c.descriptor.name == config.loss) return c.make({config});
  }
  throw UsageError(
      fmt::format("--loss: unknown loss '{}' for learner {}", config.loss, config.learner));
}

/// A `--learner-param`, if given.
inline std::optional<double> learner_param(const RunConfig& c, const std::string& name) {
  const auto it = c.learner_params.find(name);
  return it == c.learner_params.end() ? std::nullopt : std::optional<double>(it->second);
}

/// A `--learner-param` that must be a whole number >= 0.
std::optional<std::uint64_t> count_param(const RunConfig& c, const std::string& name);

}  // namespace taskmaster::cli
