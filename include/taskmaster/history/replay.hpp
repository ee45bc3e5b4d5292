#pragma once
// replay and resume: run a learner through a recorded history, then go on.

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "taskmaster/core/evaluate.hpp"
#include "taskmaster/core/loop.hpp"
#include "taskmaster/history/history_file.hpp"
#include "taskmaster/history/history_master.hpp"
#include "taskmaster/history/history_writer.hpp"

namespace taskmaster {

namespace detail {

/// Replays every segment of `history` into `learner` and returns the loop
/// state at the end of the record: the tasks asked but never resolved, the
/// number of asks, the counters.
template <Learner L>
LoopState<input_of<L>> replay_segments(
    const History<input_of<L>, output_of<L>>& history, L& learner,
    const std::function<void(const HistoryEvent<input_of<L>, output_of<L>>&, const Progress&)>&
        hook) {
  using X = input_of<L>;
  using Y = output_of<L>;
  LoopState<X> state;
  const auto& events = history.events;
  std::size_t begin = 0;
  std::size_t capacity = 0;
  for (std::size_t segment = 0; segment < history.segments.size(); ++segment) {
    std::size_t end = begin;
    while (end < events.size() && events[end].kind != EventKind::resume) ++end;

    std::vector<TaskId> carried;
    for (const auto& entry : state.pending) carried.push_back(entry.first);
    HistoryMaster<X, Y> master(history, begin, end, state.step, carried, capacity);
    const RunSettings& settings = history.segments[segment];
    RunOptions<X, Y> options;
    options.seed = history.settings().seed;
    options.retry = settings.retry;
    options.ask_batch = settings.ask_batch;
    options.keep_history = false;
    options.hook = hook;
    const StopCondition stop = master.stop_condition();
    Loop<HistoryMaster<X, Y>, L> loop(master, learner, stop, options, std::move(state), {},
                                      nullptr);
    loop.run();
    state = std::move(loop).state();
    capacity = master.recorded_capacity();

    // What the loop did not consume must be the segment's closing: tasks
    // cancelled when the run stopped, and its end.
    for (std::size_t i = master.position(); i < end; ++i) {
      const auto& e = events[i];
      if (e.kind == EventKind::cancel) {
        state.pending.erase(e.id);
      } else if (e.kind == EventKind::ask) {
        throw ReplayDivergence(master.step(), "x = " + encode(*e.x), "nothing", e.line);
      } else if (e.kind != EventKind::end && e.kind != EventKind::capacity) {
        throw ReplayDivergence(
            master.step(),
            fmt::format("a {} event of task {} still to come", to_string(e.kind), e.id),
            "nothing more: the replayed loop ended", e.line);
      }
    }
    begin = end + 1;  // skip the resume event
  }
  return state;
}

}  // namespace detail

/// Replays a recorded run into a fresh learner: the learner is asked and told
/// exactly as in the recorded run, and every ask is checked against the
/// record. Throws ReplayDivergence at the first difference. Returns the
/// counters at the end of the record.
///
/// @code
/// auto history = taskmaster::read_history<double, double>("run.jsonl");
/// MyLearner fresh;
/// taskmaster::replay(history, fresh);
/// @endcode
template <Learner L>
Progress replay(const History<input_of<L>, output_of<L>>& history, L& learner,
                std::function<void(const HistoryEvent<input_of<L>, output_of<L>>&, const Progress&)>
                    hook = {}) {
  return detail::replay_segments(history, learner, hook).counts;
}

/// Continues a stopped or killed run from its history file: replays what was
/// recorded into `learner` (checking it as `replay` does), submits again every
/// point that was asked but never answered, then carries on until `stop`
/// holds, appending to the same file. Counters go on from the record, so
/// `stop::points(n)` means n points in the whole run. The seed comes from the
/// file; the retry policy and batch size from `options`.
///
/// @code
/// taskmaster::ThreadMaster<double, double> master(f, 4);
/// MyLearner learner;
/// taskmaster::resume("run.jsonl", master, learner, taskmaster::stop::points(1000));
/// @endcode
template <Master M, Learner L>
requires MasterFor<M, L> RunSummary<input_of<L>, output_of<L>> resume(
    const std::filesystem::path& file, M& master, L& learner, const StopCondition& stop,
    const RunOptions<input_of<L>, output_of<L>>& options = {}) {
  using X = input_of<L>;
  using Y = output_of<L>;
  // The writer's lock first: what is read is then what is appended to, and a
  // second writer (another resume, a run replacing the file) is refused.
  HistorySink sink(file, HistorySink::Mode::append);
  const RawHistory raw = read_raw_history(file, {.allow_truncated_tail = true});
  History<X, Y> history = to_history<X, Y>(raw, file.string());
  detail::LoopState<X> state = detail::replay_segments(history, learner, {});

  RunSettings settings = detail::settings_of(options);
  settings.seed = history.settings().seed;
  if (raw.truncated_tail) sink.truncate(raw.complete_bytes);
  HistoryEvent<X, Y> opening;
  opening.kind = EventKind::resume;
  opening.step = history.segments.size();
  std::string line;
  format_event(line, opening, &settings);
  sink.write(line);

  history.segments.push_back(settings);
  if (options.keep_history) {
    history.events.push_back(opening);
  } else {
    history.events.clear();
  }
  RunOptions<X, Y> effective = options;
  effective.seed = settings.seed;
  effective.ask_batch = settings.ask_batch;
  HistoryWriter<X, Y> writer(sink);
  detail::Loop<M, L> loop(master, learner, stop, effective, std::move(state), std::move(history),
                          &writer);
  return loop.run();
}

}  // namespace taskmaster
