// `taskmaster simulate`: a run on N virtual workers with a virtual clock,
// to see how a learner would use a cluster of any size before renting it.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "history_input.hpp"
#include "learner_descriptor.hpp"
#include "learner_operations.hpp"
#include "simulation.hpp"
#include "subcommand.hpp"
#include "test_functions.hpp"

namespace taskmaster::cli {

namespace {

constexpr const char* simulate_example = R"(
Usage: taskmaster simulate [OPTIONS] (--function NAME | -- PROGRAM ARGS... | --worker 'PROGRAM ARGS')
Examples:
  taskmaster simulate --function peak --goal loss=0.005 -j 64 --duration lognormal:0,0.5
  taskmaster simulate --function 1/sqrt --learner-param tol=1e-8 -j 2 --efficiency
  taskmaster simulate --function ring --goal npoints=5000 -j 1000 --duration pareto:1,1.5 \
      --join 3:500 --leave 6:800 --retries 1
  taskmaster simulate --bounds 0,1 -j 10000 --duration history:run.jsonl -- ./simulate {x}
The function is evaluated for real, one point at a time; the durations are
drawn (seeded) and only advance a virtual clock. Built-in functions: )";

/// The flags of `taskmaster simulate`.
struct SimulateFlags {
  std::string function, learner, loss, worker, history, points, duration = "fixed:1";
  std::vector<std::string> bounds, goals, loss_params, learner_params, joins, leaves;
  std::string workers = "1", retries = "0", seed = "0";
  bool efficiency = false;
  bool json = false;
  bool overwrite = false;
};

/// One simulated run of a fresh learner of the simulation's kind.
Measured simulate(const Simulation& s, std::size_t workers,
                  const std::vector<WorkerChange>& schedule,
                  const std::optional<std::filesystem::path>& history) {
  return learner_named(s.config.learner)
      .operations->simulate(SimulatedRun{s, workers, schedule, history});
}

std::vector<WorkerChange> parse_changes(const std::vector<std::string>& texts, int sign,
                                        const char* flag) {
  std::vector<WorkerChange> out;
  for (const auto& text : texts) {
    const auto colon = text.find(':');
    if (colon == std::string::npos) {
      throw UsageError(fmt::format("{}: '{}' must be TIME:WORKERS, e.g. 60:100", flag, text));
    }
    const double time = parse_finite(flag, text.substr(0, colon));
    if (time < 0) throw UsageError(fmt::format("{}: the time in '{}' is < 0", flag, text));
    const auto n = parse_count(flag, text.substr(colon + 1), 1, max_workers);
    out.push_back({.time = time, .count = sign * static_cast<int>(n)});
  }
  return out;
}

TaskDurations parse_durations(const std::string& text) {
  if (text.starts_with("history:")) {
    const HistoryInput input = HistoryInput::read(text.substr(8));
    std::vector<double> seconds;
    for (const auto& e : input.raw.events) {
      if (e.kind == EventKind::tell || e.kind == EventKind::fail) seconds.push_back(e.duration);
    }
    if (seconds.empty()) {
      throw UsageError(fmt::format("--duration: {} records no evaluation", text.substr(8)));
    }
    return TaskDurations::recorded(std::move(seconds));
  }
  try {
    return TaskDurations::parse(text);
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("--duration: {} (or history:FILE)", e.what()));
  }
}

std::string function_names() {
  std::string names;
  for (const auto& f : test_functions()) names += (names.empty() ? "" : ", ") + f.name;
  return names;
}

int run_simulation(const SimulateFlags& f, std::vector<std::string> command);

}  // namespace

Subcommand add_simulate_command(CLI::App& app) {
  auto flags = std::make_shared<SimulateFlags>();
  SimulateFlags& flags_ = *flags;
  auto* command_ = app.add_subcommand(
      "simulate",
      "Run a learner on N virtual workers with a virtual clock: time, points, utilization, "
      "parallel efficiency.");
  std::string footer = simulate_example + function_names() + ".";
  for (const auto& f : test_functions())
    footer += fmt::format("\n  {:<11}{} (learner {})", f.name, f.description, f.learner);
  command_->footer(footer);
  auto* c = command_;
  c->add_option("--function", flags_.function, "A built-in test function (see below)");
  c->add_option(
      "--learner", flags_.learner,
      "Learner: " + learner_choices() + " (default: the one the function suits, else 1d)");
  c->add_option("--learner-param", flags_.learner_params, "name=value for the learner (as run)")
      ->allow_extra_args(false);
  c->add_option("--points", flags_.points,
                "For --learner sequence: a file with one point per line");
  c->add_option("--bounds", flags_.bounds, "lo,hi per dimension (default: the function's)")
      ->allow_extra_args(false)
      ->take_all();
  c->add_option("--loss", flags_.loss, "Loss (as run)");
  c->add_option("--loss-param", flags_.loss_params, "name=value for the loss (repeatable)")
      ->allow_extra_args(false);
  c->add_option(
       "--goal", flags_.goals,
       "npoints=N, loss=L, duration=SECONDS (virtual) or done (repeatable; default as run)")
      ->allow_extra_args(false);
  c->add_option("--worker", flags_.worker,
                "Long-running worker command speaking the JSON Lines protocol");
  c->add_option("-j,--workers", flags_.workers, "Virtual workers")->capture_default_str();
  c->add_option("--duration", flags_.duration,
                "Task durations in virtual seconds: fixed:S, uniform:LO,HI, lognormal:MU,SIGMA, "
                "pareto:SCALE,SHAPE or history:FILE (those a recorded run measured)")
      ->capture_default_str();
  c->add_option("--join", flags_.joins, "TIME:N: N more workers at virtual TIME (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--leave", flags_.leaves,
                "TIME:N: N workers leave at virtual TIME; their tasks fail (repeatable)")
      ->allow_extra_args(false);
  c->add_option("--retries", flags_.retries, "Tries again a failed point this often")
      ->capture_default_str();
  c->add_option("--seed", flags_.seed, "Seed of the learner's entropy and of the durations")
      ->capture_default_str();
  c->add_option("--history", flags_.history, "Also write the simulation's history (JSON Lines)");
  c->add_flag("--overwrite", flags_.overwrite, "Replace the history file if it exists");
  c->add_flag("--efficiency", flags_.efficiency,
              "Also simulate 1 worker: speedup and parallel efficiency T1 / (N TN)");
  c->add_flag("--json", flags_.json, "One JSON object instead of text");
  return {command_,
          [flags](std::vector<std::string> program) {
            return run_simulation(*flags, std::move(program));
          },
          true};
}

namespace {

int run_simulation(const SimulateFlags& f, std::vector<std::string> command) {
  Simulation s;
  RunConfig& c = s.config;
  if (!f.function.empty()) {
    s.function = find_test_function(f.function);
    if (s.function == nullptr) {
      throw UsageError(fmt::format("--function: unknown function '{}' (known: {})", f.function,
                                   function_names()));
    }
    if (!command.empty() || !f.worker.empty())
      throw UsageError("--function: give a built-in function or a program, not both");
  } else if (command.empty() && f.worker.empty()) {
    throw UsageError("simulate: give --function NAME, a program after '--', or --worker");
  }
  c.learner = !f.learner.empty() ? f.learner : s.function ? s.function->learner : "1d";
  for (const auto& b : f.bounds) c.bounds.push_back(parse_bounds(b));
  if (!f.points.empty()) c.points = read_points(f.points);
  if (c.bounds.empty() && c.points.empty() && s.function != nullptr) c.bounds = s.function->bounds;
  read_learner_settings(c, f.loss, f.loss_params, f.learner_params);
  c.goals = goals_or_default(f.goals, c);
  c.command = std::move(command);
  // A built-in function is recorded as a program of that name, so that the
  // history's header is complete: `taskmaster replay` and `info` read it
  // (`resume` would look for the program and say it is not there).
  if (s.function != nullptr) c.command = {"taskmaster-function", s.function->name};
  if (!f.worker.empty()) c.worker = split_words(f.worker);
  c.workers = parse_count("--workers", f.workers, 1, max_workers);
  c.retries = static_cast<unsigned>(parse_count("--retries", f.retries, 0, max_retries));
  c.seed = parse_count("--seed", f.seed, 0, std::numeric_limits<std::uint64_t>::max());
  if (s.function != nullptr) {
    c.validate_settings();
  } else {
    c.validate();
  }
  s.durations = parse_durations(f.duration);
  s.durations_text = f.duration;
  s.schedule = parse_changes(f.joins, 1, "--join");
  for (auto& leave : parse_changes(f.leaves, -1, "--leave")) s.schedule.push_back(leave);
  if (!f.history.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(f.history, ec) && std::filesystem::file_size(f.history, ec) != 0 &&
        !f.overwrite) {
      throw UsageError(fmt::format(
          "--history: {} already holds a run; pass --overwrite to replace it", f.history));
    }
    s.history = f.history;
  }

  const auto started = std::chrono::steady_clock::now();
  const Measured m = simulate(s, c.workers, s.schedule, s.history);
  std::optional<Measured> one;
  if (f.efficiency) one = simulate(s, 1, {}, std::nullopt);
  const double real_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::optional<double> error;
  if (s.function != nullptr && s.function->reference && m.estimate)
    error = std::abs(*m.estimate - *s.function->reference);
  std::optional<double> speedup;
  std::optional<double> efficiency;
  if (one && m.virtual_seconds > 0) {
    speedup = one->virtual_seconds / m.virtual_seconds;
    efficiency = *speedup / static_cast<double>(c.workers);
  }

  if (f.json) {
    nlohmann::json j = {
        {"workers", c.workers},
        {"learner", c.learner},
        {"function", f.function.empty() ? nlohmann::json() : nlohmann::json(f.function)},
        {"duration", s.durations_text},
        {"seed", c.seed},
        {"virtual_seconds", m.virtual_seconds},
        {"points", m.told},
        {"failed", m.failed},
        {"cancelled", m.cancelled},
        {"lost", m.lost},
        {"utilization", m.utilization},
        {"reason", m.reason},
        {"real_seconds", real_seconds}};
    j["loss"] = m.loss ? nlohmann::json(*m.loss) : nlohmann::json();
    j["estimate"] = m.estimate ? nlohmann::json(*m.estimate) : nlohmann::json();
    j["error"] = error ? nlohmann::json(*error) : nlohmann::json();
    if (one) {
      j["one_worker"] = {{"virtual_seconds", one->virtual_seconds}, {"points", one->told}};
      j["speedup"] = speedup ? nlohmann::json(*speedup) : nlohmann::json();
      j["efficiency"] = efficiency ? nlohmann::json(*efficiency) : nlohmann::json();
    }
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("simulated {} worker{} ({} learner, durations {} with mean {:.4g} s, seed {})\n",
             c.workers, c.workers == 1 ? "" : "s", c.learner, s.durations_text, s.durations.mean(),
             c.seed);
  fmt::print("ended: {}\n", m.reason);
  fmt::print("virtual wall time: {:.6g} s\n", m.virtual_seconds);
  fmt::print(
      "points: {} ({} failed, {} cancelled in flight at the end, {} lost with their worker)\n",
      m.told, m.failed, m.cancelled, m.lost);
  if (m.loss) fmt::print("loss: {:.6g}\n", *m.loss);
  if (m.estimate) {
    fmt::print("estimate: {:.15g}", *m.estimate);
    if (error) fmt::print(" (exact {:.15g}, error {:.3g})", *s.function->reference, *error);
    fmt::print("\n");
  }
  fmt::print("utilization: {:.4f}\n", m.utilization);
  if (one) {
    fmt::print("1 worker: {:.6g} s, {} points\n", one->virtual_seconds, one->told);
    if (speedup) {
      fmt::print("speedup: {:.4g}; parallel efficiency: {:.4f}\n", *speedup, *efficiency);
    }
  }
  fmt::print("real time: {:.3f} s\n", real_seconds);
  if (s.history) fmt::print("history: {}\n", s.history->string());
  return 0;
}

}  // namespace
}  // namespace taskmaster::cli
