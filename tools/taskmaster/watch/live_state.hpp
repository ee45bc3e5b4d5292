#pragma once
// What the live view shows of a run, built from its history's lines as they
// are read: the points, the failures, the progress over time, the run's
// configuration. Served as a snapshot, then as deltas (only what is new), so
// that a watcher of a long run receives each point once.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shadow_learner.hpp"

namespace taskmaster::cli::watch {

/// The state of a watched run; thread-safe: one thread applies lines, any
/// number read.
///
/// @code
/// taskmaster::cli::watch::LiveState state("run.jsonl");
/// for (const auto& line : follower.poll().lines) state.apply(line);
/// state.publish(true);
/// LiveState::Cursor cursor;
/// std::string first = state.snapshot(cursor);     // everything so far
/// auto next = state.delta(cursor);                // what came since, if anything
/// @endcode
class LiveState {
 public:
  /// How far one watcher has been sent the state.
  struct Cursor {
    std::uint64_t generation = 0;
    std::size_t points = 0;
    std::size_t failures = 0;
    std::size_t series = 0;
    std::uint64_t series_epoch = 0;
    std::uint64_t version = 0;
    /// Whether this watcher was sent a sample of the points.
    bool sampled = false;
  };
  /// One message for a watcher: "snapshot" (start afresh) or "update".
  struct Message {
    std::string kind;
    std::string json;
  };

  /// Failures kept one by one (beyond, only counted by reason).
  static constexpr std::size_t max_failures = 2000;
  /// Progress samples kept; beyond, every other one is dropped.
  static constexpr std::size_t max_samples = 1000;
  /// New points one update carries at most; more are sent as an evenly
  /// spaced sample. At four updates a second, watchers of a run faster than
  /// 4,000 points a second see a sample (all of the points again from a
  /// snapshot: a reload, or the page asking once the run has ended), so that
  /// what each watcher costs the run has a bound whatever its pace.
  static constexpr std::size_t max_points_per_update = 1000;
  static constexpr std::size_t unlimited = static_cast<std::size_t>(-1);

  explicit LiveState(std::string history_name);
  ~LiveState();

  /// The file was replaced by another run's: forget everything.
  void restart();
  /// One complete line of the history (line 1 is its header).
  void apply(std::string_view line);
  /// Makes what was applied visible to readers and wakes them. `found`:
  /// whether the history file exists yet.
  void publish(bool found);
  /// Wakes every waiting reader for good (the server is stopping).
  void close();

  /// Waits until the state changes after `seen`, `timeout` passes or the
  /// state is closed; returns the current version.
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::milliseconds timeout) const;
  [[nodiscard]] bool closed() const;

  /// Everything so far as JSON text; sets `cursor` to match. With more than
  /// `max_points` points, an evenly spaced sample of them (the last one
  /// included) and `"points_sampled": true`.
  [[nodiscard]] std::string snapshot(Cursor& cursor, std::size_t max_points = unlimited) const;
  /// What came since `cursor` (a snapshot if the run was replaced), or
  /// nothing if nothing did; advances `cursor`. At most `max_points` new
  /// points: more are sent as an evenly spaced sample.
  [[nodiscard]] std::optional<Message> delta(Cursor& cursor,
                                             std::size_t max_points = max_points_per_update) const;
  /// The learned function's picture (see ShadowLearner::mesh), for the
  /// current state.
  [[nodiscard]] std::string mesh(const MeshQuery& query) const;

 private:
  struct Sample {
    double t, told, failed, busy, capacity, loss;
  };
  void apply_header(const nlohmann::json& j);
  void apply_event(const nlohmann::json& j);
  void configure(const nlohmann::json& meta);
  void warn(std::string text);
  void sample(bool force);
  [[nodiscard]] nlohmann::json status_json() const;
  /// `"run":...,"status":...` for the current version, built once per
  /// version however many watchers ask (the mutex held).
  [[nodiscard]] const std::string& run_and_status_text() const;
  void append_point(const std::vector<double>& row);
  /// A cursor at everything there is now (the mutex held).
  [[nodiscard]] Cursor cursor_now(bool sampled) const;
  /// Appends the points from number `from` on, as a JSON array.
  void append_points_json(std::string& out, std::size_t from) const;
  /// Appends `count` of the points from number `from` on, evenly spaced and
  /// the last one included, as a JSON array.
  void append_points_sample(std::string& out, std::size_t from, std::size_t count) const;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool closed_ = false;
  std::string history_name_;
  std::uint64_t generation_ = 1;
  std::uint64_t version_ = 0;
  bool dirty_ = false;
  bool found_ = false;

  // The run.
  std::size_t lines_ = 0;
  bool header_ = false;
  nlohmann::json run_;  ///< what the page shows of the configuration
  std::unique_ptr<ShadowLearner> shadow_;
  /// The points as JSON arrays (x components, then y components) joined by
  /// commas, and where each one starts in that text.
  std::string points_text_;
  std::vector<std::size_t> point_starts_;
  std::size_t x_components_ = 0;
  std::size_t y_components_ = 0;
  std::vector<nlohmann::json> failures_;
  std::map<std::string, std::uint64_t> reasons_;
  std::vector<std::string> warnings_;
  std::unordered_map<std::uint64_t, nlohmann::json> outstanding_;  ///< task id -> x
  struct WorkerUse {
    std::uint64_t tasks = 0;
    double busy = 0;
  };
  std::map<int, WorkerUse> workers_;
  std::uint64_t asked_ = 0, told_ = 0, failed_ = 0, retried_ = 0, cancelled_ = 0;
  std::size_t capacity_ = 0;
  std::size_t busy_since_sample_ = 0;  ///< the most tasks in flight since the last sample
  std::uint64_t segment_ = 0;
  double offset_ = 0;  ///< seconds of the segments before this one
  double now_ = 0;     ///< seconds of the run at its last event
  std::string phase_ = "waiting";
  std::string stop_reason_, end_reason_;

  // Progress over time, sampled at most once per `bucket_` seconds.
  std::vector<Sample> samples_;
  double bucket_ = 0.05;
  std::uint64_t series_epoch_ = 1;

  mutable std::string run_and_status_text_;
  mutable std::uint64_t run_and_status_version_ = static_cast<std::uint64_t>(-1);
};

}  // namespace taskmaster::cli::watch
