#include "config.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <type_traits>

#include "learner_descriptor.hpp"
#include "master_descriptor.hpp"
#include "taskmaster/masters/command_template.hpp"

namespace taskmaster::cli {
namespace {

std::optional<double> to_number(std::string_view text) {
  // strtod accepts what people type (1e-3, .5, inf); the whole text must be used.
  const std::string s(text);
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

/// The learners that take `--points`, for messages.
std::string learners_of_points() {
  std::vector<std::string> names;
  for (const auto* d : registered_learners()) {
    if (d->dimensions.of_points) names.push_back("learner " + d->name);
  }
  return joined(names);
}

nlohmann::json slurm_json(const SlurmOptions& options) {
  nlohmann::json j = nlohmann::json::object();
  for_each_recorded_slurm_setting(options,
                                  [&](const char* name, const auto& value) { j[name] = value; });
  return j;
}

bool slurm_changed(const SlurmOptions& s) {
  return slurm_json(s) != slurm_json(default_slurm_options());
}

}  // namespace

SlurmOptions default_slurm_options() {
  SlurmOptions options;
  options.work_directory.clear();
  return options;
}

Goal Goal::parse(const std::string& text) {
  const auto eq = text.find('=');
  const auto bad = [&](const std::string& why) {
    return UsageError(fmt::format(
        "--goal: cannot read '{}': {} (expected npoints=N, loss=L, duration=30s or done)", text,
        why));
  };
  if (text == "done") {
    Goal goal;
    goal.kind = Kind::done;
    return goal;
  }
  if (eq == std::string::npos) throw bad("no '='");
  const std::string name = text.substr(0, eq);
  std::string value = text.substr(eq + 1);
  Goal goal;
  if (name == "npoints") {
    goal.kind = Kind::npoints;
    const auto v = to_number(value);
    if (!v || !(*v >= 1) || *v != std::floor(*v) || *v > 1e15)
      throw bad("N must be a whole number >= 1");
    goal.value = *v;
  } else if (name == "loss") {
    goal.kind = Kind::loss;
    const auto v = to_number(value);
    if (!v || !std::isfinite(*v) || *v < 0) throw bad("L must be a number >= 0");
    goal.value = *v;
  } else if (name == "duration") {
    goal.kind = Kind::duration;
    double unit = 1;
    if (!value.empty() && (value.back() == 's' || value.back() == 'm' || value.back() == 'h')) {
      unit = value.back() == 's' ? 1 : value.back() == 'm' ? 60 : 3600;
      value.pop_back();
    }
    const auto v = to_number(value);
    if (!v || !std::isfinite(*v) || !(*v > 0))
      throw bad("the duration must be positive, like 30s, 5m or 1h");
    if (!(*v * unit <= max_seconds))
      throw bad(fmt::format("the duration must be at most {:g} s", max_seconds));
    goal.value = *v * unit;
  } else {
    throw bad(fmt::format("unknown goal '{}'", name));
  }
  return goal;
}

std::string Goal::to_string() const {
  switch (kind) {
    case Kind::npoints: return fmt::format("npoints={}", static_cast<std::uint64_t>(value));
    case Kind::loss: return fmt::format("loss={}", value);
    case Kind::duration: return fmt::format("duration={}s", value);
    case Kind::done: return "done";
  }
  return {};
}

StopCondition Goal::stop_condition() const {
  switch (kind) {
    case Kind::npoints: return stop::points(static_cast<std::uint64_t>(value));
    case Kind::loss: return stop::loss_below(value);
    case Kind::duration: return stop::duration(value);
    case Kind::done: return stop::learner_done();
  }
  throw std::logic_error("unknown goal kind");
}

bool RunConfig::learner_finishes() const { return learner_named(learner).finishes; }

std::vector<std::string> RunConfig::input_names() const {
  const InputKind input = learner_named(learner).input;
  if (input == InputKind::seed) return {"seed"};
  if (input == InputKind::seed_and_number) return {"seed", "x"};
  const std::size_t dims = dimension();
  if (dims == 1) return {"x"};
  std::vector<std::string> names;
  for (std::size_t i = 0; i < dims; ++i) names.push_back(fmt::format("x{}", i));
  return names;
}

std::size_t RunConfig::dimension() const {
  const Dimensions& d = learner_named(learner).dimensions;
  if (d.of_points) return points.empty() ? 1 : points.front().size();
  if (d.at_least) return std::max(bounds.size(), d.count);
  return d.count;
}

StopCondition RunConfig::stop_condition() const {
  if (goals.empty()) throw UsageError("--goal: at least one goal is needed");
  StopCondition stop = goals.front().stop_condition();
  for (std::size_t i = 1; i < goals.size(); ++i) stop = stop || goals[i].stop_condition();
  return stop;
}

std::size_t RunConfig::input_components() const {
  switch (learner_named(learner).input) {
    case InputKind::seed_and_number: return 2;
    case InputKind::point: return dimension();
    case InputKind::number:
    case InputKind::seed: return 0;  // one number or a seed: {x}
  }
  return 0;
}

void RunConfig::validate() const {
  validate_settings();
  const auto& argv = command.empty() ? worker : command;
  if (!is_executable(argv.front())) {
    throw UsageError(fmt::format("{}: program '{}' is missing or not executable",
                                 command.empty() ? "--worker" : "--", argv.front()));
  }
}

void RunConfig::validate_settings() const {
  const LearnerDescriptor& d = learner_named(learner);
  if (d.dimensions.of_points) {
    if (points.empty())
      throw UsageError(
          fmt::format("--points: learner {} needs a file of points (--points FILE)", learner));
    if (!bounds.empty())
      throw UsageError(fmt::format(
          "--bounds: learner {} evaluates the points of --points; drop --bounds", learner));
    for (std::size_t i = 0; i < points.size(); ++i) {
      if (points[i].size() != points.front().size()) {
        throw UsageError(fmt::format("--points: point {} has {} coordinates but the first has {}",
                                     i + 1, points[i].size(), points.front().size()));
      }
    }
  } else if (!points.empty()) {
    throw UsageError(fmt::format("--points: only {} take{} points, not {}", learners_of_points(),
                                 learners_of_points().find(',') == std::string::npos ? "s" : "",
                                 learner));
  } else if (d.dimensions.count == 0 && !d.dimensions.at_least && !bounds.empty()) {
    throw UsageError(
        fmt::format("--bounds: learner {} {}; drop --bounds", learner, d.dimensions.why_no_bounds));
  } else if (bounds.size() != dimension()) {
    throw UsageError(fmt::format(
        "--bounds: learner {} needs {}{} pair{} lo,hi (one --bounds per dimension), got {}",
        learner, d.dimensions.at_least ? "at least " : "", dimension(), dimension() == 1 ? "" : "s",
        bounds.size()));
  }
  for (const auto& [lo, hi] : bounds) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi)) {
      throw UsageError(fmt::format("--bounds: need finite lo < hi, got {},{}", lo, hi));
    }
    // The learners scale by the width: an infinite one would ask x = inf.
    if (!std::isfinite(hi - lo)) {
      throw UsageError(fmt::format(
          "--bounds: the width of {},{} is too large to compute (hi - lo overflows)", lo, hi));
    }
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    for (double v : points[i]) {
      if (!std::isfinite(v))
        throw UsageError(fmt::format("--points: point {} has a coordinate {}", i + 1, v));
    }
  }
  for (const auto& [flag, params] :
       {std::pair{"--loss-param", &loss_params}, std::pair{"--learner-param", &learner_params}}) {
    for (const auto& [name, value] : *params) {
      if (!std::isfinite(value)) {
        throw UsageError(fmt::format("{}: {} must be a finite number, got {}", flag, name, value));
      }
    }
  }
  if (!loss.empty()) {
    const LossDescriptor* found = d.loss_named(loss);
    if (found == nullptr) {
      std::vector<std::string> names;
      for (const auto& l : d.losses) names.push_back(l.name);
      throw UsageError(fmt::format("--loss: unknown loss '{}' for learner {} (known: {})", loss,
                                   learner, joined(names)));
    }
    for (const auto& [name, value] : loss_params) {
      if (std::find(found->params.begin(), found->params.end(), name) == found->params.end()) {
        throw UsageError(fmt::format("--loss-param: loss '{}' has no parameter '{}' (it has: {})",
                                     loss, name, joined(found->params)));
      }
    }
  } else if (!loss_params.empty()) {
    throw UsageError("--loss-param: give --loss too");
  }
  if (goals.empty()) throw UsageError("--goal: at least one goal is needed");
  for (const auto& g : goals) {
    if (g.kind == Goal::Kind::done && !learner_finishes()) {
      throw UsageError(fmt::format(
          "--goal done: learner {} never says it is done; give npoints=, loss= or duration=",
          learner));
    }
  }
  for (const auto& [name, value] : learner_params) {
    if (d.params.empty()) {
      throw UsageError(
          fmt::format("--learner-param: learner {} takes no parameters (got {})", learner, name));
    }
    if (std::find(d.params.begin(), d.params.end(), name) == d.params.end()) {
      throw UsageError(fmt::format("--learner-param: learner {} has no parameter '{}' (it has: {})",
                                   learner, name, joined(d.params)));
    }
  }
  if (command.empty() == worker.empty()) {
    throw UsageError(
        "give the program to sample either after '--' (one process per point) or with "
        "--worker 'PROGRAM ARGS' (long-running workers)");
  }
  const MasterDescriptor& kind = master_named(master);
  if (!kind.why_program_per_point.empty() && command.empty()) {
    throw UsageError(fmt::format("--master {}: {}; give the program after '--' instead of --worker",
                                 master, kind.why_program_per_point));
  }
  if (!kind.takes_slurm_options && slurm_changed(slurm)) {
    throw UsageError("--slurm-*: these options need --master slurm");
  }
  if (kind.takes_slurm_options && (slurm.cpus_per_task == 0 || slurm.cpus_per_task > max_workers)) {
    throw UsageError(fmt::format("--slurm-cpus: need 1 to {} CPUs per task, got {}", max_workers,
                                 slurm.cpus_per_task));
  }
  if (workers == 0 || workers > max_workers) {
    throw UsageError(fmt::format("--workers: need 1 to {} at once, got {}", max_workers, workers));
  }
  if (retries > max_retries)
    throw UsageError(fmt::format("--retries: need 0 to {}, got {}", max_retries, retries));
  if (prefetch > max_prefetch)
    throw UsageError(fmt::format("--prefetch: need 0 to {}, got {}", max_prefetch, prefetch));
  if (prefetch != 0 && worker.empty()) {
    throw UsageError(
        "--prefetch: tasks are sent ahead only to long-running --worker programs, and this run "
        "has none");
  }
  if (timeout && !(*timeout > 0 && *timeout <= max_seconds)) {
    throw UsageError(
        fmt::format("--timeout: need seconds > 0 and at most {:g}, got {}", max_seconds, *timeout));
  }
  if (!command.empty()) {
    // A placeholder the input cannot fill would fail every point, one by one.
    std::size_t used = 0;
    try {
      used = CommandTemplate(command).components_used();
    } catch (const std::invalid_argument& e) {
      throw UsageError(fmt::format("--: {}", e.what()));
    }
    if (used > input_components()) {
      throw UsageError(fmt::format(
          "--: the command uses {{x{}}}, but the input of learner {} {}", used - 1, learner,
          input_components() == 0 ? std::string("is one number: use {x}")
                                  : fmt::format("has {} components, {{x0}} to {{x{}}}",
                                                input_components(), input_components() - 1)));
    }
  }
}

nlohmann::json RunConfig::to_json() const {
  nlohmann::json j;
  j["tool"] = "taskmaster";
  j["learner"] = learner;
  j["bounds"] = bounds;
  j["loss"] = loss;
  j["loss_params"] = loss_params;
  std::vector<std::string> goal_texts;
  for (const auto& g : goals) goal_texts.push_back(g.to_string());
  j["goals"] = goal_texts;
  if (!command.empty()) j["command"] = command;
  if (!worker.empty()) j["worker"] = worker;
  j["workers"] = workers;
  if (prefetch != 0) j["prefetch"] = prefetch;
  j["retries"] = retries;
  j["timeout"] = timeout ? nlohmann::json(*timeout) : nlohmann::json(nullptr);
  j["seed"] = seed;
  j["master"] = master;
  if (master_named(master).takes_slurm_options) j["slurm"] = slurm_json(slurm);
  if (learner_named(learner).dimensions.of_points) j["points"] = points;
  if (!learner_params.empty()) j["learner_params"] = learner_params;
  return j;
}

namespace {

/// A whole number >= 0 from a header, without nlohmann's conversions, which
/// wrap negative numbers and have undefined results for floats out of range.
std::uint64_t header_count(const nlohmann::json& j, const char* name) {
  if (j.is_number_unsigned()) return j.get<std::uint64_t>();
  if (j.is_number_integer() && j.get<std::int64_t>() >= 0)
    return static_cast<std::uint64_t>(j.get<std::int64_t>());
  throw UsageError(fmt::format("\"{}\" must be a whole number >= 0, got {}", name, j.dump()));
}

}  // namespace

RunConfig RunConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object() || j.value("tool", "") != "taskmaster") {
    throw UsageError(
        "the history was not written by the taskmaster command (its header has no "
        "\"meta\":{\"tool\":\"taskmaster\",...})");
  }
  try {
    RunConfig c;
    c.learner = j.at("learner").get<std::string>();
    c.bounds = j.at("bounds").get<std::vector<std::array<double, 2>>>();
    c.loss = j.value("loss", "");
    c.loss_params = j.value("loss_params", std::map<std::string, double>{});
    for (const auto& g : j.at("goals")) c.goals.push_back(Goal::parse(g.get<std::string>()));
    c.command = j.value("command", std::vector<std::string>{});
    c.worker = j.value("worker", std::vector<std::string>{});
    c.workers = std::min(header_count(j.at("workers"), "workers"), max_workers + 1);
    if (j.contains("prefetch"))
      c.prefetch = std::min(header_count(j.at("prefetch"), "prefetch"), max_prefetch + 1);
    if (j.contains("retries"))
      c.retries = static_cast<unsigned>(
          std::min(header_count(j.at("retries"), "retries"), max_retries + 1));
    if (j.contains("timeout") && !j.at("timeout").is_null())
      c.timeout = j.at("timeout").get<double>();
    if (j.contains("seed")) c.seed = header_count(j.at("seed"), "seed");
    c.master = j.value("master", "local");
    if (const auto s = j.find("slurm"); s != j.end()) {
      for_each_recorded_slurm_setting(c.slurm, [&](const char* name, auto& value) {
        if (!s->contains(name)) return;
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, unsigned>) {
          value = static_cast<unsigned>(std::min(header_count(s->at(name), name), max_workers + 1));
        } else {
          value = s->at(name).get<std::decay_t<decltype(value)>>();
        }
      });
    }
    c.points = j.value("points", std::vector<std::vector<double>>{});
    c.learner_params = j.value("learner_params", std::map<std::string, double>{});
    if (c.command.empty() == c.worker.empty())
      throw UsageError("it names no program, or two (\"command\" and \"worker\")");
    for (const auto& argv : {c.command, c.worker}) {
      if (!argv.empty() && argv.front().empty()) throw UsageError("its program is empty");
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw UsageError(fmt::format("the configuration is damaged: {}", e.what()));
  }
}

std::uint64_t parse_count(const char* flag, const std::string& text, std::uint64_t min,
                          std::uint64_t max) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end || value < min || value > max) {
    throw UsageError(
        fmt::format("{}: need a whole number from {} to {}, got '{}'", flag, min, max, text));
  }
  return value;
}

double parse_finite(const char* flag, const std::string& text) {
  const auto v = to_number(text);
  if (!v || !std::isfinite(*v))
    throw UsageError(fmt::format("{}: need a finite number, got '{}'", flag, text));
  return *v;
}

std::array<double, 2> parse_bounds(const std::string& text) {
  const auto comma = text.find(',');
  const auto lo = comma == std::string::npos ? std::nullopt
                                             : to_number(std::string_view(text).substr(0, comma));
  const auto hi = comma == std::string::npos ? std::nullopt
                                             : to_number(std::string_view(text).substr(comma + 1));
  if (!lo || !hi)
    throw UsageError(fmt::format("--bounds: cannot read '{}' (expected lo,hi like -1,1)", text));
  return {*lo, *hi};
}

std::pair<std::string, double> parse_loss_param(const std::string& text, const char* flag) {
  const auto eq = text.find('=');
  const auto v =
      eq == std::string::npos ? std::nullopt : to_number(std::string_view(text).substr(eq + 1));
  if (!v || eq == 0)
    throw UsageError(fmt::format("{}: cannot read '{}' (expected name=number)", flag, text));
  return {text.substr(0, eq), *v};
}

void read_learner_settings(RunConfig& c, const std::string& loss,
                           const std::vector<std::string>& loss_params,
                           const std::vector<std::string>& learner_params) {
  c.loss = loss;
  for (const auto& p : loss_params) c.loss_params.insert(parse_loss_param(p));
  for (const auto& p : learner_params)
    c.learner_params.insert(parse_loss_param(p, "--learner-param"));
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        word += c;
    } else if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < text.size() &&
                 std::string_view("\"\\$`").find(text[i + 1]) != std::string_view::npos) {
        word += text[++i];
      } else {
        word += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0)
    throw UsageError(fmt::format("--worker: unbalanced {} quote in '{}'", quote, text));
  if (in_word) words.push_back(std::move(word));
  return words;
}

std::vector<std::vector<double>> read_points(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw UsageError(fmt::format("--points: cannot read '{}'", file));
  std::vector<std::vector<double>> points;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream words(line);
    std::vector<double> point;
    for (std::string word; words >> word;) {
      const auto v = to_number(word);
      if (!v || !std::isfinite(*v)) {
        throw UsageError(
            fmt::format("--points: {}:{}: '{}' is not a finite number", file, number, word));
      }
      point.push_back(*v);
    }
    if (point.empty()) continue;
    if (!points.empty() && point.size() != points.front().size()) {
      throw UsageError(fmt::format("--points: {}:{}: {} coordinates, but the first point has {}",
                                   file, number, point.size(), points.front().size()));
    }
    points.push_back(std::move(point));
  }
  if (points.empty()) throw UsageError(fmt::format("--points: {} holds no point", file));
  return points;
}

std::optional<int> launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    if (const char* value = std::getenv(name); value != nullptr) {
      if (const auto v = to_number(value)) return static_cast<int>(*v);
    }
  }
  return std::nullopt;
}

bool is_executable(const std::string& program) {
  namespace fs = std::filesystem;
  const auto runnable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (program.empty()) return false;
  if (program.find('/') != std::string::npos) return runnable(program);
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    if (runnable(fs::path(dir.empty() ? "." : dir) / program)) return true;
    if (colon == std::string_view::npos) return false;
    dirs.remove_prefix(colon + 1);
  }
}

}  // namespace taskmaster::cli
