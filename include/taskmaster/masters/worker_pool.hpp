#pragma once
// The engine under StdioMaster and ProcessMaster: a pool of long-running
// worker processes, each evaluating one task at a time, driven from the
// loop's own thread with poll(2). What travels on the pipes is decided by a
// Wire (JSON lines, binary frames); the task queue, the poll and the stderr
// capture are those every out-of-process master shares (detail/task_queue.hpp,
// detail/child_streams.hpp); the life of the workers (start, handshake,
// timeouts, replacement, release, shutdown) is here.

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "taskmaster/core/task.hpp"
#include "taskmaster/detail/child_streams.hpp"
#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/detail/task_queue.hpp"
#include "taskmaster/detail/worker_capacity.hpp"

namespace taskmaster {

/// Settings shared by the masters that keep worker processes.
///
/// @code
/// taskmaster::WorkerOptions options{.workers = 4, .timeout = 30.0};
/// options.environment["OMP_NUM_THREADS"] = "1";
/// @endcode
struct WorkerOptions {
  /// How many worker processes to start.
  std::size_t workers = 1;
  /// Seconds a task may take; past it the worker is killed and replaced and
  /// the task fails. No limit when empty.
  std::optional<double> timeout{};
  /// Seconds a new worker has to introduce itself (its hello).
  double start_timeout = 10.0;
  /// Longest message a worker may send, in bytes; a longer one is a protocol
  /// error (the worker is killed and replaced).
  std::size_t max_message_bytes = std::size_t{16} << 20;
  /// How much of the end of a worker's stderr goes into error messages.
  std::size_t stderr_tail_bytes = 2048;
  /// On shutdown, seconds the workers get to exit after their stdin closes
  /// before they are killed.
  double shutdown_grace = 0.5;
  /// A worker that dies before its hello this many times in a row means the
  /// command is broken: `next()` then throws instead of trying forever.
  unsigned max_failed_starts = 3;
  /// Run the workers in this directory.
  std::optional<std::filesystem::path> working_directory{};
  /// Extra environment variables for the workers.
  std::map<std::string, std::string> environment{};
  /// Tasks each worker is sent ahead, beyond the one it computes: it
  /// starts the next as soon as it has answered, without waiting for the
  /// loop to read its reply and send it another (a round trip of a tenth of
  /// a millisecond or more). The capacity becomes workers x (1 + prefetch),
  /// so the learner chooses that many points at once. A task sent ahead is
  /// never lost: when its worker dies before starting it, it goes to
  /// another worker, without counting as a failure. The worker program
  /// must read its tasks in order and answer each in turn (both worker
  /// programs of this library and any line-by-line reader do).
  std::size_t prefetch = 0;
};

/// The workers of a master could not be started, again and again (thrown by
/// `next()`, so it ends `evaluate`).
///
/// @code
/// try {
///   taskmaster::evaluate(master, learner, taskmaster::stop::points(100));
/// } catch (const taskmaster::WorkerStartError& e) {
///   // e.what() names the command, how often it failed and the last reason
/// }
/// @endcode
class WorkerStartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

/// One message read from a worker.
template <class Y>
struct WireMessage {
  enum class Kind {
    need_more,  ///< no complete message yet
    ignore,     ///< consumed something that means nothing (a blank line)
    hello,      ///< the worker's introduction; `error` is set when it is unacceptable
    reply,      ///< the answer for task `id`: `y`, or `error`
    violation,  ///< not the protocol; `error` says how
  };
  Kind kind = Kind::need_more;
  std::size_t consumed = 0;  ///< bytes of the buffer this message used
  TaskId id = 0;
  std::optional<Y> y;
  std::string error;
};

/// How tasks and replies are written on the pipes.
template <class W, class X, class Y>
concept Wire = requires(std::string& out, TaskId id, const X& x, std::string_view in,
                        std::size_t limit, bool greeted) {
  W::write_task(out, id, x);
  { W::read(in, greeted, limit) } -> std::same_as<WireMessage<Y>>;
};

/// The pool itself; see StdioMaster for the behaviour it gives.
template <class X, class Y, class W>
requires Wire<W, X, Y>
class WorkerPool {
 public:
  using Clock = ChildClock;

  /// `started`: workers already running (see StdioMaster), taken before
  /// any is spawned.
  WorkerPool(std::string name, subprocess::SpawnOptions spawn, WorkerOptions options,
             std::vector<subprocess::Child> started = {})
      : name_(std::move(name)),
        spawn_(std::move(spawn)),
        options_(std::move(options)),
        started_(std::move(started)) {
    if (spawn_.argv.empty()) throw std::invalid_argument(name_ + ": the worker command is empty");
    if (options_.timeout && !(*options_.timeout > 0)) {
      throw std::invalid_argument(
          fmt::format("{}: the timeout must be positive, got {}", name_, *options_.timeout));
    }
    spawn_.working_directory = options_.working_directory;
    for (const auto& [k, v] : options_.environment) spawn_.environment[k] = v;
    spawn_.pipe_stdin = true;
    // The first worker is started at once, so that a command that cannot
    // run at all is reported by the constructor.
    add_workers(options_.workers);
    apply_worker_changes();
  }

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  ~WorkerPool() { shutdown(); }

  [[nodiscard]] std::size_t capacity() const noexcept {
    return capacity_.value() * (1 + options_.prefetch);
  }

  void add_workers(std::size_t n) {
    capacity_.add(n);
    to_add_.fetch_add(n, std::memory_order_acq_rel);
  }

  void release_workers(std::size_t n) {
    to_release_.fetch_add(capacity_.release(n), std::memory_order_acq_rel);
  }

  void submit(Task<X> task) {
    queue_.submit(std::move(task));
    apply_worker_changes();
    dispatch();
  }

  std::optional<Result<X, Y>> next() {
    return queue_.next(
        [this] {
          apply_worker_changes();
          dispatch();
        },
        [this] {
          if (live_workers() == 0) return Waited::no_runner_left;
          pump();
          return Waited::progress;
        });
  }

  void cancel() {
    ++generation_;
    queue_.clear();
  }

  /// The pids of the running workers (for tests and diagnostics).
  [[nodiscard]] std::vector<pid_t> worker_pids() const {
    std::vector<pid_t> pids;
    for (const auto& s : slots_) {
      if (s) pids.push_back(s->child.pid());
    }
    return pids;
  }

  /// Closes every worker's stdin, waits `shutdown_grace`, kills the rest,
  /// reaps them all. Safe to call twice.
  void shutdown() noexcept {
    for (auto& s : slots_) {
      if (s) s->child.close_stdin();
    }
    const auto deadline = deadline_after(Clock::now(), options_.shutdown_grace);
    for (auto& s : slots_) {
      if (!s) continue;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!s->child.wait_for(std::max(left, std::chrono::milliseconds(0)))) s->child.kill_group();
      s->child.wait();
      s.reset();
    }
    slots_.clear();
    started_.clear();  // any not needed: killed and reaped
  }

 private:
  enum class State { starting, idle, busy };
  struct Slot {
    int index = 0;
    std::uint64_t serial = 0;  ///< tells a replacement from the worker it replaced
    subprocess::Child child;
    State state = State::starting;
    bool retiring = false;
    std::string to_write;
    std::size_t written = 0;
    std::string read_buffer;
    std::size_t read_pos = 0;
    StderrCapture stderr_capture;
    std::optional<Task<X>> task;   ///< the task it computes
    std::uint64_t generation = 0;  ///< `task`'s
    /// Tasks sent ahead (`WorkerOptions::prefetch`), in the order the
    /// worker reads them, each with its generation.
    std::deque<std::pair<Task<X>, std::uint64_t>> ahead;
    Clock::time_point started{};
    Clock::time_point deadline = Clock::time_point::max();
  };

  /// Whether the worker `s` (by index and serial) is still there.
  [[nodiscard]] bool still_there(std::size_t index, std::uint64_t serial) const {
    return index < slots_.size() && slots_[index] && slots_[index]->serial == serial;
  }

  [[nodiscard]] std::size_t live_workers() const {
    return static_cast<std::size_t>(
        std::count_if(slots_.begin(), slots_.end(), [](const auto& s) { return s != nullptr; }));
  }

  void apply_worker_changes() {
    for (std::size_t n = to_add_.exchange(0, std::memory_order_acq_rel); n > 0; --n) {
      auto it = std::find(slots_.begin(), slots_.end(), nullptr);
      const auto index = static_cast<std::size_t>(it - slots_.begin());
      if (it == slots_.end()) slots_.emplace_back();
      if (!start_worker_or_shrink(index, n)) break;
    }
    std::size_t n = to_release_.exchange(0, std::memory_order_acq_rel);
    // Idle and starting workers leave first; busy ones after their task.
    for (State preferred : {State::starting, State::idle, State::busy}) {
      for (auto it = slots_.rbegin(); it != slots_.rend() && n > 0; ++it) {
        auto& s = *it;
        if (!s || s->retiring || s->state != preferred) continue;
        --n;
        s->retiring = true;
        if (s->state != State::busy) stop_worker(*s);
      }
    }
  }

  void start_worker(std::size_t index) {
    auto slot = std::make_unique<Slot>();
    slot->index = static_cast<int>(index);
    slot->serial = ++serials_;
    slot->stderr_capture = StderrCapture(options_.stderr_tail_bytes);
    if (started_.empty()) {
      slot->child = subprocess::Child::spawn(spawn_);
    } else {
      slot->child = std::move(started_.front());
      started_.erase(started_.begin());
    }
    slot->deadline = deadline_after(Clock::now(), options_.start_timeout);
    slots_[index] = std::move(slot);
  }

  /// Starts a worker in slot `index`. When this process is out of file
  /// descriptors (or processes) and other workers run, it goes on with
  /// those: the capacity drops by the `wanted` workers that cannot start and
  /// by one more whose descriptors the rest of the program needs (a history
  /// file, a plot, a spawn's pipes), and this returns false.
  bool start_worker_or_shrink(std::size_t index, std::size_t wanted) {
    try {
      start_worker(index);
      return true;
    } catch (const subprocess::SpawnError& e) {
      if (!e.out_of_resources() || live_workers() == 0) throw;
    }
    std::size_t dropped = wanted;
    if (live_workers() > 1) {
      for (auto last = slots_.rbegin(); last != slots_.rend(); ++last) {
        if (*last && !(*last)->task && !(*last)->retiring) {
          stop_worker(**last);
          ++dropped;
          break;
        }
      }
    }
    capacity_.release(dropped);
    return false;
  }

  /// Lets a worker go for good: it gets its stdin closed and a short while
  /// to exit, then is killed.
  void stop_worker(Slot& s) {
    s.child.close_stdin();
    if (!s.child.wait_for(std::chrono::milliseconds(
            static_cast<long>(std::min(options_.shutdown_grace, 0.05) * 1000)))) {
      s.child.kill_group();
    }
    s.child.wait();
    slots_[static_cast<std::size_t>(s.index)].reset();
  }

  void dispatch() {
    if (!queue_.has_waiting()) return;
    const bool any_active =
        std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s && !s->retiring; });
    for (auto& s : slots_) {
      if (!queue_.has_waiting()) return;
      // A leaving worker still helps when no active worker is left.
      if (!s || s->state != State::idle || (s->retiring && any_active)) continue;
      give_task(*s, queue_.take_waiting());
    }
    // Then tasks sent ahead, one more per worker per round, so that they
    // spread evenly; never to a worker that is starting or leaving.
    for (std::size_t round = 0; round < options_.prefetch; ++round) {
      for (auto& s : slots_) {
        if (!queue_.has_waiting()) return;
        if (!s || s->state != State::busy || s->retiring || s->ahead.size() != round) continue;
        send_ahead(*s, queue_.take_waiting());
      }
    }
  }

  void send_ahead(Slot& s, Task<X> task) {
    W::write_task(s.to_write, task.id, task.x);
    s.ahead.emplace_back(std::move(task), generation_);
    flush(s);
  }

  void give_task(Slot& s, Task<X> task) {
    W::write_task(s.to_write, task.id, task.x);
    start_task(s, std::move(task), generation_);
    flush(s);
  }

  /// `task` is the one `s` computes from now on.
  void start_task(Slot& s, Task<X> task, std::uint64_t generation) {
    s.task = std::move(task);
    s.generation = generation;
    s.state = State::busy;
    s.started = Clock::now();
    s.deadline = deadline_after(s.started, options_.timeout);
  }

  /// Returns false when the worker's stdin is gone.
  bool flush(Slot& s) {
    while (s.written < s.to_write.size()) {
      const long n = s.child.write_some(std::string_view(s.to_write).substr(s.written));
      if (n < 0) {
        worker_lost(s, "");
        return false;
      }
      if (n == 0) return true;
      s.written += static_cast<std::size_t>(n);
    }
    s.to_write.clear();
    s.written = 0;
    return true;
  }

  /// Waits for something to happen on the workers' pipes (or a deadline).
  void pump() {
    enum class Stream { out, err, in };
    struct Owner {
      std::size_t slot;
      std::uint64_t serial;
      Stream stream;
    };
    PollSet<Owner> watched;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const auto& s = slots_[i];
      if (!s) continue;
      watched.watch(s->child.stdout_fd(), POLLIN, {i, s->serial, Stream::out});
      watched.watch(s->child.stderr_fd(), POLLIN, {i, s->serial, Stream::err});
      if (s->written < s->to_write.size()) {
        watched.watch(s->child.stdin_fd(), POLLOUT, {i, s->serial, Stream::in});
      }
      if (s->state != State::idle) watched.wake_by(s->deadline);
    }
    const auto anticipated = anticipated_reply();
    if (anticipated) watched.wake_by(*anticipated);
    // While a reply is due, look again at once, yielding the core to
    // whoever needs it meanwhile.
    if (anticipated && *anticipated <= Clock::now()) std::this_thread::yield();
    watched.wait([&](const Owner& o) {
      if (!still_there(o.slot, o.serial)) return;  // replaced meanwhile
      Slot& s = *slots_[o.slot];
      switch (o.stream) {
        case Stream::out: read_stdout(s); break;
        case Stream::err: s.stderr_capture.read(s.child); break;
        case Stream::in: flush(s); break;
      }
    });
    check_deadlines();
  }

  /// When to look at the pipes without waiting for them to be ready:
  /// shortly before the earliest busy worker is expected to answer (its
  /// start plus the shortest of the last tasks' times), then at once, again
  /// and again, until a little after. A reply is then read within
  /// microseconds, not a scheduler wake-up later: that is what keeps the
  /// workers busy when each reply must be answered by the next task (as
  /// ThreadMaster does). The margin covers the kernel's timer slack. Tasks
  /// shorter than the margin are looked for at once from their start (the
  /// loop yields the core between looks), which doubled the throughput of
  /// trivial tasks against sleeping in poll(2) (bench/process_masters).
  [[nodiscard]] std::optional<Clock::time_point> anticipated_reply() const {
    using std::chrono::microseconds;
    // The shortest recent time, not an average: a reply read late (the
    // thread slept through its arrival) looks longer than it was, and an
    // average would push the next wake-up later still, past the replies it
    // is meant to catch.
    if (recent_count_ == 0) return std::nullopt;
    const double shortest = *std::min_element(
        recent_durations_.begin(),
        recent_durations_.begin() + std::min(recent_count_, recent_durations_.size()));
    auto earliest = Clock::time_point::max();
    for (const auto& s : slots_) {
      // A worker with a task sent ahead goes on without waiting for this thread.
      if (s && s->state == State::busy && s->ahead.empty())
        earliest = std::min(earliest, s->started);
    }
    if (earliest == Clock::time_point::max()) return std::nullopt;
    const auto expected = earliest + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(shortest));
    const auto now = Clock::now();
    if (now < expected - microseconds(150)) return expected - microseconds(150);
    if (now < expected + microseconds(400)) return now;
    return std::nullopt;
  }

  void read_stdout(Slot& s) {
    const long n = subprocess::Child::read_available(s.child.stdout_fd(), s.read_buffer,
                                                     options_.max_message_bytes + 1);
    const auto index = static_cast<std::size_t>(s.index);
    const auto serial = s.serial;
    handle_messages(s);  // at the end too: whatever complete messages came before it
    if (n == 0 && still_there(index, serial)) worker_lost(s, "");
  }

  void handle_messages(Slot& s) {
    const auto index = static_cast<std::size_t>(s.index);
    const auto serial = s.serial;
    while (still_there(index, serial)) {
      std::string_view available = std::string_view(s.read_buffer).substr(s.read_pos);
      WireMessage<Y> m = W::read(available, s.state != State::starting, options_.max_message_bytes);
      using Kind = typename WireMessage<Y>::Kind;
      if (m.kind == Kind::need_more) break;
      s.read_pos += m.consumed;
      switch (m.kind) {
        case Kind::need_more:
        case Kind::ignore: break;
        case Kind::violation: protocol_error(s, m.error); break;
        case Kind::hello:
          if (!m.error.empty() || s.state != State::starting) {
            protocol_error(s, m.error.empty() ? "said hello twice" : m.error);
          } else {
            failed_starts_ = 0;
            s.state = State::idle;
            s.deadline = Clock::time_point::max();
            if (s.retiring) {
              stop_worker(s);
              return;
            }
            dispatch();
          }
          break;
        case Kind::reply: handle_reply(s, std::move(m)); break;
      }
    }
    if (still_there(index, serial)) {
      if (s.read_pos == s.read_buffer.size()) {
        s.read_buffer.clear();
        s.read_pos = 0;
      } else if (s.read_pos > (1 << 16)) {
        s.read_buffer.erase(0, s.read_pos);
        s.read_pos = 0;
      }
    }
  }

  void handle_reply(Slot& s, WireMessage<Y> m) {
    if (s.state != State::busy || !s.task || s.task->id != m.id) {
      protocol_error(
          s, s.task ? fmt::format("replied to unknown id {} (its task is {})", m.id, s.task->id)
                    : fmt::format("replied to unknown id {} while idle", m.id));
      return;
    }
    finish_task(s, std::move(m));
    if (s.retiring && s.state == State::idle &&
        (queue_.has_waiting() ? std::any_of(slots_.begin(), slots_.end(),
                                            [](const auto& o) { return o && !o->retiring; })
                              : true)) {
      stop_worker(s);
      return;
    }
    dispatch();
  }

  /// Hands on the reply `m` to the task `s` computes; `s` goes on to the
  /// next task sent ahead, if any.
  void finish_task(Slot& s, WireMessage<Y> m) {
    const double duration = std::chrono::duration<double>(Clock::now() - s.started).count();
    recent_durations_[recent_count_++ % recent_durations_.size()] = duration;
    Task<X> task = std::move(*s.task);
    const std::uint64_t generation = s.generation;
    s.task.reset();
    s.state = State::idle;
    s.deadline = Clock::time_point::max();
    if (!s.ahead.empty()) {
      // The worker went on to the task sent ahead as soon as it had answered.
      auto [next, next_generation] = std::move(s.ahead.front());
      s.ahead.pop_front();
      start_task(s, std::move(next), next_generation);
    }
    if (generation == generation_) {
      if (m.y) {
        queue_.deliver(
            Result<X, Y>::success(task.id, std::move(task.x), std::move(*m.y), s.index, duration));
      } else {
        queue_.deliver(Result<X, Y>::failure(task.id, std::move(task.x),
                                             fmt::format("worker {}: {}", s.index, m.error),
                                             s.index, duration));
      }
    }
  }

  /// The replies a lost worker wrote before it went, still in its stdout
  /// pipe (its death may be seen first on another pipe, e.g. by a task
  /// sent ahead that can no longer be written): each answers its task, which
  /// must not fail with the worker.
  void take_last_replies(Slot& s) {
    for (int i = 0; i < 64 && s.state != State::starting; ++i) {
      if (subprocess::Child::read_available(s.child.stdout_fd(), s.read_buffer,
                                            options_.max_message_bytes + 1) <= 0) {
        break;
      }
    }
    while (s.task) {
      WireMessage<Y> m = W::read(std::string_view(s.read_buffer).substr(s.read_pos), true,
                                 options_.max_message_bytes);
      using Kind = typename WireMessage<Y>::Kind;
      if (m.kind == Kind::need_more) return;
      s.read_pos += m.consumed;
      if (m.kind == Kind::ignore) continue;
      if (m.kind != Kind::reply || m.id != s.task->id) return;
      finish_task(s, std::move(m));
    }
  }

  void protocol_error(Slot& s, const std::string& what) {
    s.child.kill_group();
    worker_lost(s, fmt::format("broke the protocol ({}) and was killed", what),
                /*read_last_replies=*/false);
  }

  void check_deadlines() {
    const auto now = Clock::now();
    for (auto& s : slots_) {
      if (!s || s->state == State::idle || s->deadline > now) continue;
      s->child.kill_group();
      if (s->state == State::starting) {
        worker_lost(*s, fmt::format("did not say hello within {} s and was killed",
                                    options_.start_timeout));
      } else {
        worker_lost(*s, fmt::format("timed out after {} s and was killed", *options_.timeout));
      }
    }
  }

  /// The worker is gone (or must go): reap it, fail its task with the
  /// reason, and start a replacement unless it was leaving anyway. Replies
  /// it wrote before it went count, unless it broke the protocol.
  void worker_lost(Slot& s, std::string what, bool read_last_replies = true) {
    const auto index = static_cast<std::size_t>(s.index);
    const pid_t pid = s.child.pid();
    s.child.close_stdin();
    if (read_last_replies) take_last_replies(s);
    s.child.close_stdout();
    // A crashing worker closes its pipes a moment before it can be reaped:
    // wait a little for its own exit status before killing it.
    auto status = s.child.wait_for(std::chrono::milliseconds(what.empty() ? 500 : 0));
    if (!status) {
      s.child.kill_group();
      if (what.empty()) what = "closed its stdout and was killed";
      status = s.child.wait();
    } else if (what.empty()) {
      what = subprocess::describe_wait_status(*status);
    }
    s.stderr_capture.drain(s.child);
    const std::string reason =
        s.stderr_capture.annotate(fmt::format("worker {} (pid {}) {}", s.index, pid, what));

    const bool was_starting = s.state == State::starting;
    if (s.task && s.generation == generation_) {
      const double duration = std::chrono::duration<double>(Clock::now() - s.started).count();
      queue_.deliver(
          Result<X, Y>::failure(s.task->id, std::move(s.task->x), reason, s.index, duration));
    }
    // Tasks sent ahead never started: they go to the front of the queue,
    // in their order, for the next worker free.
    for (auto it = s.ahead.rbegin(); it != s.ahead.rend(); ++it) {
      if (it->second == generation_) queue_.put_back(std::move(it->first));
    }
    const bool retiring = s.retiring;
    slots_[index].reset();  // `s` is gone from here on
    if (retiring) return;
    if (was_starting && ++failed_starts_ >= options_.max_failed_starts) {
      throw WorkerStartError(
          fmt::format("{}: the worker '{}' failed to start {} times in a row; "
                      "last: {}",
                      name_, spawn_.argv.front(), failed_starts_, reason));
    }
    start_worker_or_shrink(index, 1);
  }

  std::string name_;
  subprocess::SpawnOptions spawn_;
  WorkerOptions options_;
  std::vector<subprocess::Child> started_;  ///< ready-made workers not yet in a slot
  std::vector<std::unique_ptr<Slot>> slots_;
  TaskQueue<X, Y> queue_;
  std::uint64_t generation_ = 0;
  unsigned failed_starts_ = 0;
  std::uint64_t serials_ = 0;
  /// The last replies' times in seconds (a ring; `recent_count_` of them
  /// so far). Each includes however late the reply was read.
  std::array<double, 8> recent_durations_{};
  std::size_t recent_count_ = 0;
  WorkerCapacity capacity_;
  std::atomic<std::size_t> to_add_{0};
  std::atomic<std::size_t> to_release_{0};
};

}  // namespace detail
}  // namespace taskmaster
