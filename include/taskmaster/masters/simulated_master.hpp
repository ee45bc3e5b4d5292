#pragma once
// A master that simulates N workers on a virtual clock: how a learner would
// behave on a cluster of any size, measured on one core.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/master.hpp"
#include "taskmaster/masters/task_durations.hpp"
#include "taskmaster/masters/timed_call.hpp"

namespace taskmaster {

/// Workers joining (count > 0) or leaving (count < 0) at a virtual time.
struct WorkerChange {
  double time = 0;
  int count = 0;
};

/// Simulates a pool of workers on a virtual clock. Each task is given a
/// duration drawn from a seeded TaskDurations; the function is evaluated for
/// real (it should be cheap), but results are handed back in the order of
/// their virtual completion times, and the clock jumps from one completion to
/// the next. Nothing reads the wall clock, so a simulation is determined by
/// its seed: the same learner, function, durations, workers and seed give the
/// same results in the same order, at the same virtual times.
///
/// Capacity is the number of workers present. Workers join and leave at
/// virtual times given by `schedule`; a worker that leaves while running a
/// task takes the task with it: the task *fails* ("worker N left at ..."),
/// as on a real cluster that loses a node, and the loop's retry policy
/// decides whether it runs again. The master does not silently re-queue it:
/// the history must show the lost work and the loop must stay the one place
/// that decides about retries. Tasks submitted while every worker is busy
/// (after workers left) wait in order for the next free worker.
///
/// The loop only submits between results, as with any master: a worker that
/// joins while the loop waits for a result starts work once that result is
/// delivered.
///
/// @code
/// taskmaster::SimulatedMaster<double, double> master(
///     [](double x) { return std::sin(x); }, 64, taskmaster::TaskDurations::lognormal(0, 0.5),
///     {.seed = 1});
/// auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(10000));
/// fmt::print("{} s of virtual time, utilization {}\n", master.now(), master.utilization());
/// @endcode
template <class X, class Y>
class SimulatedMaster {
 public:
  using input_type = X;
  using output_type = Y;
  using Function = std::function<Y(const X&)>;

  struct Options {
    /// Seeds the durations.
    std::uint64_t seed = 0;
    /// Workers joining and leaving, at virtual times.
    std::vector<WorkerChange> schedule{};
  };

  SimulatedMaster(Function f, std::size_t workers, TaskDurations durations, Options options = {})
      : f_(std::move(f)), durations_(std::move(durations)), rng_(options.seed) {
    if (!f_) throw std::invalid_argument("SimulatedMaster: empty function");
    changes_ = std::move(options.schedule);
    for (const auto& c : changes_) {
      if (!(c.time >= 0) || !std::isfinite(c.time))
        throw std::invalid_argument("SimulatedMaster: a worker change at a time < 0");
    }
    std::stable_sort(changes_.begin(), changes_.end(),
                     [](const auto& a, const auto& b) { return a.time < b.time; });
    join(workers);
  }

  // --- The Master concept -------------------------------------------------

  /// The workers present now. With none present and nothing to wait for,
  /// the clock moves on to the next join (the loop polls capacity while it
  /// waits for workers); with none ever to come again, throws.
  [[nodiscard]] std::size_t capacity() const {
    // Moving the clock while idle changes what the simulation measures, not
    // the master's identity; the Master concept wants capacity() const.
    if (present_ == 0 && running_ == 0 && waiting_.empty() && queued_results_.empty()) {
      if (next_change_ < changes_.size()) {
        const_cast<SimulatedMaster*>(this)->advance_to(changes_[next_change_].time);
        const_cast<SimulatedMaster*>(this)->apply_changes_up_to(now_);
      } else if (idle_polls_++ > 0) {
        throw std::runtime_error(fmt::format(
            "simulation: every worker has left by {} s and none is scheduled to join", now_));
      }
    }
    return present_;
  }

  void submit(Task<X> task) {
    waiting_.push_back(std::move(task));
    start_waiting();
  }

  /// The next result in virtual-time order, the clock moved to its time;
  /// std::nullopt when nothing is running or waiting.
  std::optional<Result<X, Y>> next() {
    for (;;) {
      if (!queued_results_.empty()) {
        Result<X, Y> lost = std::move(queued_results_.front());
        queued_results_.pop_front();
        ++delivered_;
        return lost;
      }
      const bool have_change = next_change_ < changes_.size();
      // Nothing running: done, or tasks waiting for workers that no change brings.
      if (completions_.empty() && waiting_.empty()) return std::nullopt;
      if (completions_.empty() && !have_change) return fail_waiting();
      if (have_change &&
          (completions_.empty() || changes_[next_change_].time <= completions_.top().time)) {
        advance_to(changes_[next_change_].time);
        apply_change(changes_[next_change_++]);
        continue;
      }
      const Completion done = completions_.top();
      completions_.pop();
      Slot& slot = slots_[done.worker];
      if (slot.generation != done.generation) continue;  // the worker left meanwhile
      advance_to(done.time);
      return finish(done.worker);
    }
  }

  /// Drops every task running or waiting; their workers become idle.
  void cancel() {
    waiting_.clear();
    queued_results_.clear();
    for (std::size_t w = 0; w < slots_.size(); ++w) {
      Slot& slot = slots_[w];
      if (!slot.task) continue;
      busy_seconds_ += now_ - slot.started;
      slot.task.reset();
      ++slot.generation;
      --running_;
      if (slot.present) idle_.push_back(static_cast<int>(w));
    }
    completions_ = {};
  }

  // --- What the simulation measured --------------------------------------

  /// The virtual time: that of the last result delivered or worker change applied.
  [[nodiscard]] double now() const noexcept { return now_; }
  /// Virtual seconds the workers spent on tasks (finished, failed or cut short).
  [[nodiscard]] double busy_seconds() const noexcept { return busy_seconds_; }
  /// Virtual seconds of the workers present, summed over workers, up to now().
  [[nodiscard]] double worker_seconds() const noexcept { return worker_seconds_; }
  /// busy_seconds() / worker_seconds(): the fraction of the workers' time spent working.
  [[nodiscard]] double utilization() const noexcept {
    return worker_seconds_ > 0 ? busy_seconds_ / worker_seconds_ : 0.0;
  }
  /// Results delivered so far (successes and failures).
  [[nodiscard]] std::uint64_t delivered() const noexcept { return delivered_; }
  /// Tasks lost because their worker left.
  [[nodiscard]] std::uint64_t lost() const noexcept { return lost_; }
  /// The most tasks that ran at once.
  [[nodiscard]] std::size_t peak_running() const noexcept { return peak_running_; }

 private:
  struct Slot {
    std::optional<Task<X>> task;
    double started = 0;
    double duration = 0;
    std::uint64_t generation = 0;  ///< bumped when the task ends some other way than completing
    bool present = true;
  };
  struct Completion {
    double time;
    std::uint64_t order;  ///< ties at equal times break by start order: deterministic
    int worker;
    std::uint64_t generation;
    bool operator>(const Completion& o) const {
      return time != o.time ? time > o.time : order > o.order;
    }
  };

  void advance_to(double t) {
    if (t <= now_) return;
    worker_seconds_ += static_cast<double>(present_) * (t - now_);
    now_ = t;
  }

  void join(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      slots_.push_back(Slot{});
      idle_.push_back(static_cast<int>(slots_.size() - 1));
    }
    present_ += n;
    idle_polls_ = 0;
    start_waiting();
  }

  void apply_changes_up_to(double t) {
    while (next_change_ < changes_.size() && changes_[next_change_].time <= t) {
      apply_change(changes_[next_change_++]);
    }
  }

  /// Applies a join or a leave. The most recently joined workers leave
  /// first; the tasks they cut short become failures, delivered next.
  void apply_change(const WorkerChange& change) {
    if (change.count > 0) {
      join(static_cast<std::size_t>(change.count));
      return;
    }
    for (int i = 0; i < -change.count && present_ > 0; ++i) {
      int w = static_cast<int>(slots_.size()) - 1;
      while (!slots_[w].present) --w;
      Slot& slot = slots_[w];
      slot.present = false;
      --present_;
      if (!slot.task) continue;
      ++slot.generation;
      busy_seconds_ += now_ - slot.started;
      --running_;
      ++lost_;
      auto lost = Result<X, Y>::failure(slot.task->id, std::move(slot.task->x),
                                        fmt::format("worker {} left at {} s", w, now_), w,
                                        now_ - slot.started);
      slot.task.reset();
      queued_results_.push_back(std::move(lost));
    }
  }

  void start_waiting() {
    while (!waiting_.empty() && !idle_.empty()) {
      const int w = idle_.back();
      idle_.pop_back();
      if (!slots_[w].present) continue;
      Slot& slot = slots_[w];
      slot.task = std::move(waiting_.front());
      waiting_.pop_front();
      slot.started = now_;
      slot.duration = durations_.draw(rng_);
      ++running_;
      peak_running_ = std::max(peak_running_, running_);
      completions_.push(Completion{now_ + slot.duration, order_++, w, slot.generation});
    }
  }

  Result<X, Y> finish(int w) {
    Slot& slot = slots_[w];
    Task<X> task = std::move(*slot.task);
    slot.task.reset();
    --running_;
    busy_seconds_ += slot.duration;
    ++delivered_;
    idle_.push_back(w);
    Result<X, Y> result = evaluate(std::move(task), w, slot.duration);
    start_waiting();
    return result;
  }

  Result<X, Y> evaluate(Task<X> task, int worker, double duration) {
    // The wall-clock time timed_call measures gives way to the virtual one.
    Result<X, Y> result = detail::timed_call<X, Y>(f_, std::move(task), worker);
    result.duration = duration;
    return result;
  }

  Result<X, Y> fail_waiting() {
    Task<X> task = std::move(waiting_.front());
    waiting_.pop_front();
    ++delivered_;
    return Result<X, Y>::failure(
        task.id, std::move(task.x),
        fmt::format("no worker left to run it at {} s, and none is scheduled to join", now_));
  }

  Function f_;
  TaskDurations durations_;
  std::mt19937_64 rng_;
  std::vector<WorkerChange> changes_;
  std::size_t next_change_ = 0;
  std::vector<Slot> slots_;
  std::vector<int> idle_;  ///< may hold workers that left: skipped when popped
  std::deque<Task<X>> waiting_;
  std::priority_queue<Completion, std::vector<Completion>, std::greater<>> completions_;
  std::deque<Result<X, Y>> queued_results_;  ///< failures of tasks whose worker left
  std::size_t present_ = 0;
  std::size_t running_ = 0;
  std::size_t peak_running_ = 0;
  std::uint64_t order_ = 0;
  double now_ = 0;
  double busy_seconds_ = 0;
  double worker_seconds_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t lost_ = 0;
  mutable int idle_polls_ = 0;
};

}  // namespace taskmaster
