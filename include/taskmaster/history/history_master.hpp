#pragma once
// A master that plays a recorded run back, checking every ask against the record.

#include <cstddef>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/master.hpp"
#include "taskmaster/core/stop.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/history.hpp"
#include "taskmaster/history/replay_divergence.hpp"

namespace taskmaster {

/// Hands the recorded results back in the recorded order, with the recorded
/// capacity, and checks that every task the loop submits is the one the
/// record says was asked at that step. The first mismatch throws
/// ReplayDivergence naming the step, the recorded x and the asked x.
///
/// One HistoryMaster replays one segment of a run (a run resumed k times has
/// k + 1 segments); `replay()` chains them. Its `stop_condition()` holds
/// exactly where the recorded run stopped asking.
///
/// @code
/// auto history = taskmaster::read_history<double, double>("run.jsonl");
/// MyLearner fresh;
/// taskmaster::replay(history, fresh);  // throws ReplayDivergence if fresh behaves differently
/// @endcode
template <class X, class Y>
class HistoryMaster {
 public:
  using input_type = X;
  using output_type = Y;

  /// Replays events [begin, end) of `history`, whose first ask is number
  /// `first_step`; `carried` are the tasks in flight when the segment began,
  /// which the loop submits again; `capacity` is the capacity until the
  /// segment records one (that of the segment before).
  HistoryMaster(const History<X, Y>& history, std::size_t begin, std::size_t end,
                std::uint64_t first_step, const std::vector<TaskId>& carried = {},
                std::size_t capacity = 0)
      : history_(history),
        cursor_(begin),
        end_(end),
        step_(first_step),
        capacity_(capacity),
        resubmissions_(carried.begin(), carried.end()) {}

  /// Replays a run that was never resumed.
  explicit HistoryMaster(const History<X, Y>& history)
      : HistoryMaster(history, 0, history.events.size(), 0) {}

  [[nodiscard]] std::size_t capacity() const {
    if (cursor_ < end_ && at().kind == EventKind::capacity)
      capacity_ = history_.events[cursor_++].capacity;
    // At a capacity of 0 with nothing in flight the loop waits for workers to
    // join, which a replay never does: only a capacity or a stop can come
    // next in a record a loop wrote.
    if (capacity_ == 0 && in_flight_ == 0 && cursor_ < end_ && at().kind != EventKind::capacity &&
        at().kind != EventKind::stop) {
      throw ReplayDivergence(
          step_,
          fmt::format("a {} event at a capacity of 0 with nothing in flight", to_string(at().kind)),
          "nothing: the loop waits for capacity there", at().line);
    }
    return capacity_;
  }

  void submit(Task<X> task) {
    ++in_flight_;
    if (resubmissions_.erase(task.id) > 0) return;
    if (cursor_ >= end_ || at().kind != EventKind::ask) {
      throw ReplayDivergence(step_, describe_here(), encode(task.x), line_here());
    }
    const auto& recorded = at();
    const std::string asked = encode(task.x);
    const std::string expected = encode(*recorded.x);
    if (asked != expected || task.id != recorded.id) {
      throw ReplayDivergence(step_, "x = " + expected, "x = " + asked, recorded.line);
    }
    ++cursor_;
    ++step_;
  }

  std::optional<Result<X, Y>> next() {
    if (cursor_ >= end_) return std::nullopt;
    const auto& e = at();
    switch (e.kind) {
      case EventKind::tell:
        ++cursor_;
        --in_flight_;
        return Result<X, Y>::success(e.id, *e.x, *e.y, e.worker, e.duration);
      case EventKind::fail:
        ++cursor_;
        --in_flight_;
        if (e.retry) resubmissions_.insert(e.id);
        return Result<X, Y>::failure(e.id, *e.x, e.text, e.worker, e.duration);
      case EventKind::ask: throw ReplayDivergence(step_, "x = " + encode(*e.x), "nothing", e.line);
      default: return std::nullopt;
    }
  }

  void cancel() {}

  /// Holds where the recorded run stopped asking: at its `stop` event, or
  /// where the record ends without one (a run that was killed).
  [[nodiscard]] StopCondition stop_condition() {
    return stop::when("the recorded run stopped", [this](const Progress&) {
      if (cursor_ >= end_) return true;
      if (at().kind == EventKind::stop) {
        ++cursor_;
        return true;
      }
      return false;
    });
  }

  /// The index of the next event to replay.
  [[nodiscard]] std::size_t position() const noexcept { return cursor_; }
  /// The number of the next ask.
  [[nodiscard]] std::uint64_t step() const noexcept { return step_; }
  /// The capacity last recorded (or given), for the segment that follows.
  [[nodiscard]] std::size_t recorded_capacity() const noexcept { return capacity_; }

 private:
  const HistoryEvent<X, Y>& at() const { return history_.events[cursor_]; }

  std::string describe_here() const {
    if (cursor_ >= end_) return "no further ask (the record ends here)";
    const auto& e = at();
    return fmt::format("no ask here (the next recorded event is a {} of task {})",
                       to_string(e.kind), e.id);
  }
  std::size_t line_here() const { return cursor_ < end_ ? at().line : 0; }

  const History<X, Y>& history_;
  // capacity() is const for the Master concept, yet consumes the record's
  // capacity events: the cursor is the replay's position, not its identity.
  mutable std::size_t cursor_;
  std::size_t end_;
  std::uint64_t step_;
  mutable std::size_t capacity_;
  std::size_t in_flight_ = 0;  ///< submitted and not yet handed back
  std::unordered_set<TaskId> resubmissions_;
};

}  // namespace taskmaster
