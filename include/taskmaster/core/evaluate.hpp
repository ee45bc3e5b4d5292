#pragma once
// evaluate into a sink: the loop of a new run, with every event handed to a
// record as it happens. The everyday form, which writes RunOptions::history_file
// and can pick a ThreadMaster, is in taskmaster/evaluate.hpp.

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "taskmaster/core/event_sink.hpp"
#include "taskmaster/core/loop.hpp"

namespace taskmaster {

namespace detail {
std::string utc_now_iso8601();

template <class X, class Y>
RunSettings settings_of(const RunOptions<X, Y>& options) {
  RunSettings s;
  s.seed = options.seed;
  s.retry = options.retry;
  s.ask_batch = options.ask_batch == 0 ? 1 : options.ask_batch;
  s.started = utc_now_iso8601();
  s.metadata = options.metadata;
  return s;
}

/// A new run: its settings go to `sink` (where there is one) before its
/// first event.
template <class M, Learner L>
requires MasterFor<std::remove_cvref_t<M>, L> RunSummary<input_of<L>, output_of<L>> evaluate_new(
    M& master, L& learner, const StopCondition& stop,
    const RunOptions<input_of<L>, output_of<L>>& options,
    EventSink<input_of<L>, output_of<L>>* sink) {
  using X = input_of<L>;
  using Y = output_of<L>;
  const RunSettings settings = settings_of(options);
  if (sink != nullptr) sink->begin(settings);
  History<X, Y> history;
  history.segments = {settings};
  RunOptions<X, Y> effective = options;
  effective.ask_batch = settings.ask_batch;
  Loop<std::remove_cvref_t<M>, L> loop(master, learner, stop, effective, {}, std::move(history),
                                       sink);
  return loop.run();
}
}  // namespace detail

/// Runs the feedback loop (as taskmaster::evaluate in taskmaster/evaluate.hpp
/// does) and hands every event to `sink` as it happens: a record of the run
/// kept outside the process, by any means. `options.history_file` must be
/// unset: the sink is the record.
///
/// @code
/// taskmaster::HistoryWriter<double, double> writer("run.jsonl");
/// auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(100), {}, writer);
/// @endcode
template <class M, Learner L>
requires MasterFor<std::remove_cvref_t<M>, L> RunSummary<input_of<L>, output_of<L>> evaluate(
    M&& master, L& learner, const StopCondition& stop,
    const RunOptions<input_of<L>, output_of<L>>& options,
    EventSink<input_of<L>, output_of<L>>& sink) {
  if (options.history_file) {
    throw std::invalid_argument(
        "evaluate with an event sink: RunOptions::history_file must be unset (the sink is the "
        "record)");
  }
  return detail::evaluate_new(master, learner, stop, options, &sink);
}

}  // namespace taskmaster
