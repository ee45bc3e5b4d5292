#pragma once
// A master that evaluates tasks on a pool of worker threads.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"
#include "taskmaster/masters/spin_wait.hpp"
#include "taskmaster/masters/timed_call.hpp"

namespace taskmaster {

/// Evaluates a C++ callable on N worker threads; capacity is the number of
/// active workers. An exception thrown by the callable becomes a failure
/// carrying its message. Workers can join and leave while a run goes on, as
/// TaskMaster.jl's `captureslave!` and `releaseslave!` allow.
///
/// Waiting threads spin briefly before they sleep, so that a result handed
/// to the loop and the next task handed to a worker cost microseconds, not a
/// scheduler wake-up.
///
/// @code
/// taskmaster::ThreadMaster<double, double> master([](double x) { return std::sin(x); }, 4);
/// master.add_workers(2);      // capacity 6 from the next loop step on
/// master.release_workers(3);  // three workers leave after their current task
/// @endcode
template <class X, class Y>
class ThreadMaster {
 public:
  using input_type = X;
  using output_type = Y;
  using Function = std::function<Y(const X&)>;

  ThreadMaster(Function f, std::size_t workers) : f_(std::move(f)) {
    if (!f_) throw std::invalid_argument("ThreadMaster: empty function");
    add_workers(workers);
  }

  ThreadMaster(const ThreadMaster&) = delete;
  ThreadMaster& operator=(const ThreadMaster&) = delete;

  ~ThreadMaster() {
    {
      std::lock_guard lock(mutex_);
      shutting_down_ = true;
      tasks_.clear();
    }
    task_ready_.notify_all();
    for (auto& w : workers_) {
      if (w->thread.joinable()) w->thread.join();
    }
  }

  [[nodiscard]] std::size_t capacity() const noexcept {
    return active_.load(std::memory_order_acquire);
  }

  /// Starts `n` more workers.
  void add_workers(std::size_t n) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < n; ++i) {
      auto worker = std::make_unique<Worker>();
      const int index = static_cast<int>(workers_.size());
      worker->thread = std::thread([this, index, w = worker.get()] { work(index, *w); });
      workers_.push_back(std::move(worker));
      active_.fetch_add(1, std::memory_order_release);
    }
  }

  /// Lets `n` workers go: capacity drops at once, and each leaving worker
  /// finishes the task it is running first.
  void release_workers(std::size_t n) {
    {
      std::lock_guard lock(mutex_);
      for (auto it = workers_.rbegin(); it != workers_.rend() && n > 0; ++it) {
        if (!(*it)->retiring.load(std::memory_order_relaxed)) {
          (*it)->retiring.store(true, std::memory_order_release);
          active_.fetch_sub(1, std::memory_order_release);
          --n;
        }
      }
    }
    task_ready_.notify_all();
  }

  void submit(Task<X> task) {
    bool wake = false;
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(Queued{std::move(task), generation_});
      ++outstanding_;
      queued_.fetch_add(1, std::memory_order_release);
      wake = sleeping_workers_ > 0;
    }
    if (wake) task_ready_.notify_one();
  }

  std::optional<Result<X, Y>> next() {
    auto ready = [this] { return results_ready_.load(std::memory_order_acquire) > 0; };
    detail::spin_until(ready, std::chrono::microseconds(50));
    if (!ready()) anticipate(ready);
    std::unique_lock lock(mutex_);
    if (results_.empty()) {
      if (outstanding_ == 0) return std::nullopt;
      wait_for_result(lock, std::nullopt);
      if (results_.empty()) return std::nullopt;
    }
    Result<X, Y> result = std::move(results_.front());
    results_.pop_front();
    results_ready_.fetch_sub(1, std::memory_order_release);
    --outstanding_;
    lock.unlock();
    typical_duration_ = typical_duration_ == 0.0 ? result.duration
                                                 : 0.8 * typical_duration_ + 0.2 * result.duration;
    return result;
  }

  /// Drops queued tasks and the results not yet taken; tasks running now
  /// finish, but their results are discarded.
  void cancel() {
    std::lock_guard lock(mutex_);
    ++generation_;
    tasks_.clear();
    queued_.store(0, std::memory_order_release);
    results_.clear();
    results_ready_.store(0, std::memory_order_release);
    outstanding_ = 0;
  }

 private:
  struct Worker {
    std::thread thread;
    std::atomic<bool> retiring{false};
    /// steady_clock ticks when the running task started; 0 while idle.
    std::atomic<std::int64_t> started{0};
  };
  struct Queued {
    Task<X> task;
    std::uint64_t generation;
  };

  /// For tasks long enough to be worth it, sleeps until shortly before the
  /// earliest running task is expected to end (its start plus the typical
  /// duration seen so far), then polls: the loop takes the result within a
  /// microsecond instead of a scheduler wake-up later, which is what keeps
  /// workers busy when capacity equals the number of workers. The margin
  /// covers the kernel's timer slack (50 us by default).
  template <class Ready>
  void anticipate(Ready ready) {
    using namespace std::chrono;
    if (typical_duration_ < 300e-6) return;
    std::unique_lock lock(mutex_);
    std::int64_t earliest = 0;
    for (const auto& w : workers_) {
      const std::int64_t started = w->started.load(std::memory_order_acquire);
      if (started != 0 && (earliest == 0 || started < earliest)) earliest = started;
    }
    if (earliest == 0 || !results_.empty()) return;
    const auto expected =
        steady_clock::time_point(steady_clock::duration(earliest)) +
        duration_cast<steady_clock::duration>(duration<double>(typical_duration_));
    const auto wake = expected - microseconds(150);
    if (wake > steady_clock::now()) wait_for_result(lock, wake);
    lock.unlock();
    detail::spin_until(ready, microseconds(400));
  }

  /// Sleeps until a result is there, nothing is outstanding, or `until`.
  void wait_for_result(std::unique_lock<std::mutex>& lock,
                       std::optional<std::chrono::steady_clock::time_point> until) {
    auto done = [this] { return !results_.empty() || outstanding_ == 0; };
    ++sleeping_loop_;
    if (until) {
      result_ready_.wait_until(lock, *until, done);
    } else {
      result_ready_.wait(lock, done);
    }
    --sleeping_loop_;
  }

  void work(int index, Worker& self) {
    for (;;) {
      detail::spin_until(
          [this, &self] {
            return queued_.load(std::memory_order_acquire) > 0 ||
                   self.retiring.load(std::memory_order_acquire);
          },
          std::chrono::microseconds(50));
      std::unique_lock lock(mutex_);
      auto can_go = [this, &self] {
        return !tasks_.empty() || shutting_down_ || self.retiring.load(std::memory_order_acquire);
      };
      if (!can_go()) {
        ++sleeping_workers_;
        task_ready_.wait(lock, can_go);
        --sleeping_workers_;
      }
      if (shutting_down_) return;
      // A leaving worker still drains the queue if no active worker is left to.
      if (self.retiring.load(std::memory_order_acquire) &&
          (tasks_.empty() || active_.load(std::memory_order_acquire) > 0)) {
        return;
      }
      Queued queued = std::move(tasks_.front());
      tasks_.pop_front();
      queued_.fetch_sub(1, std::memory_order_release);
      lock.unlock();

      self.started.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                         std::memory_order_release);
      Result<X, Y> result = detail::timed_call<X, Y>(f_, std::move(queued.task), index);
      self.started.store(0, std::memory_order_release);

      lock.lock();
      if (queued.generation != generation_) continue;  // cancelled meanwhile
      results_.push_back(std::move(result));
      results_ready_.fetch_add(1, std::memory_order_release);
      const bool wake = sleeping_loop_ > 0;
      lock.unlock();
      if (wake) result_ready_.notify_one();
    }
  }

  Function f_;
  std::mutex mutex_;
  std::condition_variable task_ready_;
  std::condition_variable result_ready_;
  std::deque<Queued> tasks_;
  std::deque<Result<X, Y>> results_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::size_t> active_{0};
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> results_ready_{0};
  std::size_t outstanding_ = 0;  // submitted in this generation and not yet taken by next()
  std::size_t sleeping_workers_ = 0;
  std::size_t sleeping_loop_ = 0;
  std::uint64_t generation_ = 0;
  double typical_duration_ = 0.0;  // seconds; read and written by the loop's thread only
  bool shutting_down_ = false;
};

}  // namespace taskmaster
