#pragma once
// `taskmaster simulate` for one learner type: the virtual workers, the
// goals on their clock and what the run measured.

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"
#include "masters.hpp"
#include "scalar_output_learner.hpp"
#include "taskmaster/evaluate.hpp"
#include "taskmaster/masters/simulated_master.hpp"
#include "test_functions.hpp"
#include "vector_output_master.hpp"

namespace taskmaster::cli {

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

/// A simulation as the command line describes it.
struct Simulation {
  RunConfig config;
  const TestFunction* function = nullptr;
  TaskDurations durations = TaskDurations::fixed(1);
  std::string durations_text;
  std::vector<WorkerChange> schedule;
  std::optional<std::filesystem::path> history;
};

/// The run's goals measured on the virtual clock `now`.
inline StopCondition stop_in_virtual_time(const RunConfig& c, const double& now) {
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

/// One simulated run of a simulation: on how many workers, with which
/// changes, written where.
struct SimulatedRun {
  const Simulation& simulation;
  std::size_t workers;
  const std::vector<WorkerChange>& schedule;
  const std::optional<std::filesystem::path>& history;
};

/// Runs `learner` on the run's virtual workers evaluating `f`.
template <class L, class F>
Measured simulate_on(const SimulatedRun& run, L& learner, F f) {
  const Simulation& s = run.simulation;
  using X = input_of<L>;
  using Y = std::vector<double>;
  SimulatedMaster<X, Y> master(std::move(f), run.workers, s.durations,
                               {.seed = s.config.seed, .schedule = run.schedule});
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
  options.history_file = run.history;
  const auto summary = evaluate(master, learner, stop, options);
  Measured m;
  m.virtual_seconds = goal_time.value_or(master.now());
  m.utilization = master.utilization();
  m.told = summary.progress.told;
  m.failed = summary.progress.failed;
  m.cancelled = summary.unresolved.size();
  m.lost = master.lost();
  if constexpr (LossLearner<L>) m.loss = static_cast<double>(learner.loss());
  m.reason = summary.reason;
  return m;
}

/// The function (built in, or the program run once per point) and one
/// simulated run of `learner`.
template <class L>
Measured simulate_learner(L& learner, const SimulatedRun& run) {
  using X = input_of<L>;
  const Simulation& s = run.simulation;
  if (s.function != nullptr) {
    auto f = [tf = s.function](const X& x) {
      const TestPoint p = test_point(x);
      return std::vector<double>{tf->f(p.x, p.seed)};
    };
    return simulate_on(run, learner, f);
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
    return simulate_on(run, learner, f);
  });
}

}  // namespace taskmaster::cli
