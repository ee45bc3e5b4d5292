#pragma once
// evaluate: run a learner against a master until a stop condition holds.

#include <algorithm>
#include <concepts>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

#include "taskmaster/core/evaluate.hpp"
#include "taskmaster/history/history_writer.hpp"
#include "taskmaster/masters/thread_master.hpp"

namespace taskmaster {

/// Runs the feedback loop: keeps up to `master.capacity()` tasks unresolved,
/// asking the learner for new points until `stop` holds, telling it every
/// result as it arrives, then drains (or cancels) what is in flight.
/// With `options.history_file` set, every event is written to that file as
/// it happens, so a run killed at any moment can be resumed.
///
/// @code
/// taskmaster::ThreadMaster<double, double> master(f, 4);
/// taskmaster::SequenceLearner<double, double> learner({0.0, 0.5, 1.0});
/// auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(),
///                                     {.history_file = "run.jsonl"});
/// @endcode
template <class M, Learner L>
requires MasterFor<std::remove_cvref_t<M>, L> RunSummary<input_of<L>, output_of<L>> evaluate(
    M&& master, L& learner, const StopCondition& stop,
    const RunOptions<input_of<L>, output_of<L>>& options = {}) {
  std::unique_ptr<HistoryWriter<input_of<L>, output_of<L>>> writer;
  if (options.history_file) {
    writer = std::make_unique<HistoryWriter<input_of<L>, output_of<L>>>(*options.history_file);
  }
  return detail::evaluate_new(master, learner, stop, options, writer.get());
}

/// The one-line form, in the spirit of TaskMaster.jl's `play!`: evaluates
/// `f` on a ThreadMaster with one worker per hardware thread.
///
/// @code
/// taskmaster::SequenceLearner<double, double> learner({1.0, 2.0, 3.0});
/// taskmaster::evaluate([](double x) { return x * x; }, learner, taskmaster::stop::exhausted());
/// @endcode
template <class F, Learner L>
requires(!Master<std::remove_cvref_t<F>>) &&
    std::invocable<F&, const input_of<L>&> RunSummary<input_of<L>, output_of<L>> evaluate(
        F&& f, L& learner, const StopCondition& stop,
        const RunOptions<input_of<L>, output_of<L>>& options = {}) {
  const std::size_t workers = std::max(1U, std::thread::hardware_concurrency());
  ThreadMaster<input_of<L>, output_of<L>> master(std::forward<F>(f), workers);
  return evaluate(master, learner, stop, options);
}

}  // namespace taskmaster
