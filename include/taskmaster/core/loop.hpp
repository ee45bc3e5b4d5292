#pragma once
// The engine behind evaluate, replay and resume: one segment of a run.
// Users call evaluate(), replay() or resume(); this header is their common core.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/core/event_sink.hpp"
#include "taskmaster/core/learner.hpp"
#include "taskmaster/core/master.hpp"
#include "taskmaster/core/run_options.hpp"
#include "taskmaster/core/stop.hpp"

namespace taskmaster::detail {

/// Everything a run carries from one segment to the next: how many asks were
/// made (which also indexes the entropy stream), the next task id, the tasks
/// still unresolved, and the counters.
template <class X>
struct LoopState {
  std::uint64_t step = 0;
  TaskId next_id = 0;
  std::unordered_map<TaskId, Unresolved<X>> pending;
  Progress counts;
};

template <class L>
double loss_thunk(const void* learner) {
  return static_cast<double>(static_cast<const L*>(learner)->loss());
}
template <class L>
bool done_thunk(const void* learner) {
  return static_cast<bool>(static_cast<const L*>(learner)->done());
}

/// Runs one segment: asks while fewer than capacity tasks are unresolved and
/// the stop condition does not hold, otherwise takes one result and tells it.
/// Given the order in which results arrive, every decision is determined,
/// which is what lets a HistoryMaster replay it.
template <Master M, Learner L>
requires MasterFor<M, L>
class Loop {
 public:
  using X = input_of<L>;
  using Y = output_of<L>;

  Loop(M& master, L& learner, const StopCondition& stop, const RunOptions<X, Y>& options,
       LoopState<X> state, History<X, Y> history, EventSink<X, Y>* sink)
      : master_(master),
        learner_(learner),
        stop_(stop),
        options_(options),
        state_(std::move(state)),
        sink_(sink),
        recording_(sink != nullptr || options.keep_history || static_cast<bool>(options.hook)) {
    summary_.history = std::move(history);
    progress_() = state_.counts;
    progress_().in_flight = 0;
    progress_().learner = &learner_;
    if constexpr (LossLearner<L>) progress_().loss_of = &loss_thunk<L>;
    if constexpr (FinishingLearner<L>) progress_().done_of = &done_thunk<L>;
  }

  /// Runs to the end of the segment. On an exception from the learner, the
  /// master or a hook, the history gets an `end` event naming the error and
  /// the exception propagates; everything already told stays recorded.
  RunSummary<X, Y> run() {
    start_ = std::chrono::steady_clock::now();
    try {
      resubmit_pending();
      loop();
    } catch (const std::exception& e) {
      abandon(fmt::format("error: {}", e.what()));
      throw;
    } catch (...) {
      abandon("error: unknown exception");
      throw;
    }
    finish();
    state_.counts = summary_.progress;
    state_.counts.in_flight = 0;
    return std::move(summary_);
  }

  /// The state to carry into a following segment (valid after run()).
  LoopState<X> state() && { return std::move(state_); }

 private:
  Progress& progress_() { return summary_.progress; }

  void resubmit_pending() {
    // Sorted by id so the order does not depend on the hash map.
    std::vector<TaskId> ids;
    ids.reserve(state_.pending.size());
    for (const auto& entry : state_.pending) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());
    for (TaskId id : ids) {
      master_.submit(Task<X>{id, state_.pending.at(id).x});
      ++progress_().in_flight;
    }
  }

  void loop() {
    std::size_t last_capacity = std::numeric_limits<std::size_t>::max();
    for (;;) {
      auto& progress = progress_();
      progress.elapsed = std::chrono::steady_clock::now() - start_;
      const std::size_t capacity = master_.capacity();
      if (capacity != last_capacity) {
        last_capacity = capacity;
        progress.capacity = capacity;
        if (recording_)
          record(make_event(EventKind::capacity, [&](auto& e) { e.capacity = capacity; }));
      }
      if (!stopping_ && progress.in_flight < capacity) {
        if (stop_(progress)) {
          begin_stop(stop_.describe());
          if (!options_.drain) return cancel_in_flight();
          continue;
        }
        if (ask_some(capacity - progress.in_flight)) continue;
        if (progress.in_flight == 0) {
          reason_ = "learner exhausted";
          return;
        }
      }
      if (progress.in_flight == 0) {
        if (stopping_) return;
        // No capacity and nothing in flight: wait for workers to join.
        if (stop_(progress)) {
          begin_stop(stop_.describe());
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      auto result = master_.next();
      if (!result) {
        if (!stopping_) reason_ = "the master delivered no more results";
        return;
      }
      handle(std::move(*result));
      if (stopping_ && !options_.drain && progress.in_flight > 0) return cancel_in_flight();
    }
  }

  bool ask_some(std::size_t free) {
    const Entropy entropy = entropy_for(options_.seed, state_.step);
    if constexpr (BatchLearner<L>) {
      const std::size_t n = std::min(free, options_.ask_batch);
      if (n > 1) {
        auto points = learner_.ask(n, entropy);
        if (points.size() > n) {
          throw std::logic_error(
              fmt::format("the learner returned {} points when asked for {}", points.size(), n));
        }
        for (auto& x : points) submit_new(std::move(x), entropy);
        return !points.empty();
      }
    }
    auto x = learner_.ask(entropy);
    if (!x) return false;
    submit_new(std::move(*x), entropy);
    return true;
  }

  void submit_new(X x, Entropy entropy) {
    const TaskId id = state_.next_id++;
    const std::uint64_t step = state_.step++;
    state_.pending.emplace(id, Unresolved<X>{id, x, 0});
    auto& progress = progress_();
    ++progress.asked;
    ++progress.in_flight;
    if (recording_) {
      record(make_event(EventKind::ask, [&](auto& e) {
        e.id = id;
        e.step = step;
        e.entropy = entropy;
        e.x = x;
      }));
    }
    master_.submit(Task<X>{id, std::move(x)});
  }

  void handle(Result<X, Y> result) {
    auto it = state_.pending.find(result.id);
    if (it == state_.pending.end()) {
      throw std::runtime_error(fmt::format(
          "the master returned a result for task id {}, which is not in flight", result.id));
    }
    auto& progress = progress_();
    --progress.in_flight;
    if (result.ok()) {
      X x = std::move(it->second.x);
      state_.pending.erase(it);
      ++progress.told;
      // Written to the file before the learner sees it, so a learner that
      // throws cannot lose the result.
      if (recording_) {
        auto event = make_event(EventKind::tell, [&](auto& e) {
          e.id = result.id;
          e.x = x;
          e.y = *result.y;
          e.worker = result.worker;
          e.duration = result.duration;
        });
        write(event);
        learner_.tell(x, *result.y);
        notify(std::move(event));
      } else {
        learner_.tell(x, *result.y);
      }
      return;
    }
    Unresolved<X>& task = it->second;
    const bool retry = ++task.attempts <= options_.retry.retries;
    if (recording_) {
      record(make_event(EventKind::fail, [&](auto& e) {
        e.id = result.id;
        e.x = task.x;
        e.text = result.error;
        e.retry = retry;
        e.worker = result.worker;
        e.duration = result.duration;
      }));
    }
    if (retry) {
      ++progress.retried;
      ++progress.in_flight;
      master_.submit(Task<X>{result.id, task.x});
      return;
    }
    X x = std::move(task.x);
    state_.pending.erase(it);
    ++progress.failed;
    learner_.fail(x);
    if (options_.retry.on_failure == OnFailure::stop_run && !stopping_) {
      begin_stop(fmt::format("task {} failed: {}", result.id, result.error));
    }
  }

  void begin_stop(std::string reason) {
    stopping_ = true;
    reason_ = std::move(reason);
    if (recording_) record(make_event(EventKind::stop, [&](auto& e) { e.text = reason_; }));
  }

  void cancel_in_flight() {
    master_.cancel();
    std::vector<TaskId> ids;
    for (const auto& entry : state_.pending) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());
    for (TaskId id : ids) {
      auto node = state_.pending.extract(id);
      if (recording_) {
        record(make_event(EventKind::cancel, [&](auto& e) {
          e.id = id;
          e.x = node.mapped().x;
        }));
      }
      summary_.unresolved.push_back(std::move(node.mapped()));
    }
    progress_().in_flight = 0;
  }

  void finish() {
    for (const auto& entry : state_.pending) summary_.unresolved.push_back(entry.second);
    std::sort(summary_.unresolved.begin(), summary_.unresolved.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    progress_().elapsed = std::chrono::steady_clock::now() - start_;
    summary_.reason = reason_;
    if (recording_) record(make_event(EventKind::end, [&](auto& e) { e.text = reason_; }));
  }

  void abandon(const std::string& reason) noexcept {
    try {
      master_.cancel();
      reason_ = reason;
      if (recording_) record(make_event(EventKind::end, [&](auto& e) { e.text = reason; }));
    } catch (...) {
      // Already failing: the original exception is the one to report.
    }
  }

  template <class Fill>
  HistoryEvent<X, Y> make_event(EventKind kind, Fill&& fill) {
    HistoryEvent<X, Y> e;
    e.kind = kind;
    e.time = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    fill(e);
    return e;
  }

  void write(const HistoryEvent<X, Y>& e) {
    if (sink_ != nullptr) sink_->write(e);
  }

  void notify(HistoryEvent<X, Y>&& e) {
    if (options_.hook) options_.hook(e, progress_());
    if (options_.keep_history) summary_.history.events.push_back(std::move(e));
  }

  void record(HistoryEvent<X, Y>&& e) {
    write(e);
    notify(std::move(e));
  }

  M& master_;
  L& learner_;
  const StopCondition& stop_;
  const RunOptions<X, Y>& options_;
  LoopState<X> state_;
  EventSink<X, Y>* sink_;
  bool recording_;
  bool stopping_ = false;
  std::string reason_;
  std::chrono::steady_clock::time_point start_;
  RunSummary<X, Y> summary_;
};

}  // namespace taskmaster::detail
