#pragma once
// evaluate: run a learner against a master until a stop condition holds.

#include <chrono>
#include <concepts>
#include <ctime>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "taskmaster/core/loop.hpp"
#include "taskmaster/masters/thread_master.hpp"

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
}  // namespace detail

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
  using X = input_of<L>;
  using Y = output_of<L>;
  const RunSettings settings = detail::settings_of(options);
  std::unique_ptr<HistorySink> sink;
  if (options.history_file) {
    sink = std::make_unique<HistorySink>(*options.history_file, HistorySink::Mode::create);
    sink->write(format_header(settings) + "\n");
  }
  History<X, Y> history;
  history.segments = {settings};
  RunOptions<X, Y> effective = options;
  effective.ask_batch = settings.ask_batch;
  detail::Loop<std::remove_cvref_t<M>, L> loop(master, learner, stop, effective, {},
                                               std::move(history), sink.get());
  return loop.run();
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
