#include "learner_descriptor.hpp"

#include "learner_type.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace taskmaster::cli {
namespace {

std::vector<std::unique_ptr<LearnerDescriptor>>& registry() {
  static std::vector<std::unique_ptr<LearnerDescriptor>> descriptors;
  return descriptors;
}

std::vector<const LearnerDescriptor*>& listing() {
  static std::vector<const LearnerDescriptor*> descriptors;
  return descriptors;
}

/// "a, b and c" (with `last` " and ") for messages.
std::string listed(const std::vector<std::string>& names, const char* last) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? last : ", ") + names[i];
  return out;
}

/// "1d: a, b; 2d: c" for the learners whose `items` are not empty.
template <class Items>
std::string per_learner(const char* between, const char* after_name, Items items) {
  std::string out;
  for (const auto* d : registered_learners()) {
    const std::vector<std::string> list = items(*d);
    if (list.empty()) continue;
    std::string joined;
    for (const auto& item : list) joined += (joined.empty() ? "" : ", ") + item;
    out += fmt::format("{}{}{}{}", out.empty() ? "" : between, d->name, after_name, joined);
  }
  return out;
}

}  // namespace

std::string LearnerDescriptor::default_loss() const {
  return losses.empty() ? std::string("default") : losses.front().name;
}

const LossDescriptor* LearnerDescriptor::loss_named(const std::string& loss) const {
  const auto found =
      std::find_if(losses.begin(), losses.end(), [&](const auto& l) { return l.name == loss; });
  return found == losses.end() ? nullptr : &*found;
}

const LearnerDescriptor& register_learner(LearnerDescriptor descriptor) {
  for (const auto* known : listing()) {
    if (known->name == descriptor.name)
      throw std::logic_error(fmt::format("learner '{}' registered twice", descriptor.name));
  }
  if (descriptor.default_goal == nullptr || descriptor.operations == nullptr)
    throw std::logic_error(fmt::format("learner '{}' is incomplete", descriptor.name));
  registry().push_back(std::make_unique<LearnerDescriptor>(std::move(descriptor)));
  listing().push_back(registry().back().get());
  return *registry().back();
}

const std::vector<const LearnerDescriptor*>& registered_learners() { return listing(); }

const LearnerDescriptor& learner_named(const std::string& name) {
  for (const auto* d : listing()) {
    if (d->name == name) return *d;
  }
  throw UsageError(
      fmt::format("--learner: unknown learner '{}' (known: {})", name, learner_names()));
}

std::string learner_names() {
  std::string names;
  for (const auto* d : listing()) names += (names.empty() ? "" : ", ") + d->name;
  return names;
}

std::vector<Goal> goals_or_default(const std::vector<std::string>& texts, const RunConfig& c) {
  std::vector<Goal> goals;
  for (const auto& g :
       texts.empty() ? std::vector<std::string>{learner_named(c.learner).default_goal(c)} : texts) {
    goals.push_back(Goal::parse(g));
  }
  return goals;
}

std::optional<std::uint64_t> count_param(const RunConfig& c, const std::string& name) {
  const auto v = learner_param(c, name);
  if (!v) return std::nullopt;
  if (!(*v >= 0) || *v != std::floor(*v) || *v > 1e18) {
    throw UsageError(
        fmt::format("--learner-param: {} must be a whole number >= 0, got {}", name, *v));
  }
  return static_cast<std::uint64_t>(*v);
}

std::string learner_choices() {
  std::vector<std::string> names;
  for (const auto* d : registered_learners()) names.push_back(d->name);
  return listed(names, " or ");
}

std::string learner_params_help() {
  return per_learner("; ", " ", [](const LearnerDescriptor& d) { return d.params; });
}

std::string losses_help() {
  return per_learner("; ", ": ", [](const LearnerDescriptor& d) {
    std::vector<std::string> names;
    for (const auto& l : d.losses) names.push_back(l.name);
    return names;
  });
}

std::string default_goals_help() {
  std::vector<std::string> done;
  for (const auto* d : registered_learners()) {
    RunConfig c;
    c.learner = d->name;
    if (d->default_goal(c) == "done") done.push_back(d->name);
  }
  return "done for " + listed(done, " and ");
}

}  // namespace taskmaster::cli
