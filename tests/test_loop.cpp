#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <ranges>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/gap_learner.hpp"
#include "support/recording_learner.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using namespace std::chrono_literals;
using test_support::GapLearner;
using test_support::RecordingLearner;

/// Wraps a master and checks, on every submit, that the loop does not go
/// past the capacity it was given.
template <class Inner>
class CapacityCheckingMaster {
 public:
  using input_type = typename Inner::input_type;
  using output_type = typename Inner::output_type;

  explicit CapacityCheckingMaster(Inner& inner) : inner_(inner) {}

  std::size_t capacity() const { return inner_.capacity(); }
  void submit(Task<input_type> task) {
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    if (in_flight_ > inner_.capacity()) ++violations_;
    inner_.submit(std::move(task));
  }
  auto next() {
    auto r = inner_.next();
    if (r) --in_flight_;
    return r;
  }
  void cancel() { inner_.cancel(); }

  std::size_t max_in_flight() const { return max_in_flight_; }
  std::size_t violations() const { return violations_; }

 private:
  Inner& inner_;
  std::size_t in_flight_ = 0;
  std::size_t max_in_flight_ = 0;
  std::size_t violations_ = 0;
};

double random_sleep_then_sin(double x) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 500)(rng)));
  return std::sin(10 * x);
}

TEST(Loop, NeverExceedsCapacityAndKeepsItFull) {
  ThreadMaster<double, double> threads(random_sleep_then_sin, 4);
  CapacityCheckingMaster checking(threads);
  GapLearner learner;
  auto summary = evaluate(checking, learner, stop::points(300));
  EXPECT_EQ(checking.violations(), 0u);
  EXPECT_EQ(checking.max_in_flight(), 4u);
  EXPECT_EQ(summary.progress.asked, 300u);
  EXPECT_EQ(summary.progress.told, 300u);
  EXPECT_EQ(summary.progress.in_flight, 0u);
  EXPECT_EQ(summary.reason, "300 points asked");
}

TEST(Loop, EveryAskedPointEndsToldOrFailedAndNothingIsToldTwice) {
  // Points whose index is a multiple of 5 always fail; a multiple of 3 fails
  // on its first attempt only.
  std::mutex mutex;
  std::set<int> failed_once;
  ThreadMaster<int, int> master(
      [&](int x) {
        if (x % 5 == 0) throw std::runtime_error("always fails: " + std::to_string(x));
        if (x % 3 == 0) {
          std::lock_guard lock(mutex);
          if (failed_once.insert(x).second) throw std::runtime_error("flaky");
        }
        std::this_thread::sleep_for(std::chrono::microseconds(x % 7 * 50));
        return x * x;
      },
      3);
  RecordingLearner learner(IgnorantLearner<int, int>(std::views::iota(1, 201)));
  auto summary = evaluate(master, learner, stop::exhausted(), {.retry = {.retries = 1}});

  std::multiset<int> asked(learner.asked.begin(), learner.asked.end());
  std::multiset<int> resolved(learner.failed.begin(), learner.failed.end());
  for (const auto& [x, y] : learner.told) {
    EXPECT_EQ(y, x * x);
    resolved.insert(x);
  }
  EXPECT_EQ(asked.size(), 200u);
  EXPECT_EQ(resolved, asked);  // each asked point resolved exactly once
  EXPECT_EQ(learner.failed.size(), 40u);
  EXPECT_EQ(summary.progress.failed, 40u);
  EXPECT_EQ(summary.progress.told, 160u);
  // 40 always-failing points retried once, and the flaky multiples of 3 (not of 5).
  EXPECT_EQ(summary.progress.retried, 40u + 53u);
  EXPECT_EQ(summary.reason, "learner exhausted");
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::fail && !e.retry) {
      EXPECT_NE(e.text.find("always fails"), std::string::npos);
    }
  }
}

TEST(Loop, FailurePolicyCanStopTheRun) {
  SerialMaster<int, int> master([](int x) -> int {
    if (x == 4) throw std::runtime_error("bad input 4");
    return x;
  });
  IgnorantLearner<int, int> learner(std::views::iota(0, 100));
  auto summary = evaluate(master, learner, stop::exhausted(),
                          {.retry = {.retries = 2, .on_failure = OnFailure::stop_run}});
  EXPECT_EQ(summary.progress.asked, 5u);
  EXPECT_EQ(summary.progress.failed, 1u);
  EXPECT_EQ(summary.progress.retried, 2u);
  EXPECT_EQ(summary.reason, "task 4 failed: bad input 4");
}

TEST(Loop, CancelOnStopAbandonsWhatIsInFlight) {
  ThreadMaster<int, int> master(
      [](int x) {
        std::this_thread::sleep_for(x < 3 ? 1ms : 200ms);
        return x;
      },
      3);
  RecordingLearner learner(IgnorantLearner<int, int>(std::views::iota(0, 1000)));
  auto summary = evaluate(master, learner, stop::results(3), {.drain = false});
  EXPECT_EQ(summary.progress.told, 3u);
  // Tasks 3 and 4 were asked when tasks 0 and 1 came back; after task 2 the
  // stop condition held.
  EXPECT_EQ(summary.progress.asked, 5u);
  ASSERT_EQ(summary.unresolved.size(), 2u);
  EXPECT_EQ(summary.unresolved[0].x, 3);
  EXPECT_EQ(summary.history.count(EventKind::cancel), 2u);
  EXPECT_EQ(learner.told.size(), 3u);
  // Draining instead waits for them and tells them.
  ThreadMaster<int, int> master2([](int x) { return x; }, 3);
  IgnorantLearner<int, int> learner2(std::views::iota(0, 1000));
  auto drained = evaluate(master2, learner2, stop::results(3));
  EXPECT_TRUE(drained.unresolved.empty());
  EXPECT_EQ(drained.progress.told, drained.progress.asked);
}

TEST(Loop, HookSeesEveryEventInOrder) {
  SequenceLearner<double, double> learner({1, 2, 3, 4});
  std::vector<EventKind> kinds;
  std::uint64_t last_told = 0;
  auto summary = evaluate(SerialMaster<double, double>([](double x) { return x; }), learner,
                          stop::exhausted(), {.hook = [&](const auto& e, const Progress& p) {
                            kinds.push_back(e.kind);
                            EXPECT_GE(p.told, last_told);
                            last_told = p.told;
                          }});
  ASSERT_EQ(kinds.size(), summary.history.events.size());
  for (std::size_t i = 0; i < kinds.size(); ++i)
    EXPECT_EQ(kinds[i], summary.history.events[i].kind);
  EXPECT_EQ(kinds.front(), EventKind::capacity);
  EXPECT_EQ(kinds.back(), EventKind::end);
  EXPECT_EQ(summary.history.count(EventKind::tell), 4u);
}

TEST(Loop, BatchAskingFillsFreeSlotsInOneCall) {
  std::vector<std::size_t> batch_sizes;
  struct Batching : SequenceLearner<int, int> {
    using SequenceLearner::SequenceLearner;
    std::vector<std::size_t>* sizes = nullptr;
    using SequenceLearner::ask;
    std::vector<int> ask(std::size_t n, Entropy e) {
      sizes->push_back(n);
      return SequenceLearner::ask(n, e);
    }
  };
  Batching learner(std::vector<int>(20, 7));
  learner.sizes = &batch_sizes;
  static_assert(BatchLearner<Batching>);
  ThreadMaster<int, int> master([](int x) { return x; }, 4);
  auto summary = evaluate(master, learner, stop::exhausted(), {.ask_batch = 3});
  EXPECT_EQ(summary.progress.told, 20u);
  ASSERT_FALSE(batch_sizes.empty());
  EXPECT_EQ(batch_sizes.front(), 3u);
  for (auto n : batch_sizes) EXPECT_LE(n, 3u);
  EXPECT_TRUE(learner.done());
}

TEST(Loop, StopConditionsEndTheRun) {
  {
    GapLearner learner;
    auto s = evaluate(SerialMaster<double, double>([](double x) { return x; }), learner,
                      stop::loss_below(0.01));
    EXPECT_LE(learner.loss(), 0.01);
    EXPECT_GT(s.progress.told, 50u);
  }
  {
    GapLearner learner;
    ThreadMaster<double, double> master(
        [](double x) {
          std::this_thread::sleep_for(2ms);
          return x;
        },
        2);
    const auto start = std::chrono::steady_clock::now();
    auto s = evaluate(master, learner, stop::duration(0.1));
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(wall, 0.1);
    EXPECT_EQ(s.reason, "0.1 s elapsed");
    EXPECT_GT(s.progress.told, 5u);
  }
  {
    SequenceLearner<int, int> learner({1, 2, 3});
    auto s = evaluate(SerialMaster<int, int>([](int x) { return x; }), learner,
                      stop::learner_done() || stop::points(100));
    EXPECT_EQ(s.progress.told, 3u);
  }
}

TEST(Loop, WaitsForWorkersWhenCapacityIsZero) {
  ThreadMaster<int, int> master([](int x) { return x + 1; }, 0);
  IgnorantLearner<int, int> learner(std::views::iota(0, 50));
  std::thread joiner([&] {
    std::this_thread::sleep_for(50ms);
    master.add_workers(2);
  });
  auto summary = evaluate(master, learner, stop::exhausted());
  joiner.join();
  EXPECT_EQ(summary.progress.told, 50u);
  ASSERT_GE(summary.history.count(EventKind::capacity), 2u);
  EXPECT_EQ(summary.history.events.front().capacity, 0u);
}

struct ThrowingLearner : GapLearner {
  std::size_t tells_before_throw = 10;
  void tell(const double& x, const double& y) {
    if (told() == tells_before_throw) throw std::runtime_error("learner bug");
    GapLearner::tell(x, y);
  }
};

TEST(Loop, ALearnerThatThrowsLosesNoResult) {
  const auto file =
      std::filesystem::temp_directory_path() / "taskmaster_test_throwing_learner.jsonl";
  ThrowingLearner learner;
  ThreadMaster<double, double> master([](double x) { return x * 2; }, 2);
  EXPECT_THROW(evaluate(master, learner, stop::points(100), {.history_file = file}),
               std::runtime_error);
  auto history = read_history<double, double>(file);
  EXPECT_EQ(history.count(EventKind::tell), 11u);  // the 11th result is on disk
  EXPECT_EQ(history.events.back().kind, EventKind::end);
  EXPECT_EQ(history.events.back().text, "error: learner bug");
  std::filesystem::remove(file);
}

struct LyingMaster {
  using input_type = int;
  using output_type = int;
  std::size_t capacity() const { return 1; }
  void submit(Task<int>) {}
  std::optional<Result<int, int>> next() { return Result<int, int>::success(999, 0, 0); }
  void cancel() {}
};

TEST(Loop, AResultForAnUnknownTaskIsAnError) {
  LyingMaster master;
  IgnorantLearner<int, int> learner(std::views::iota(0, 10));
  try {
    evaluate(master, learner, stop::exhausted());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("task id 999"), std::string::npos) << e.what();
  }
}

TEST(Loop, OneLineEvaluatePicksAThreadMaster) {
  SequenceLearner<double, double> learner({0.5, 1.5, 2.5});
  auto summary = evaluate([](double x) { return 2 * x; }, learner, stop::exhausted());
  EXPECT_EQ(summary.progress.told, 3u);
  EXPECT_EQ(*learner.result(2), 5.0);
  EXPECT_GE(summary.history.events.front().capacity, 1u);
}

TEST(Loop, EntropyIsTheSeededStream) {
  struct EntropyLearner {
    using input_type = std::uint64_t;
    using output_type = int;
    std::optional<std::uint64_t> ask(Entropy e) {
      if (seen.size() == 5) return std::nullopt;
      seen.push_back(e);
      return e;
    }
    void tell(const std::uint64_t&, const int&) {}
    void fail(const std::uint64_t&) {}
    std::vector<std::uint64_t> seen;
  };
  EntropyLearner a, b, c;
  auto f = [](std::uint64_t) { return 0; };
  evaluate(SerialMaster<std::uint64_t, int>(f), a, stop::exhausted(), {.seed = 7});
  evaluate(SerialMaster<std::uint64_t, int>(f), b, stop::exhausted(), {.seed = 7});
  evaluate(SerialMaster<std::uint64_t, int>(f), c, stop::exhausted(), {.seed = 8});
  EXPECT_EQ(a.seen, b.seen);
  EXPECT_NE(a.seen, c.seen);
  for (std::size_t i = 0; i < a.seen.size(); ++i) EXPECT_EQ(a.seen[i], entropy_for(7, i));
}

}  // namespace
