#pragma once
// A learner holding a recorded run, for the commands that look at a run
// (plot, info) rather than check it (replay).

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "history_input.hpp"
#include "learners.hpp"
#include "taskmaster/history/replay.hpp"

namespace taskmaster::cli {

/// Calls `f(learner)` with a learner that holds the recorded run: replayed
/// exactly when the record replays, otherwise (the learner's code changed
/// since the run) a fresh learner told every recorded result, with a warning.
///
/// @code
/// double loss = taskmaster::cli::with_recorded_learner(input, [](auto& l) { return l.loss(); });
/// @endcode
template <class F>
decltype(auto) with_recorded_learner(const HistoryInput& input, F&& f) {
  return with_learner(input.config, [&](auto& learner) {
    using L = std::remove_reference_t<decltype(learner)>;
    using X = input_of<L>;
    using Y = std::vector<double>;
    using R = decltype(f(learner));
    const History<X, Y> history = to_history<X, Y>(input.raw, input.path.string());
    try {
      replay(history, learner);
      return f(learner);
    } catch (const ReplayDivergence& d) {
      fmt::print(stderr,
                 "taskmaster: warning: {} does not replay exactly with this build ({}); "
                 "using the recorded results as they are\n",
                 input.path.string(), d.what());
    }
    return with_learner(input.config, [&](auto& fresh) -> R {
      if constexpr (std::is_same_v<std::remove_reference_t<decltype(fresh)>, L>) {
        // A sequence takes results only for points it handed out.
        if constexpr (std::is_same_v<L, Sequence>) {
          while (fresh.ask(Entropy{0})) {
          }
        }
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
      } else {
        throw std::logic_error("the configuration chose another learner the second time");
      }
    });
  });
}

}  // namespace taskmaster::cli
