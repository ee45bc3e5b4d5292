#pragma once
// A master that evaluates tasks on a pool of worker threads.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"

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
    spin_until([this] { return results_ready_.load(std::memory_order_acquire) > 0; });
    std::unique_lock lock(mutex_);
    if (results_.empty()) {
      if (outstanding_ == 0) return std::nullopt;
      ++sleeping_loop_;
      result_ready_.wait(lock, [this] { return !results_.empty() || outstanding_ == 0; });
      --sleeping_loop_;
      if (results_.empty()) return std::nullopt;
    }
    Result<X, Y> result = std::move(results_.front());
    results_.pop_front();
    results_ready_.fetch_sub(1, std::memory_order_release);
    --outstanding_;
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
  };
  struct Queued {
    Task<X> task;
    std::uint64_t generation;
  };

  /// Polls `ready` for up to `spin_time` before the caller goes to sleep:
  /// a hand-over then costs well under a microsecond instead of a scheduler
  /// wake-up. The time bound (not an iteration count) keeps idle threads from
  /// taking the cores from workers doing real work when there are more
  /// threads than cores.
  template <class Ready>
  static void spin_until(Ready ready) {
    constexpr auto spin_time = std::chrono::microseconds(50);
    const auto deadline = std::chrono::steady_clock::now() + spin_time;
    for (unsigned i = 1;; ++i) {
      if (ready()) return;
      if (i % 64 == 0) {
        if (std::chrono::steady_clock::now() >= deadline) return;
        std::this_thread::yield();
      }
    }
  }

  void work(int index, Worker& self) {
    for (;;) {
      spin_until([this, &self] {
        return queued_.load(std::memory_order_acquire) > 0 ||
               self.retiring.load(std::memory_order_acquire);
      });
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

      Result<X, Y> result = evaluate(index, std::move(queued.task));

      lock.lock();
      if (queued.generation != generation_) continue;  // cancelled meanwhile
      results_.push_back(std::move(result));
      results_ready_.fetch_add(1, std::memory_order_release);
      const bool wake = sleeping_loop_ > 0;
      lock.unlock();
      if (wake) result_ready_.notify_one();
    }
  }

  Result<X, Y> evaluate(int worker, Task<X> task) {
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&start] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    try {
      Y y = f_(task.x);
      const double d = seconds();
      return Result<X, Y>::success(task.id, std::move(task.x), std::move(y), worker, d);
    } catch (const std::exception& e) {
      return Result<X, Y>::failure(task.id, std::move(task.x), e.what(), worker, seconds());
    } catch (...) {
      return Result<X, Y>::failure(task.id, std::move(task.x), "unknown exception", worker,
                                   seconds());
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
  bool shutting_down_ = false;
};

}  // namespace taskmaster
