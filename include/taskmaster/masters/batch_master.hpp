#pragma once
// A master that evaluates tasks in batches: one call for many inputs, the way
// a GPU kernel, a vectorised model or a remote service wants them.

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"
#include "taskmaster/masters/spin_wait.hpp"

namespace taskmaster {

/// How BatchMaster groups its tasks.
///
/// @code
/// taskmaster::BatchOptions options{.max_batch = 1024, .evaluators = 2, .linger = 0.002};
/// @endcode
struct BatchOptions {
  /// Inputs in one call at most.
  std::size_t max_batch = 64;
  /// Calls running at once (one per GPU, say), each on a thread of its own.
  std::size_t evaluators = 1;
  /// Seconds an evaluator holding fewer than `max_batch` tasks waits for
  /// more before it calls the function. 0: it calls at once with what is
  /// queued (batches then grow by themselves while earlier calls run).
  double linger = 0.0;
};

/// Evaluates tasks in batches: `f` gets the inputs of up to `max_batch`
/// tasks at once and returns their outputs in the same order. Capacity is
/// `max_batch * evaluators`, so that the loop keeps the next batch of every
/// evaluator ready; give the learner's batch asks the same size
/// (`RunOptions::ask_batch`). A batch's results come back together. An
/// exception from `f` fails every task of its batch with the message; so
/// does a result with a different number of outputs than inputs. A task's
/// `duration` is its share of the call (the call's time over the batch
/// size); `worker` is the evaluator's index.
///
/// @code
/// taskmaster::BatchMaster<double, double> master(
///     [](std::span<const double> xs) {
///       std::vector<double> ys;
///       for (double x : xs) ys.push_back(std::sin(x));  // one kernel launch on a GPU
///       return ys;
///     },
///     {.max_batch = 256});
/// taskmaster::Learner1D<double> learner(0.0, 10.0);
/// taskmaster::evaluate(master, learner, taskmaster::stop::points(10000), {.ask_batch = 256});
/// @endcode
template <class X, class Y>
class BatchMaster {
 public:
  using input_type = X;
  using output_type = Y;
  using Function = std::function<std::vector<Y>(std::span<const X>)>;

  explicit BatchMaster(Function f, BatchOptions options = {})
      : f_(std::move(f)), options_(options) {
    if (!f_) throw std::invalid_argument("BatchMaster: empty function");
    if (options_.max_batch == 0) throw std::invalid_argument("BatchMaster: max_batch must be >= 1");
    if (options_.evaluators == 0) {
      throw std::invalid_argument("BatchMaster: evaluators must be >= 1");
    }
    if (!(options_.linger >= 0)) {
      throw std::invalid_argument(
          fmt::format("BatchMaster: linger must be >= 0 seconds, got {}", options_.linger));
    }
    for (std::size_t i = 0; i < options_.evaluators; ++i) {
      evaluators_.emplace_back([this, i] { evaluate_batches(static_cast<int>(i)); });
    }
  }
  BatchMaster(const BatchMaster&) = delete;
  BatchMaster& operator=(const BatchMaster&) = delete;

  ~BatchMaster() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      queue_.clear();
    }
    task_ready_.notify_all();
    for (auto& t : evaluators_) t.join();
  }

  [[nodiscard]] std::size_t capacity() const noexcept {
    return options_.max_batch * options_.evaluators;
  }

  void submit(Task<X> task) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
      ++outstanding_;
      queued_.fetch_add(1, std::memory_order_release);
    }
    task_ready_.notify_all();  // an evaluator lingering for a full batch counts too
  }

  std::optional<Result<X, Y>> next() {
    // Small batches come back within microseconds: catch them without a
    // scheduler wake-up.
    detail::spin_until([this] { return results_ready_.load(std::memory_order_acquire) > 0; },
                       std::chrono::microseconds(50));
    std::unique_lock lock(mutex_);
    result_ready_.wait(lock, [&] { return !results_.empty() || outstanding_ == 0; });
    if (results_.empty()) return std::nullopt;
    Result<X, Y> r = std::move(results_.front());
    results_.pop_front();
    results_ready_.fetch_sub(1, std::memory_order_release);
    return r;
  }

  /// Drops the queued tasks; batches being evaluated finish, unreported.
  void cancel() {
    std::lock_guard lock(mutex_);
    queue_.clear();
    results_.clear();
    queued_.store(0, std::memory_order_release);
    results_ready_.store(0, std::memory_order_release);
    outstanding_ = 0;
    ++generation_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void evaluate_batches(int index) {
    for (;;) {
      std::vector<Task<X>> batch;
      std::uint64_t generation = 0;
      detail::spin_until([this] { return queued_.load(std::memory_order_acquire) > 0; },
                         std::chrono::microseconds(50));
      {
        std::unique_lock lock(mutex_);
        task_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        if (options_.linger > 0 && queue_.size() < options_.max_batch) {
          task_ready_.wait_for(lock, std::chrono::duration<double>(options_.linger),
                               [&] { return stopping_ || queue_.size() >= options_.max_batch; });
          if (stopping_) return;
          if (queue_.empty()) continue;  // another evaluator took them
        }
        const std::size_t n = std::min(queue_.size(), options_.max_batch);
        batch.assign(std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        queued_.fetch_sub(n, std::memory_order_release);
        generation = generation_;
      }
      std::vector<Result<X, Y>> results = call(batch, index);
      {
        std::lock_guard lock(mutex_);
        if (generation != generation_) continue;  // cancelled meanwhile
        for (auto& r : results) results_.push_back(std::move(r));
        outstanding_ -= results.size();
        results_ready_.fetch_add(results.size(), std::memory_order_release);
      }
      result_ready_.notify_all();
    }
  }

  std::vector<Result<X, Y>> call(std::vector<Task<X>>& batch, int index) {
    std::vector<X> xs;
    xs.reserve(batch.size());
    for (auto& t : batch) xs.push_back(std::move(t.x));
    std::string error;
    std::vector<Y> ys;
    const auto start = Clock::now();
    try {
      ys = f_(std::span<const X>(xs));
      if (ys.size() != xs.size()) {
        error = fmt::format("the batch function returned {} outputs for {} inputs", ys.size(),
                            xs.size());
      }
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "the batch function threw something that is not a std::exception";
    }
    const double share = std::chrono::duration<double>(Clock::now() - start).count() /
                         static_cast<double>(xs.size());
    std::vector<Result<X, Y>> results;
    results.reserve(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      results.push_back(
          error.empty()
              ? Result<X, Y>::success(batch[i].id, std::move(xs[i]), std::move(ys[i]), index, share)
              : Result<X, Y>::failure(batch[i].id, std::move(xs[i]), error, index, share));
    }
    return results;
  }

  Function f_;
  BatchOptions options_;
  std::mutex mutex_;
  std::condition_variable task_ready_;
  std::condition_variable result_ready_;
  std::deque<Task<X>> queue_;
  std::deque<Result<X, Y>> results_;
  std::size_t outstanding_ = 0;
  // Mirrors of queue_.size() and results_.size() that waiting threads poll
  // without the lock.
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> results_ready_{0};
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> evaluators_;  // last: they start once the rest exists
};

}  // namespace taskmaster
