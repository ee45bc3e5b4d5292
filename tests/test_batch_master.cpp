// BatchMaster with real evaluator threads: batches form, fail together,
// run concurrently, linger to fill, and a batched run replays exactly.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <set>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/masters/batch_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using namespace std::chrono_literals;

static_assert(Master<BatchMaster<double, double>>);

double peak(double x) { return x + 1e-3 / (1e-3 + x * x); }

/// Records the size of every call.
struct BatchSizes {
  std::mutex mutex;
  std::vector<std::size_t> sizes;
  void add(std::size_t n) {
    std::lock_guard lock(mutex);
    sizes.push_back(n);
  }
  std::vector<std::size_t> get() {
    std::lock_guard lock(mutex);
    return sizes;
  }
};

TEST(BatchMaster, BatchesGrowWhileACallRunsAndTheRunReplays) {
  BatchSizes calls;
  BatchMaster<double, double> master(
      [&](std::span<const double> xs) {
        calls.add(xs.size());
        std::this_thread::sleep_for(2ms);  // a kernel launch
        std::vector<double> ys;
        for (double x : xs) ys.push_back(peak(x));
        return ys;
      },
      {.max_batch = 32});
  EXPECT_EQ(master.capacity(), 32u);
  Learner1D<double> learner(-1.0, 1.0);
  const auto summary = evaluate(master, learner, stop::points(600), {.ask_batch = 32});
  EXPECT_EQ(summary.progress.told, 600u);
  for (const auto& [x, y] : learner.data()) EXPECT_DOUBLE_EQ(y, peak(x));
  const auto sizes = calls.get();
  EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}), 600u);
  EXPECT_GT(*std::max_element(sizes.begin(), sizes.end()), 1u) << "no batch formed";
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 32u);
  EXPECT_LT(sizes.size(), 600u / 2) << "batches of more than two points on average";

  Learner1D<double> fresh(-1.0, 1.0);
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.data(), learner.data());
}

TEST(BatchMaster, AThrowingCallFailsItsWholeBatchAndTheRunGoesOn) {
  std::vector<int> inputs(100);
  std::iota(inputs.begin(), inputs.end(), 0);
  SequenceLearner<int, int> learner(inputs);
  BatchSizes calls;
  BatchMaster<int, int> master(
      [&](std::span<const int> xs) {
        calls.add(xs.size());
        if (std::find(xs.begin(), xs.end(), 13) != xs.end())
          throw std::runtime_error("the device ran out of memory");
        std::vector<int> ys;
        for (int x : xs) ys.push_back(2 * x);
        return ys;
      },
      {.max_batch = 8, .linger = 0.01});
  const auto summary = evaluate(master, learner, stop::exhausted(), {.ask_batch = 8});
  EXPECT_EQ(summary.progress.told + summary.progress.failed, 100u);
  EXPECT_GE(summary.progress.failed, 1u);
  EXPECT_LE(summary.progress.failed, 8u);
  EXPECT_TRUE(learner.failed(13));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!learner.failed(i)) {
      EXPECT_EQ(*learner.result(i), 2 * inputs[i]);
    }
  }
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::fail) {
      EXPECT_EQ(e.text, "the device ran out of memory");
    }
  }
}

TEST(BatchMaster, AWrongNumberOfOutputsFailsTheBatchSayingSo) {
  BatchMaster<double, double> master(
      [](std::span<const double> xs) { return std::vector<double>(xs.size() - 1, 0.0); },
      {.max_batch = 3, .linger = 0.05});
  for (TaskId id = 0; id < 3; ++id) master.submit({id, static_cast<double>(id)});
  for (int i = 0; i < 3; ++i) {
    const auto r = master.next();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok());
    EXPECT_EQ(r->error, "the batch function returned 2 outputs for 3 inputs");
  }
  EXPECT_FALSE(master.next()) << "nothing left in flight";
}

TEST(BatchMaster, EvaluatorsRunTheirCallsAtTheSameTime) {
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  BatchMaster<double, double> master(
      [&](std::span<const double> xs) {
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(20ms);
        --running;
        return std::vector<double>(xs.begin(), xs.end());
      },
      {.max_batch = 4, .evaluators = 2});
  EXPECT_EQ(master.capacity(), 8u);
  std::vector<double> inputs(40);
  std::iota(inputs.begin(), inputs.end(), 0.0);
  SequenceLearner<double, double> learner(inputs);
  const auto summary = evaluate(master, learner, stop::exhausted(), {.ask_batch = 4});
  EXPECT_EQ(summary.progress.told, 40u);
  EXPECT_EQ(most.load(), 2);
  std::set<int> workers;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) workers.insert(e.worker);
  }
  EXPECT_EQ(workers, (std::set<int>{0, 1}));
}

TEST(BatchMaster, LingeringFillsABatchFromTasksSubmittedOneByOne) {
  BatchSizes calls;
  BatchMaster<double, double> master(
      [&](std::span<const double> xs) {
        calls.add(xs.size());
        return std::vector<double>(xs.begin(), xs.end());
      },
      {.max_batch = 8, .linger = 1.0});
  for (TaskId id = 0; id < 8; ++id) {
    master.submit({id, static_cast<double>(id)});
    std::this_thread::sleep_for(2ms);
  }
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(master.next());
  EXPECT_EQ(calls.get(), std::vector<std::size_t>{8});
}

TEST(BatchMaster, CancelDropsWhatIsQueuedAndWhatIsRunning) {
  BatchMaster<double, double> master(
      [](std::span<const double> xs) {
        std::this_thread::sleep_for(30ms);
        return std::vector<double>(xs.begin(), xs.end());
      },
      {.max_batch = 2});
  for (TaskId id = 0; id < 10; ++id) master.submit({id, static_cast<double>(id)});
  ASSERT_TRUE(master.next());
  master.cancel();
  EXPECT_FALSE(master.next());
  master.submit({99, 99.0});  // the master still works after a cancel
  const auto r = master.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 99u);
  EXPECT_EQ(*r->y, 99.0);
}

TEST(BatchMaster, RefusesMeaninglessOptions) {
  const auto f = [](std::span<const double> xs) {
    return std::vector<double>(xs.begin(), xs.end());
  };
  EXPECT_THROW((BatchMaster<double, double>(f, {.max_batch = 0})), std::invalid_argument);
  EXPECT_THROW((BatchMaster<double, double>(f, {.evaluators = 0})), std::invalid_argument);
  EXPECT_THROW((BatchMaster<double, double>(f, {.linger = -1})), std::invalid_argument);
  EXPECT_THROW((BatchMaster<double, double>(nullptr)), std::invalid_argument);
}

}  // namespace
