// The parts that CommandMaster, the worker pool (ProcessMaster, StdioMaster)
// and SlurmMaster share: the task queue and its next() loop, the capacity
// changed from any thread, the poll over children's pipes, the stderr tail.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "taskmaster/detail/child_streams.hpp"
#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/detail/task_queue.hpp"
#include "taskmaster/detail/worker_capacity.hpp"

namespace {

using namespace taskmaster;
using detail::TaskQueue;
using detail::Waited;

TEST(TaskQueue, HandsOutResultsInTheOrderTheyCameAndNothingWhenNothingIsOwed) {
  TaskQueue<double, double> queue;
  queue.submit({1, 1.0});
  queue.submit({2, 2.0});
  std::vector<Task<double>> running;
  auto start = [&] {
    while (queue.has_waiting()) running.push_back(queue.take_waiting());
  };
  // Each wait finishes the task started last.
  auto wait = [&] {
    queue.deliver(Result<double, double>::success(running.back().id, running.back().x,
                                                  10 * running.back().x));
    running.pop_back();
    return Waited::progress;
  };
  auto first = queue.next(start, wait);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 2u);
  EXPECT_EQ(*first->y, 20.0);
  auto second = queue.next(start, wait);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->id, 1u);
  EXPECT_FALSE(queue.next(start, wait).has_value());
}

TEST(TaskQueue, WithNoRunnerLeftTheWaitingTasksFailWithTheReason) {
  TaskQueue<double, double> queue;
  for (TaskId id = 0; id < 3; ++id) queue.submit({id, static_cast<double>(id)});
  int waits = 0;
  auto nothing_starts = [] {};
  auto no_runner = [&] {
    ++waits;
    return Waited::no_runner_left;
  };
  for (TaskId id = 0; id < 3; ++id) {
    auto result = queue.next(nothing_starts, no_runner);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->id, id);
    EXPECT_FALSE(result->ok());
    EXPECT_EQ(result->error, "no worker is left to run it");
  }
  EXPECT_FALSE(queue.next(nothing_starts, no_runner).has_value());
  EXPECT_EQ(waits, 1);
}

TEST(TaskQueue, ATaskThatIsRunningWhenNoRunnerIsLeftIsNoLongerOwed) {
  TaskQueue<double, double> queue;
  queue.submit({0, 0.0});
  Task<double> lost = queue.take_waiting();  // its runner dies without an answer
  auto result = queue.next([] {}, [] { return Waited::no_runner_left; });
  EXPECT_FALSE(result.has_value()) << "next() must not wait forever for task " << lost.id;
}

TEST(TaskQueue, GivingUpEndsNextWithoutAResult) {
  TaskQueue<double, double> queue;
  queue.submit({0, 0.0});
  EXPECT_FALSE(queue.next([] {}, [] { return Waited::gave_up; }).has_value());
}

TEST(TaskQueue, ATaskPutBackRunsBeforeTheOthers) {
  TaskQueue<double, double> queue;
  queue.submit({0, 0.0});
  queue.submit({1, 1.0});
  Task<double> first = queue.take_waiting();
  queue.put_back(first);
  EXPECT_EQ(queue.take_waiting().id, 0u);
  EXPECT_EQ(queue.take_waiting().id, 1u);
  EXPECT_FALSE(queue.has_waiting());
}

TEST(TaskQueue, DropUnresolvedKeepsTheResultsThatAreThereAndClearDropsThemToo) {
  TaskQueue<double, double> queue;
  for (TaskId id = 0; id < 3; ++id) queue.submit({id, static_cast<double>(id)});
  queue.deliver(Result<double, double>::success(0, queue.take_waiting().x, 5.0));
  queue.take_waiting();  // running
  queue.drop_unresolved();
  EXPECT_FALSE(queue.has_waiting());
  auto never_waits = [] {
    ADD_FAILURE() << "waited although nothing was owed";
    return Waited::gave_up;
  };
  auto kept = queue.next([] {}, never_waits);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->id, 0u);
  EXPECT_FALSE(queue.next([] {}, never_waits).has_value());

  queue.submit({7, 7.0});
  queue.deliver(Result<double, double>::success(7, queue.take_waiting().x, 1.0));
  queue.clear();
  EXPECT_FALSE(queue.has_results());
  EXPECT_FALSE(queue.next([] {}, never_waits).has_value());
}

TEST(TaskQueue, ATaskTakenOverFromAnEarlierRunIsOwedAnAnswer) {
  TaskQueue<double, double> queue;
  queue.owe_one();  // it runs elsewhere; its answer comes with the second wait
  int waits = 0;
  auto result = queue.next([] {},
                           [&] {
                             if (++waits == 2) {
                               queue.deliver(Result<double, double>::success(3, 3.0, 9.0));
                             }
                             return Waited::progress;
                           });
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->id, 3u);
  EXPECT_EQ(waits, 2);
}

TEST(WorkerCapacity, NeverGoesBelowZeroAndSaysByHowMuchItWentDown) {
  detail::WorkerCapacity capacity(3);
  EXPECT_EQ(capacity.release(2), 2u);
  EXPECT_EQ(capacity.release(5), 1u);
  EXPECT_EQ(capacity.value(), 0u);
  EXPECT_EQ(capacity.release(1), 0u);
  capacity.add(4);
  EXPECT_EQ(capacity.value(), 4u);
}

TEST(WorkerCapacity, ChangesFromManyThreadsAddUp) {
  detail::WorkerCapacity capacity(0);
  constexpr int threads = 4;
  constexpr int rounds = 20'000;
  std::vector<std::thread> changers;
  std::vector<std::size_t> released(threads, 0);
  for (int t = 0; t < threads; ++t) {
    changers.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        capacity.add(2);
        released[static_cast<std::size_t>(t)] += capacity.release(3);
      }
    });
  }
  for (auto& t : changers) t.join();
  std::size_t total_released = 0;
  for (std::size_t r : released) total_released += r;
  EXPECT_EQ(capacity.value() + total_released, std::size_t{2} * threads * rounds);
}

TEST(DeadlineAfter, NoLimitMeansNever) {
  const auto now = detail::ChildClock::now();
  EXPECT_EQ(detail::deadline_after(now, std::nullopt), detail::ChildClock::time_point::max());
  EXPECT_EQ(detail::deadline_after(now, 1.5) - now, std::chrono::milliseconds(1500));
}

TEST(PollSet, HandsBackTheOwnerOfTheReadyPipe) {
  int quiet[2];
  int loud[2];
  ASSERT_EQ(::pipe(quiet), 0);
  ASSERT_EQ(::pipe(loud), 0);
  ASSERT_EQ(::write(loud[1], "x", 1), 1);
  detail::PollSet<std::string> watched;
  watched.watch(quiet[0], POLLIN, "quiet");
  watched.watch(-1, POLLIN, "closed");
  watched.watch(loud[0], POLLIN, "loud");
  std::vector<std::string> ready;
  watched.wait([&](const std::string& owner) { ready.push_back(owner); });
  EXPECT_EQ(ready, std::vector<std::string>{"loud"});
  for (int fd : {quiet[0], quiet[1], loud[0], loud[1]}) ::close(fd);
}

TEST(PollSet, WakesAtTheEarliestDeadlineWhenNothingIsReady) {
  int quiet[2];
  ASSERT_EQ(::pipe(quiet), 0);
  detail::PollSet<int> watched;
  watched.watch(quiet[0], POLLIN, 0);
  const auto start = detail::ChildClock::now();
  watched.wake_by(start + std::chrono::hours(1));
  watched.wake_by(start + std::chrono::milliseconds(50));
  bool called = false;
  watched.wait([&](int) { called = true; });
  EXPECT_FALSE(called);
  EXPECT_GE(detail::ChildClock::now() - start, std::chrono::milliseconds(50));
  ::close(quiet[0]);
  ::close(quiet[1]);
}

TEST(StderrCapture, KeepsTheEndOfStderrForTheReason) {
  auto child = subprocess::Child::spawn(
      {.argv = {"/bin/sh", "-c", "echo start of a long story >&2; echo the end >&2"}});
  detail::StderrCapture err(8);
  child.wait();
  err.drain(child);
  EXPECT_EQ(err.annotate("exited"), "exited; stderr: the end\n");

  auto silent = subprocess::Child::spawn({.argv = {"/bin/true"}});
  detail::StderrCapture nothing;
  while (silent.stderr_fd() >= 0) nothing.read(silent);  // closes the pipe at its end
  EXPECT_EQ(nothing.annotate("exited"), "exited");
}

}  // namespace
