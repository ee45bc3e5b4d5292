#pragma once
// The bookkeeping every out-of-process master shares (CommandMaster, the
// worker pool under ProcessMaster and StdioMaster, SlurmMaster): tasks that
// wait for a runner, results not yet taken, how many tasks are still owed an
// answer, and the loop that `next()` runs over them. What runs a task (a
// program, a worker, a batch job) stays with each master.

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "taskmaster/core/task.hpp"

namespace taskmaster::detail {

/// What one wait of a master's `next()` came to.
enum class Waited {
  progress,        ///< it waited; something may have changed
  no_runner_left,  ///< nothing runs and nothing can: the waiting tasks fail
  gave_up,         ///< the user gave up waiting: `next()` returns nothing
};

/// Tasks waiting to run and results waiting to be taken, for one master on
/// the loop's thread.
///
/// @code
/// detail::TaskQueue<double, double> queue;
/// queue.submit({7, 0.5});
/// auto result = queue.next([&] { /* start what can start */ },
///                          [&] { /* poll; deliver what ended */ return detail::Waited::progress;
///                          });
/// @endcode
template <class X, class Y>
class TaskQueue {
 public:
  /// A task to run; it is owed an answer from now on.
  void submit(Task<X> task) {
    waiting_.push_back(std::move(task));
    ++outstanding_;
  }
  /// A task that went to run without waiting here (a job taken over from an
  /// earlier run) is owed an answer too.
  void owe_one() noexcept { ++outstanding_; }

  [[nodiscard]] bool has_waiting() const noexcept { return !waiting_.empty(); }
  /// The task that waited longest; the caller runs it (or fails it).
  Task<X> take_waiting() {
    Task<X> task = std::move(waiting_.front());
    waiting_.pop_front();
    return task;
  }
  /// A task taken that cannot start yet goes back to the front of the line.
  void put_back(Task<X> task) { waiting_.push_front(std::move(task)); }

  /// A task's answer, to be handed out by `next()`.
  void deliver(Result<X, Y> result) { results_.push_back(std::move(result)); }
  [[nodiscard]] bool has_results() const noexcept { return !results_.empty(); }

  /// Fails every waiting task with `why`. When no result is left to hand
  /// out either, the tasks still running cannot be answered any more.
  void fail_waiting(const std::string& why) {
    while (!waiting_.empty()) {
      Task<X> task = take_waiting();
      results_.push_back(Result<X, Y>::failure(task.id, std::move(task.x), why));
    }
    if (results_.empty()) outstanding_ = 0;
  }

  /// Forgets the waiting tasks and those running now; the results already
  /// there are still handed out.
  void drop_unresolved() {
    waiting_.clear();
    outstanding_ = results_.size();
  }
  /// Forgets everything: waiting tasks, running ones, results not taken.
  void clear() {
    waiting_.clear();
    results_.clear();
    outstanding_ = 0;
  }

  /// The loop under a master's `next()`: `start()` starts what can start,
  /// then the oldest result is handed out if there is one; otherwise, while
  /// tasks are owed, `wait()` waits for something to happen. Returns nothing
  /// when no task is owed an answer (or the user gave up).
  template <class Start, class Wait>
  std::optional<Result<X, Y>> next(Start&& start, Wait&& wait) {
    for (;;) {
      start();
      if (!results_.empty()) {
        Result<X, Y> result = std::move(results_.front());
        results_.pop_front();
        --outstanding_;
        return result;
      }
      if (outstanding_ == 0) return std::nullopt;
      switch (wait()) {
        case Waited::progress: break;
        case Waited::no_runner_left: fail_waiting("no worker is left to run it"); break;
        case Waited::gave_up: return std::nullopt;
      }
    }
  }

 private:
  std::deque<Task<X>> waiting_;
  std::deque<Result<X, Y>> results_;
  std::size_t outstanding_ = 0;
};

}  // namespace taskmaster::detail
