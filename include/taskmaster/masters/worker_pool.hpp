#pragma once
// The engine under StdioMaster and ProcessMaster: a pool of long-running
// worker processes, each evaluating one task at a time, driven from the
// loop's own thread with poll(2). What travels on the pipes is decided by a
// Wire (JSON lines, binary frames); everything else (start, handshake,
// timeouts, replacement, release, shutdown) is here.

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
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
#include <utility>
#include <vector>

#include "taskmaster/core/task.hpp"
#include "taskmaster/detail/subprocess.hpp"

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
  using Clock = std::chrono::steady_clock;

  WorkerPool(std::string name, subprocess::SpawnOptions spawn, WorkerOptions options)
      : name_(std::move(name)), spawn_(std::move(spawn)), options_(std::move(options)) {
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
    return target_.load(std::memory_order_acquire);
  }

  void add_workers(std::size_t n) {
    target_.fetch_add(n, std::memory_order_acq_rel);
    to_add_.fetch_add(n, std::memory_order_acq_rel);
  }

  void release_workers(std::size_t n) {
    std::size_t current = target_.load(std::memory_order_acquire);
    std::size_t k;
    do {
      k = std::min(n, current);
    } while (!target_.compare_exchange_weak(current, current - k, std::memory_order_acq_rel));
    to_release_.fetch_add(k, std::memory_order_acq_rel);
  }

  void submit(Task<X> task) {
    queue_.push_back(std::move(task));
    ++outstanding_;
    apply_worker_changes();
    dispatch();
  }

  std::optional<Result<X, Y>> next() {
    for (;;) {
      apply_worker_changes();
      dispatch();
      if (!results_.empty()) {
        Result<X, Y> r = std::move(results_.front());
        results_.pop_front();
        --outstanding_;
        return r;
      }
      if (outstanding_ == 0) return std::nullopt;
      if (live_workers() == 0)
        fail_queue("no worker is left to run it");
      else
        pump();
    }
  }

  void cancel() {
    ++generation_;
    queue_.clear();
    results_.clear();
    outstanding_ = 0;
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
    const auto deadline =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options_.shutdown_grace));
    for (auto& s : slots_) {
      if (!s) continue;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (!s->child.wait_for(std::max(left, std::chrono::milliseconds(0)))) s->child.kill_group();
      s->child.wait();
      s.reset();
    }
    slots_.clear();
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
    subprocess::Tail stderr_tail;
    std::optional<Task<X>> task;
    std::uint64_t generation = 0;
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
    slot->stderr_tail = subprocess::Tail(options_.stderr_tail_bytes);
    slot->child = subprocess::Child::spawn(spawn_);
    slot->deadline = Clock::now() + seconds(options_.start_timeout);
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
    std::size_t current = target_.load(std::memory_order_acquire);
    while (!target_.compare_exchange_weak(current, current - std::min(dropped, current),
                                          std::memory_order_acq_rel)) {
    }
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

  static Clock::duration seconds(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  void dispatch() {
    if (queue_.empty()) return;
    const bool any_active =
        std::any_of(slots_.begin(), slots_.end(), [](const auto& s) { return s && !s->retiring; });
    for (auto& s : slots_) {
      if (queue_.empty()) return;
      // A leaving worker still helps when no active worker is left.
      if (!s || s->state != State::idle || (s->retiring && any_active)) continue;
      give_task(*s, std::move(queue_.front()));
      queue_.pop_front();
    }
  }

  void give_task(Slot& s, Task<X> task) {
    s.to_write.erase(0, s.written);
    s.written = 0;
    W::write_task(s.to_write, task.id, task.x);
    s.task = std::move(task);
    s.generation = generation_;
    s.state = State::busy;
    s.started = Clock::now();
    s.deadline =
        options_.timeout ? s.started + seconds(*options_.timeout) : Clock::time_point::max();
    flush(s);
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
    std::vector<pollfd> fds;
    struct Owner {
      std::size_t slot;
      std::uint64_t serial;
      int stream;  // 0 stdout, 1 stderr, 2 stdin
    };
    std::vector<Owner> owners;
    Clock::time_point wake = Clock::time_point::max();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const auto& s = slots_[i];
      if (!s) continue;
      if (s->child.stdout_fd() >= 0) {
        fds.push_back({s->child.stdout_fd(), POLLIN, 0});
        owners.push_back({i, s->serial, 0});
      }
      if (s->child.stderr_fd() >= 0) {
        fds.push_back({s->child.stderr_fd(), POLLIN, 0});
        owners.push_back({i, s->serial, 1});
      }
      if (s->written < s->to_write.size() && s->child.stdin_fd() >= 0) {
        fds.push_back({s->child.stdin_fd(), POLLOUT, 0});
        owners.push_back({i, s->serial, 2});
      }
      if (s->state != State::idle) wake = std::min(wake, s->deadline);
    }
    int timeout_ms = -1;
    if (wake != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
    }
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready > 0) {
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        const Owner& o = owners[k];
        if (!still_there(o.slot, o.serial)) continue;  // replaced meanwhile
        Slot& s = *slots_[o.slot];
        if (o.stream == 0)
          read_stdout(s);
        else if (o.stream == 1)
          read_stderr(s);
        else
          flush(s);
      }
    }
    check_deadlines();
  }

  void read_stderr(Slot& s) {
    std::string chunk;
    const long n = subprocess::Child::read_available(s.child.stderr_fd(), chunk, 1 << 16);
    if (n == 0) s.child.close_stderr();
    s.stderr_tail.append(chunk);
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
    const double duration = std::chrono::duration<double>(Clock::now() - s.started).count();
    Task<X> task = std::move(*s.task);
    s.task.reset();
    s.state = State::idle;
    s.deadline = Clock::time_point::max();
    if (s.generation == generation_) {
      if (m.y) {
        results_.push_back(
            Result<X, Y>::success(task.id, std::move(task.x), std::move(*m.y), s.index, duration));
      } else {
        results_.push_back(Result<X, Y>::failure(task.id, std::move(task.x),
                                                 fmt::format("worker {}: {}", s.index, m.error),
                                                 s.index, duration));
      }
    }
    if (s.retiring &&
        (!queue_.empty() ? std::any_of(slots_.begin(), slots_.end(),
                                       [](const auto& o) { return o && !o->retiring; })
                         : true)) {
      stop_worker(s);
      return;
    }
    dispatch();
  }

  void protocol_error(Slot& s, const std::string& what) {
    s.child.kill_group();
    worker_lost(s, fmt::format("broke the protocol ({}) and was killed", what));
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
  /// reason, and start a replacement unless it was leaving anyway.
  void worker_lost(Slot& s, std::string what) {
    const auto index = static_cast<std::size_t>(s.index);
    const pid_t pid = s.child.pid();
    s.child.close_stdin();
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
    drain_stderr(s);
    std::string reason = fmt::format("worker {} (pid {}) {}", s.index, pid, what);
    const std::string tail = s.stderr_tail.text();
    if (!tail.empty()) reason += fmt::format("; stderr: {}", tail);

    const bool was_starting = s.state == State::starting;
    if (s.task && s.generation == generation_) {
      const double duration = std::chrono::duration<double>(Clock::now() - s.started).count();
      results_.push_back(
          Result<X, Y>::failure(s.task->id, std::move(s.task->x), reason, s.index, duration));
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

  void drain_stderr(Slot& s) {
    // The writer is dead, unless something it started holds the pipe: read
    // what is there, never wait.
    for (int i = 0; i < 64 && s.child.stderr_fd() >= 0; ++i) {
      std::string chunk;
      const long n = subprocess::Child::read_available(s.child.stderr_fd(), chunk, 1 << 16);
      s.stderr_tail.append(chunk);
      if (n <= 0) break;
    }
  }

  void fail_queue(const std::string& why) {
    while (!queue_.empty()) {
      Task<X> t = std::move(queue_.front());
      queue_.pop_front();
      results_.push_back(Result<X, Y>::failure(t.id, std::move(t.x), why));
    }
    if (results_.empty()) outstanding_ = 0;  // nothing can come back
  }

  std::string name_;
  subprocess::SpawnOptions spawn_;
  WorkerOptions options_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Task<X>> queue_;
  std::deque<Result<X, Y>> results_;
  std::size_t outstanding_ = 0;
  std::uint64_t generation_ = 0;
  unsigned failed_starts_ = 0;
  std::uint64_t serials_ = 0;
  std::atomic<std::size_t> target_{0};
  std::atomic<std::size_t> to_add_{0};
  std::atomic<std::size_t> to_release_{0};
};

}  // namespace detail
}  // namespace taskmaster
