#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "support/gap_learner.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using namespace std::chrono_literals;
using test_support::GapLearner;

double random_sleep_then_sin(double x) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 800)(rng)));
  return std::sin(12 * x) + x;
}

std::filesystem::path temp_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("taskmaster_test_" + name + ".jsonl");
}

/// Collects the asks a replay makes, to compare with the record.
std::vector<double> asks_of(const History<double, double>& history, GapLearner& learner) {
  std::vector<double> asks;
  replay(history, learner, [&](const HistoryEvent<double, double>& e, const Progress&) {
    if (e.kind == EventKind::ask) asks.push_back(*e.x);
  });
  return asks;
}

TEST(Replay, AParallelRunReplaysExactlyFromMemoryAndFromFile) {
  const auto file = temp_file("replay_parallel");
  GapLearner learner;
  ThreadMaster<double, double> master(random_sleep_then_sin, 4);
  auto summary = evaluate(master, learner, stop::points(200), {.seed = 11, .history_file = file});
  ASSERT_EQ(summary.progress.told, 200u);

  // The results really arrived out of order: otherwise this test proves little.
  std::vector<TaskId> tell_order;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) tell_order.push_back(e.id);
  }
  EXPECT_FALSE(std::is_sorted(tell_order.begin(), tell_order.end()));

  const auto from_disk = read_history<double, double>(file);
  const std::array<const History<double, double>*, 2> histories{&summary.history, &from_disk};
  for (const auto* history : histories) {
    GapLearner fresh;
    const auto asks = asks_of(*history, fresh);
    EXPECT_EQ(asks, summary.history.asked());
    EXPECT_EQ(fresh.points(), learner.points());  // identical final state
    EXPECT_EQ(fresh.told(), 200u);
  }
  std::filesystem::remove(file);
}

/// A learner that draws its jitter from a process-wide generator instead of
/// the entropy handed to ask: a recorded run cannot be replayed.
struct HiddenRandomLearner : GapLearner {
  std::optional<double> ask(Entropy) {
    static std::mt19937_64 hidden(12345);
    return GapLearner::ask(hidden());
  }
};

TEST(Replay, ANonDeterministicLearnerIsCaughtAtItsFirstDivergence) {
  HiddenRandomLearner learner;
  ThreadMaster<double, double> master(random_sleep_then_sin, 4);
  auto summary = evaluate(master, learner, stop::points(50));
  HiddenRandomLearner fresh;
  try {
    replay(summary.history, fresh);
    FAIL() << "the replay should have diverged";
  } catch (const ReplayDivergence& e) {
    // Asks 0 and 1 are the interval ends; the first jittered ask is step 2.
    EXPECT_EQ(e.step(), 2u);
    EXPECT_EQ(e.recorded(), "x = " + encode(summary.history.asked()[2]));
    EXPECT_NE(e.asked(), e.recorded());
    EXPECT_NE(std::string(e.what()).find("step 2"), std::string::npos) << e.what();
  }
}

TEST(Replay, ALearnerThatStopsAskingEarlyIsCaught) {
  GapLearner learner;
  auto summary =
      evaluate(SerialMaster<double, double>([](double x) { return x; }), learner, stop::points(30));
  struct GivesUp : GapLearner {
    std::optional<double> ask(Entropy e) {
      if (told() == 20) return std::nullopt;
      return GapLearner::ask(e);
    }
  } fresh;
  try {
    replay(summary.history, fresh);
    FAIL() << "the replay should have diverged";
  } catch (const ReplayDivergence& e) {
    EXPECT_EQ(e.step(), 20u);
    EXPECT_EQ(e.asked(), "nothing");
  }
}

TEST(Replay, RetriesFailuresCapacityChangesAndBatchesReplayToo) {
  const auto file = temp_file("replay_everything");
  std::mutex mutex;
  std::set<double> flaky_seen;
  auto f = [&](double x) {
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int>(x * 997) % 400));
    if (x > 0.9) throw std::runtime_error("out of range");
    std::lock_guard lock(mutex);
    if (x < 0.2 && flaky_seen.insert(x).second) throw std::runtime_error("flaky");
    return std::cos(7 * x);
  };
  ThreadMaster<double, double> master(f, 2);
  GapLearner learner;
  std::size_t told = 0;
  auto summary = evaluate(master, learner, stop::points(150),
                          {.seed = 3,
                           .retry = {.retries = 1},
                           .history_file = file,
                           .hook = [&](const auto& e, const Progress&) {
                             if (e.kind != EventKind::tell) return;
                             ++told;
                             if (told == 30) master.add_workers(3);
                             if (told == 90) master.release_workers(4);
                           }});
  ASSERT_GE(summary.history.count(EventKind::capacity), 3u);
  ASSERT_GT(summary.progress.failed, 0u);
  ASSERT_GT(summary.progress.retried, summary.progress.failed);

  const auto history = read_history<double, double>(file);
  GapLearner fresh;
  const auto counts = replay(history, fresh);
  EXPECT_EQ(fresh.points(), learner.points());
  EXPECT_EQ(counts.failed, summary.progress.failed);
  EXPECT_EQ(counts.retried, summary.progress.retried);
  std::filesystem::remove(file);
}

TEST(Replay, ACancelledRunReplays) {
  GapLearner learner;
  ThreadMaster<double, double> master(random_sleep_then_sin, 3);
  auto summary = evaluate(master, learner, stop::results(40), {.drain = false});
  ASSERT_GT(summary.history.count(EventKind::cancel), 0u);
  GapLearner fresh;
  const auto counts = replay(summary.history, fresh);
  EXPECT_EQ(counts.told, 40u);
  EXPECT_EQ(fresh.points(), learner.points());
}

TEST(Replay, BatchAsksReplay) {
  struct Batched {
    using input_type = double;
    using output_type = double;
    GapLearner inner;
    std::optional<double> ask(Entropy e) { return inner.ask(e); }
    std::vector<double> ask(std::size_t n, Entropy e) {
      std::vector<double> xs;
      for (std::size_t i = 0; i < n; ++i) xs.push_back(*inner.ask(e + i));
      return xs;
    }
    void tell(const double& x, const double& y) { inner.tell(x, y); }
    void fail(const double& x) { inner.fail(x); }
  };
  Batched learner;
  ThreadMaster<double, double> master(random_sleep_then_sin, 4);
  auto summary = evaluate(master, learner, stop::points(100), {.ask_batch = 4});
  EXPECT_EQ(summary.history.settings().ask_batch, 4u);
  Batched fresh;
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.inner.points(), learner.inner.points());
}

}  // namespace
