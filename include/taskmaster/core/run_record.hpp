#pragma once
// The record of a run: every ask, result, failure and decision, in order.
// The loop produces it; history/ writes, reads and replays it.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/core/retry_policy.hpp"
#include "taskmaster/core/task.hpp"

namespace taskmaster {

/// The settings that decide the loop's behaviour, recorded so that a replay
/// behaves exactly as the run did.
struct RunSettings {
  std::uint64_t seed = 0;
  RetryPolicy retry{};
  std::size_t ask_batch = 1;
  std::string started;      ///< wall-clock start, ISO 8601 UTC
  nlohmann::json metadata;  ///< free-form, for the user and tools
};

enum class EventKind {
  ask,       ///< the learner proposed x; it was submitted as task `id`
  tell,      ///< task `id` returned y, which was told to the learner
  fail,      ///< task `id` failed; `retry` says whether it was submitted again
  capacity,  ///< the master's capacity changed to `capacity`
  stop,      ///< the stop condition held; `text` says which
  cancel,    ///< task `id` was abandoned unresolved when the run cancelled
  end,       ///< the run ended; `text` says why
  resume,    ///< a new segment: the run was resumed with `settings`
};

/// One entry of a history. Which fields matter depends on `kind`.
template <class X, class Y>
struct HistoryEvent {
  EventKind kind = EventKind::ask;
  TaskId id = 0;
  std::uint64_t step = 0;    ///< ask: the number of the ask, from 0; resume: the segment
  Entropy entropy = 0;       ///< ask: the entropy passed to the learner
  std::optional<X> x;        ///< ask, tell, fail, cancel
  std::optional<Y> y;        ///< tell
  std::string text;          ///< fail: the error; stop, end: the reason
  bool retry = false;        ///< fail: submitted again
  int worker = -1;           ///< tell, fail
  double duration = 0.0;     ///< tell, fail: seconds inside the evaluation
  double time = 0.0;         ///< seconds since the segment started
  std::size_t capacity = 0;  ///< capacity
  std::size_t line = 0;      ///< line in the file it was read from (0: not read)
};

/// A whole run: its events in order and the settings of each segment. A run
/// has one segment, plus one for each time it was resumed; a `resume` event
/// opens segment `step` and `segments[step]` holds its settings.
template <class X, class Y>
struct History {
  std::vector<RunSettings> segments{RunSettings{}};
  std::vector<HistoryEvent<X, Y>> events;

  [[nodiscard]] const RunSettings& settings() const { return segments.front(); }

  /// Each result in the order it was told: (x, y).
  [[nodiscard]] std::vector<std::pair<X, Y>> results() const {
    std::vector<std::pair<X, Y>> out;
    for (const auto& e : events) {
      if (e.kind == EventKind::tell) out.emplace_back(*e.x, *e.y);
    }
    return out;
  }
  /// Each asked point in the order it was asked.
  [[nodiscard]] std::vector<X> asked() const {
    std::vector<X> out;
    for (const auto& e : events) {
      if (e.kind == EventKind::ask) out.push_back(*e.x);
    }
    return out;
  }
  [[nodiscard]] std::size_t count(EventKind kind) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == kind ? 1 : 0;
    return n;
  }
};

[[nodiscard]] const char* to_string(EventKind kind) noexcept;

}  // namespace taskmaster
