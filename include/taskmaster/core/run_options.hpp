#pragma once
// How a run behaves, and what it reports when it ends.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "taskmaster/core/progress.hpp"
#include "taskmaster/core/run_record.hpp"

namespace taskmaster {

/// Options of `evaluate`. Every field has a sensible default.
///
/// @code
/// taskmaster::RunOptions<double, double> options{
///     .seed = 42,
///     .retry = {.retries = 2},
///     .history_file = "run.jsonl",
/// };
/// @endcode
template <class X, class Y>
struct RunOptions {
  /// Seeds the entropy stream handed to the learner's `ask`.
  std::uint64_t seed = 0;
  /// How often a failed evaluation is tried again, and what a point that
  /// still fails does to the run.
  RetryPolicy retry{};
  /// On stop, wait for the tasks in flight and tell their results (true), or
  /// cancel them (false).
  bool drain = true;
  /// Ask a learner that supports it for up to this many points per call.
  std::size_t ask_batch = 1;
  /// Stream the history to this JSON Lines file as the run goes.
  std::optional<std::filesystem::path> history_file{};
  /// Keep the history in memory and return it in the summary.
  bool keep_history = true;
  /// Called after every event (ask, tell, fail, ...), with the run's progress.
  std::function<void(const HistoryEvent<X, Y>&, const Progress&)> hook{};
  /// Stored in the history header, for the user and for tools.
  nlohmann::json metadata{};
};

/// A task that was in flight when a run ended without resolving it.
template <class X>
struct Unresolved {
  TaskId id = 0;
  X x{};
  unsigned attempts = 0;  ///< failed attempts so far
};

/// What `evaluate` returns.
template <class X, class Y>
struct RunSummary {
  Progress progress;
  /// Why the run ended: the stop condition, "learner exhausted", a failure, ...
  std::string reason;
  /// Tasks asked but never resolved (only when the run cancelled or the
  /// master stopped delivering).
  std::vector<Unresolved<X>> unresolved;
  /// The full record, unless `keep_history` was false.
  History<X, Y> history;
};

}  // namespace taskmaster
