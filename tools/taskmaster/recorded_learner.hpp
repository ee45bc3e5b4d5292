#pragma once
// A learner holding a recorded run, for the commands that look at a run
// (plot, info) rather than check it (replay).

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "history_input.hpp"
#include "learner_type.hpp"
#include "taskmaster/history/replay.hpp"

namespace taskmaster::cli {

/// A fresh learner of `type` for `c`; a value the learner refuses is the
/// user's mistake.
template <class L>
L fresh_learner(const LearnerType<L>& type, const RunConfig& c) {
  try {
    return type.make(c);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());  // the learner names the value it refuses
  }
}

/// Calls `f(learner)` with a learner that holds the recorded run: replayed
/// exactly when the record replays, otherwise (the learner's code changed
/// since the run) a fresh learner told every recorded result, with a warning.
///
/// @code
/// double loss = taskmaster::cli::with_recorded_learner(type, input, [](auto& l) {
///   return l.loss();
/// });
/// @endcode
template <class L, class F>
decltype(auto) with_recorded_learner(const LearnerType<L>& type, const HistoryInput& input, F&& f) {
  using X = input_of<L>;
  using Y = std::vector<double>;
  const History<X, Y> history = to_history<X, Y>(input.raw, input.path.string());
  {
    L learner = fresh_learner(type, input.config);
    try {
      replay(history, learner);
      return f(learner);
    } catch (const ReplayDivergence& d) {
      fmt::print(stderr,
                 "taskmaster: warning: {} does not replay exactly with this build ({}); "
                 "using the recorded results as they are\n",
                 input.path.string(), d.what());
    }
  }
  L fresh = fresh_learner(type, input.config);
  if (type.ready_for_results != nullptr) type.ready_for_results(fresh);
  for (const auto& e : history.events) {
    if (e.kind != EventKind::tell) continue;
    try {
      fresh.tell(*e.x, *e.y);
    } catch (const std::exception& refused) {
      throw UsageError(fmt::format("HISTORY: {}:{}: the learner refuses this result: {}",
                                   input.path.string(), e.line, refused.what()));
    }
  }
  return f(fresh);
}

}  // namespace taskmaster::cli
