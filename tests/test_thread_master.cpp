#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

#include "taskmaster/masters/serial_master.hpp"
#include "taskmaster/masters/thread_master.hpp"

namespace {

using namespace taskmaster;
using namespace std::chrono_literals;

static_assert(Master<ThreadMaster<double, double>>);
static_assert(Master<SerialMaster<int, std::string>>);

TEST(ThreadMaster, ResultsComeBackOutOfOrderFromEveryWorker) {
  ThreadMaster<int, int> master(
      [](int x) {
        std::this_thread::sleep_for(std::chrono::milliseconds(x == 0 ? 80 : 20));
        return -x;
      },
      4);
  EXPECT_EQ(master.capacity(), 4u);
  for (int i = 0; i < 4; ++i) master.submit({static_cast<TaskId>(i), i});
  std::vector<TaskId> order;
  std::set<int> workers;
  for (int i = 0; i < 4; ++i) {
    auto r = master.next();
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->ok());
    EXPECT_EQ(*r->y, -r->x);
    EXPECT_GT(r->duration, 0.0);
    order.push_back(r->id);
    workers.insert(r->worker);
  }
  EXPECT_EQ(order.back(), 0u);  // the slow task arrives last
  EXPECT_EQ(workers.size(), 4u);
  EXPECT_FALSE(master.next());  // nothing outstanding
}

TEST(ThreadMaster, ExceptionsBecomeFailuresWithTheirMessage) {
  ThreadMaster<int, int> master(
      [](int x) -> int {
        if (x == 1) throw std::domain_error("x must not be 1");
        if (x == 2) throw 42;
        return x;
      },
      2);
  master.submit({1, 1});
  master.submit({2, 2});
  std::map<TaskId, std::string> errors;
  for (int i = 0; i < 2; ++i) {
    auto r = master.next();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok());
    errors[r->id] = r->error;
  }
  EXPECT_EQ(errors[1], "x must not be 1");
  EXPECT_EQ(errors[2], "unknown exception");
}

TEST(ThreadMaster, WorkersJoinAndLeave) {
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  ThreadMaster<int, int> master(
      [&](int x) {
        const int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(5ms);
        --running;
        return x;
      },
      1);
  master.add_workers(2);
  EXPECT_EQ(master.capacity(), 3u);
  for (int i = 0; i < 30; ++i) master.submit({static_cast<TaskId>(i), i});
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(master.next());
  EXPECT_EQ(most.load(), 3);

  master.release_workers(2);
  EXPECT_EQ(master.capacity(), 1u);
  most = 0;
  for (int i = 0; i < 10; ++i) master.submit({static_cast<TaskId>(i), i});
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(master.next());
  EXPECT_EQ(most.load(), 1);
}

TEST(ThreadMaster, ReleasingEveryWorkerStillFinishesQueuedTasks) {
  ThreadMaster<int, int> master(
      [](int x) {
        std::this_thread::sleep_for(2ms);
        return x;
      },
      2);
  for (int i = 0; i < 6; ++i) master.submit({static_cast<TaskId>(i), i});
  master.release_workers(2);
  EXPECT_EQ(master.capacity(), 0u);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(master.next()) << i;
}

TEST(ThreadMaster, CancelDropsQueuedTasksAndLateResults) {
  ThreadMaster<int, int> master(
      [](int x) {
        std::this_thread::sleep_for(30ms);
        return x;
      },
      1);
  for (int i = 0; i < 5; ++i) master.submit({static_cast<TaskId>(i), i});
  std::this_thread::sleep_for(5ms);
  master.cancel();
  EXPECT_FALSE(master.next());
  master.submit({10, 10});
  auto r = master.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 10u);  // the task running during cancel was discarded
}

TEST(ThreadMaster, DestructionWithWorkQueuedDoesNotHang) {
  ThreadMaster<int, int> master(
      [](int x) {
        std::this_thread::sleep_for(10ms);
        return x;
      },
      2);
  for (int i = 0; i < 100; ++i) master.submit({static_cast<TaskId>(i), i});
}

TEST(ThreadMaster, ManyTasksEachDeliveredOnce) {
  ThreadMaster<int, int> master([](int x) { return x; }, 4);
  std::set<TaskId> seen;
  const int total = 20000;
  int submitted = 0;
  for (; submitted < 8; ++submitted) master.submit({static_cast<TaskId>(submitted), submitted});
  while (seen.size() < total) {
    auto r = master.next();
    ASSERT_TRUE(r);
    EXPECT_TRUE(seen.insert(r->id).second);
    if (submitted < total) {
      master.submit({static_cast<TaskId>(submitted), submitted});
      ++submitted;
    }
  }
  EXPECT_FALSE(master.next());
}

TEST(SerialMaster, EvaluatesInOrderInTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  SerialMaster<int, int> master([&](int x) -> int {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    if (x < 0) throw std::invalid_argument("negative");
    return x * 3;
  });
  EXPECT_EQ(master.capacity(), 1u);
  master.submit({0, 2});
  master.submit({1, -1});
  auto a = master.next();
  auto b = master.next();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a->y, 6);
  EXPECT_EQ(b->error, "negative");
  EXPECT_FALSE(master.next());
}

}  // namespace
