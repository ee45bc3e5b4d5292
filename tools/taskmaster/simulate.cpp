#include "simulate.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "history_input.hpp"
#include "learners.hpp"
#include "masters.hpp"
#include "taskmaster/evaluate.hpp"
#include "taskmaster/masters/simulated_master.hpp"
#include "test_functions.hpp"
#include "vector_output_master.hpp"

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

/// What one simulated run measured.
struct Measured {
  double virtual_seconds = 0;  ///< when the goal held (or the run ended)
  double utilization = 0;
  std::uint64_t told = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t lost = 0;
  std::optional<double> loss;
  std::optional<double> estimate;  ///< the integral or mean, for learners that make one
  std::string reason;
};

struct Simulation {
  RunConfig config;
  const TestFunction* function = nullptr;
  TaskDurations durations = TaskDurations::fixed(1);
  std::string durations_text;
  std::vector<WorkerChange> schedule;
  std::optional<std::filesystem::path> history;
};

StopCondition stop_in_virtual_time(const RunConfig& c, const double& now) {
  std::optional<StopCondition> stop;
  for (const auto& g : c.goals) {
    // Every goal is a state reached, measured when it first holds: N points
    // means N results (not N asked), a duration is virtual.
    StopCondition one = g.kind == Goal::Kind::duration
                            ? stop::when(fmt::format("{} s of virtual time", g.value),
                                         [&now, s = g.value](const Progress&) { return now >= s; })
                        : g.kind == Goal::Kind::npoints
                            ? stop::results(static_cast<std::uint64_t>(g.value))
                            : g.stop_condition();
    stop = stop ? std::move(*stop) || std::move(one) : std::move(one);
  }
  return stop ? std::move(*stop) : stop::exhausted();
}

template <class L>
std::optional<double> estimate_of(const L& learner) {
  if constexpr (std::is_same_v<L, Integrator>) return learner.inner().igral();
  if constexpr (std::is_same_v<L, Average>) return learner.inner().mean();
  return std::nullopt;
}

/// Runs `learner` on `workers` virtual workers evaluating `f`.
template <class L, class F>
Measured simulate_on(const Simulation& s, L& learner, F f, std::size_t workers,
                     const std::vector<WorkerChange>& schedule,
                     const std::optional<std::filesystem::path>& history) {
  using X = input_of<L>;
  using Y = std::vector<double>;
  SimulatedMaster<X, Y> master(std::move(f), workers, s.durations,
                               {.seed = s.config.seed, .schedule = schedule});
  double now = 0;
  std::optional<double> goal_time;
  const StopCondition goals = stop_in_virtual_time(s.config, now);
  const StopCondition stop = stop::when(goals.describe(), [&](const Progress& p) {
    now = master.now();
    const bool holds = goals(p);
    if (holds && !goal_time) goal_time = now;
    return holds;
  });
  RunOptions<X, Y> options;
  options.seed = s.config.seed;
  options.retry = {.retries = s.config.retries, .on_failure = OnFailure::record_and_continue};
  // The time to reach the goal is what is measured: what runs then is cancelled.
  options.drain = false;
  options.keep_history = false;
  options.metadata = s.config.to_json();
  options.history_file = history;
  const auto summary = evaluate(master, learner, stop, options);
  Measured m;
  m.virtual_seconds = goal_time.value_or(master.now());
  m.utilization = master.utilization();
  m.told = summary.progress.told;
  m.failed = summary.progress.failed;
  m.cancelled = summary.unresolved.size();
  m.lost = master.lost();
  if constexpr (LossLearner<L>) m.loss = static_cast<double>(learner.loss());
  m.estimate = estimate_of(learner);
  m.reason = summary.reason;
  return m;
}

/// A fresh learner, the function (built in, or the program run once per
/// point), and one simulated run.
Measured simulate(const Simulation& s, std::size_t workers,
                  const std::vector<WorkerChange>& schedule,
                  const std::optional<std::filesystem::path>& history) {
  return with_learner(s.config, [&](auto& learner) {
    using L = std::remove_reference_t<decltype(learner)>;
    using X = input_of<L>;
    if (s.function != nullptr) {
      auto f = [tf = s.function](const X& x) {
        const TestPoint p = test_point(x);
        return std::vector<double>{tf->f(p.x, p.seed)};
      };
      return simulate_on(s, learner, f, workers, schedule, history);
    }
    return with_local_programs<X>(s.config, 1, [&](auto& programs) {
      VectorOutputMaster one(programs, is_scalar_output<L> ? 1 : 0);
      TaskId next_id = 0;
      auto f = [&](const X& x) {
        one.submit(Task<X>{next_id++, x});
        auto r = one.next();
        if (!r) throw std::runtime_error("the program gave no result");
        if (!r->ok()) throw std::runtime_error(r->error);
        return std::move(*r->y);
      };
      return simulate_on(s, learner, f, workers, schedule, history);
    });
  });
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

}  // namespace

SimulateCommand::SimulateCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "simulate",
      "Run a learner on N virtual workers with a virtual clock: time, points, utilization, "
      "parallel efficiency.");
  std::string footer = simulate_example + function_names() + ".";
  for (const auto& f : test_functions())
    footer += fmt::format("\n  {:<11}{} (learner {})", f.name, f.description, f.learner);
  command_->footer(footer);
  auto* c = command_;
  c->add_option("--function", flags_.function, "A built-in test function (see below)");
  c->add_option("--learner", flags_.learner,
                "Learner: 1d, 2d, nd, sequence, integrator, average or average1d (default: the "
                "one the function suits, else 1d)");
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
}

bool SimulateCommand::parsed() const { return command_->parsed(); }

int SimulateCommand::run(std::vector<std::string> command) const {
  const Flags& f = flags_;
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
  c.loss = f.loss;
  for (const auto& p : f.loss_params) c.loss_params.insert(parse_loss_param(p));
  for (const auto& p : f.learner_params)
    c.learner_params.insert(parse_loss_param(p, "--learner-param"));
  const bool finishes = c.learner == "integrator" || c.learner == "average";
  for (const auto& g :
       f.goals.empty() ? std::vector<std::string>{finishes ? "done" : "npoints=100"} : f.goals) {
    c.goals.push_back(Goal::parse(g));
  }
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

}  // namespace taskmaster::cli
