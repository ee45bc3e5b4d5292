#include "history_input.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

#include "learner_descriptor.hpp"
#include "taskmaster/history/json_text.hpp"

namespace taskmaster::cli {
namespace {

/// The configuration a header (line 1) or a resume event records, checked
/// as the command line's is.
RunConfig config_at(const nlohmann::json& meta, const std::filesystem::path& path,
                    std::size_t line) {
  try {
    RunConfig c = RunConfig::from_json(meta);
    c.validate_settings();
    return c;
  } catch (const UsageError& e) {
    throw UsageError(
        fmt::format("HISTORY: {}:{}: the run's configuration in the {} is not valid: {}",
                    path.string(), line, line == 1 ? "header" : "resume event", e.what()));
  }
}

/// A number as history files write one, "nan", "inf" and "-inf" included.
std::optional<double> number(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "nan") return std::nan("");
    if (s == "inf") return HUGE_VAL;
    if (s == "-inf") return -HUGE_VAL;
  }
  return std::nullopt;
}

/// Why `x` cannot be an input of the run `c` describes, or nothing.
std::optional<std::string> bad_input(const RunConfig& c, const nlohmann::json& x) {
  const auto seed = [](const nlohmann::json& j) {
    return j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0);
  };
  const auto inside = [&](const nlohmann::json& j,
                          std::size_t dimension) -> std::optional<std::string> {
    const auto v = number(j);
    if (!v || !std::isfinite(*v)) return fmt::format("{} is not a finite number", json_excerpt(j));
    if (dimension < c.bounds.size() &&
        !(c.bounds[dimension][0] <= *v && *v <= c.bounds[dimension][1])) {
      return fmt::format("{} is outside the bounds [{}, {}]", json_excerpt(j),
                         c.bounds[dimension][0], c.bounds[dimension][1]);
    }
    return std::nullopt;
  };
  const LearnerDescriptor& learner = learner_named(c.learner);
  if (learner.input == InputKind::seed) {
    if (!seed(x)) return fmt::format("{} is not a seed (a whole number >= 0)", json_excerpt(x));
    return std::nullopt;
  }
  if (learner.input == InputKind::seed_and_number) {
    if (!x.is_array() || x.size() != 2 || !x[0].is_number_integer())
      return fmt::format("{} is not a pair [seed, x]", json_excerpt(x));
    return inside(x[1], 0);
  }
  const std::size_t dimension = c.dimension();
  if (learner.input == InputKind::number) return inside(x, 0);
  if (!x.is_array() || x.size() != dimension) {
    return fmt::format("{} is not an array of {} number{}", json_excerpt(x), dimension,
                       dimension == 1 ? "" : "s");
  }
  for (std::size_t i = 0; i < dimension; ++i) {
    if (auto why = inside(x[i], i)) return why;
  }
  if (learner.dimensions.of_points) {
    std::vector<double> point;
    for (const auto& v : x) point.push_back(*number(v));
    if (std::find(c.points.begin(), c.points.end(), point) == c.points.end())
      return fmt::format("{} is not one of the sequence's points", json_excerpt(x));
  }
  return std::nullopt;
}

/// The number of components of an output (the tool writes every output as
/// an array), or nothing if it is not a non-empty array of numbers.
std::optional<std::size_t> components_of(const nlohmann::json& y) {
  if (!y.is_array() || y.empty()) return std::nullopt;
  for (const auto& v : y) {
    if (!number(v)) return std::nullopt;
  }
  return y.size();
}

/// Every input and output against the run's configuration, so that the
/// commands see only what a run of it can have written: a line that could
/// not have is named, rather than a learner failing somewhere inside.
void check_events(const HistoryInput& input) {
  const auto fail = [&](std::size_t line, const std::string& why) {
    throw UsageError(fmt::format("HISTORY: {}:{}: {}", input.path.string(), line, why));
  };
  const bool scalar = learner_named(input.config.learner).scalar_output;
  std::size_t components = scalar ? 1 : 0;
  std::size_t first_tell = 0;
  for (const auto& e : input.raw.events) {
    if (e.kind == EventKind::ask) {
      if (auto why = bad_input(input.config, e.x)) {
        fail(e.line,
             fmt::format("x of the ask event: {} (learner {})", *why, input.config.learner));
      }
    } else if (e.kind == EventKind::tell) {
      const auto n = components_of(e.y);
      if (!n) {
        fail(e.line,
             fmt::format("y of the tell event: {} is not an array of numbers", json_excerpt(e.y)));
      }
      if (components != 0 && *n != components) {
        fail(e.line,
             first_tell == 0
                 ? fmt::format("y of the tell event has {} components; learner {} takes one", *n,
                               input.config.learner)
                 : fmt::format("y of the tell event has {} component{}, but that of line {} "
                               "has {}",
                               *n, *n == 1 ? "" : "s", first_tell, components));
      }
      if (first_tell == 0) {
        first_tell = e.line;
        components = *n;
      }
    }
  }
}

}  // namespace

HistoryInput HistoryInput::read(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw UsageError(fmt::format("HISTORY: no such file: {}", path.string()));
  }
  if (std::filesystem::file_size(path, ec) == 0 && !ec) {
    throw UsageError(fmt::format(
        "HISTORY: {} is empty: no run was recorded in it (older versions left such a file when "
        "killed before the run began); start one with 'taskmaster run --history {}'",
        path.string(), path.string()));
  }
  HistoryInput input;
  input.path = path;
  try {
    input.raw = read_raw_history(path, {.allow_truncated_tail = true});
  } catch (const HistoryError& e) {
    throw UsageError(fmt::format("HISTORY: {}", e.what()));  // the file named is not usable
  }
  input.config = config_at(input.raw.segments.front().metadata, path, 1);
  input.latest_config = input.config;
  // A resume records its own settings (its goals, workers); its learner and
  // program are the run's.
  std::size_t resumed_at = 0;
  for (const auto& e : input.raw.events) {
    if (e.kind == EventKind::resume) resumed_at = e.line;
  }
  const auto& last = input.raw.segments.back().metadata;
  if (resumed_at != 0 && last.is_object() && last.contains("tool")) {
    input.latest_config = config_at(last, path, resumed_at);
    if (input.latest_config.to_json().dump() != input.config.to_json().dump()) {
      RunConfig same_run = input.latest_config;
      same_run.goals = input.config.goals;
      same_run.workers = input.config.workers;
      if (same_run.to_json().dump() != input.config.to_json().dump()) {
        throw UsageError(fmt::format(
            "HISTORY: {}:{}: the resume event records another run than the header (learner, "
            "bounds, loss or program differ)",
            path.string(), resumed_at));
      }
    }
  }
  check_events(input);
  return input;
}

std::size_t HistoryInput::components() const {
  for (const auto& e : raw.events) {
    if (e.kind == EventKind::tell) return e.y.is_array() ? e.y.size() : 1;
  }
  return 0;
}

}  // namespace taskmaster::cli
