#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "taskmaster/evaluate.hpp"
#include "taskmaster/history/replay.hpp"
#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/learners/sequence_learner.hpp"
#include "taskmaster/masters/simulated_master.hpp"

namespace {

using namespace taskmaster;

static_assert(Master<SimulatedMaster<double, double>>);
static_assert(Master<SimulatedMaster<std::vector<double>, std::vector<double>>>);

double peak(double x) { return x + 0.01 * 0.01 / (0.01 * 0.01 + x * x); }

std::vector<double> range(int n) {
  std::vector<double> xs;
  for (int i = 0; i < n; ++i) xs.push_back(i);
  return xs;
}

TEST(SimulatedMaster, ResultsComeInVirtualTimeOrderWithTheirDurations) {
  int calls = 0;
  SimulatedMaster<int, int> master(
      [&](int x) {
        ++calls;
        return 2 * x;
      },
      10, TaskDurations::uniform(0.5, 1.5), {.seed = 2});
  for (int i = 0; i < 5; ++i) master.submit({static_cast<TaskId>(i), i});
  EXPECT_EQ(calls, 0);  // evaluated when its result is due, not before
  double last = 0;
  std::set<TaskId> seen;
  std::set<int> workers;
  for (int i = 0; i < 5; ++i) {
    auto r = master.next();
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->ok());
    EXPECT_EQ(*r->y, 2 * r->x);
    EXPECT_EQ(master.now(), r->duration);  // every task started at 0
    EXPECT_GE(master.now(), last);
    last = master.now();
    EXPECT_TRUE(seen.insert(r->id).second);
    workers.insert(r->worker);
  }
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(workers.size(), 5u);
  EXPECT_GT(master.now(), 0.5);
  EXPECT_FALSE(master.next());  // nothing outstanding
}

TEST(SimulatedMaster, ExceptionsBecomeFailuresWithTheirMessage) {
  SimulatedMaster<int, int> master(
      [](int x) -> int {
        if (x == 1) throw std::domain_error("x must not be 1");
        return x;
      },
      2, TaskDurations::uniform(0.5, 1.5));
  master.submit({0, 0});
  master.submit({1, 1});
  std::map<TaskId, std::string> errors;
  for (int i = 0; i < 2; ++i) {
    auto r = master.next();
    ASSERT_TRUE(r);
    if (!r->ok()) errors[r->id] = r->error;
  }
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[1], "x must not be 1");
}

TEST(SimulatedMaster, KeepsEveryWorkerBusyAndNeverExceedsCapacity) {
  // 10 tasks of 1 s on 3 workers: rounds of 3, 3, 3, 1 end at 4 s.
  SequenceLearner<double, double> learner(range(10));
  SimulatedMaster<double, double> master([](double x) { return x; }, 3, TaskDurations::fixed(1));
  std::uint64_t most_in_flight = 0;
  RunOptions<double, double> options;
  options.hook = [&](const auto&, const Progress& p) {
    most_in_flight = std::max(most_in_flight, p.in_flight);
  };
  const auto summary = evaluate(master, learner, stop::exhausted(), options);
  EXPECT_EQ(summary.progress.told, 10u);
  EXPECT_EQ(most_in_flight, 3u);
  EXPECT_EQ(master.peak_running(), 3u);
  EXPECT_DOUBLE_EQ(master.now(), 4.0);
  EXPECT_DOUBLE_EQ(master.busy_seconds(), 10.0);
  EXPECT_DOUBLE_EQ(master.worker_seconds(), 12.0);
  EXPECT_DOUBLE_EQ(master.utilization(), 10.0 / 12.0);
}

TEST(SimulatedMaster, AnswersEveryTaskExactlyOnceAtLargeScale) {
  const int n = 20000;
  SequenceLearner<double, double> learner(range(n));
  SimulatedMaster<double, double> master([](double x) { return -x; }, 10000,
                                         TaskDurations::pareto(1.0, 1.5), {.seed = 3});
  const auto summary = evaluate(master, learner, stop::exhausted());
  ASSERT_EQ(summary.progress.told, static_cast<std::uint64_t>(n));
  std::vector<int> answered(n, 0);
  for (const auto& [x, y] : summary.history.results()) {
    ASSERT_EQ(y, -x);
    ++answered[static_cast<std::size_t>(x)];
  }
  EXPECT_TRUE(std::all_of(answered.begin(), answered.end(), [](int k) { return k == 1; }));
  EXPECT_EQ(master.delivered(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(master.peak_running(), 10000u);
  EXPECT_GT(master.utilization(), 0.0);
  EXPECT_LE(master.utilization(), 1.0);
}

struct Run1D {
  double now;
  double utilization;
  std::vector<std::pair<double, double>> results;
  History<double, double> history;
};

Run1D run_1d(std::uint64_t seed, std::size_t workers = 16) {
  Learner1D<double> learner(-1, 1);
  SimulatedMaster<double, double> master(peak, workers, TaskDurations::lognormal(0, 1),
                                         {.seed = seed});
  auto summary = evaluate(master, learner, stop::points(400));
  return {master.now(), master.utilization(), summary.history.results(),
          std::move(summary.history)};
}

TEST(SimulatedMaster, VirtualTimeIsDeterminedBySeed) {
  const Run1D a = run_1d(7);
  const Run1D b = run_1d(7);
  const Run1D c = run_1d(8);
  EXPECT_EQ(a.now, b.now);  // bit for bit: no wall clock in the simulation
  EXPECT_EQ(a.utilization, b.utilization);
  EXPECT_EQ(a.results, b.results);
  EXPECT_NE(a.now, c.now);
  EXPECT_NE(a.results, c.results);  // another order of results, so other points
}

TEST(SimulatedMaster, ASimulationReplaysExactlyFromItsHistory) {
  const Run1D run = run_1d(11, 32);
  Learner1D<double> fresh(-1, 1);
  EXPECT_NO_THROW(replay(run.history, fresh));
  Learner1D<double> original(-1, 1);
  for (const auto& [x, y] : run.results) original.tell(x, y);
  EXPECT_EQ(fresh.loss(), original.loss());
  EXPECT_EQ(fresh.size(), 400u);
}

TEST(SimulatedMaster, WorkersJoinAndLeaveTheirTasksFailAndAreRetried) {
  // Two workers; two join at 0.5 s; three leave at 2.5 s (the newest first:
  // workers 3, 2 and 1, each in the middle of a task of 1 s).
  SequenceLearner<double, double> learner(range(12));
  SimulatedMaster<double, double> master(
      [](double x) { return x; }, 2, TaskDurations::fixed(1),
      {.schedule = {{.time = 0.5, .count = 2}, {.time = 2.5, .count = -3}}});
  RunOptions<double, double> options;
  options.retry.retries = 1;
  const auto summary = evaluate(master, learner, stop::exhausted(), options);
  EXPECT_EQ(summary.progress.told, 12u);
  EXPECT_EQ(summary.progress.failed, 0u);
  EXPECT_EQ(master.lost(), 3u);
  EXPECT_EQ(summary.progress.retried, 3u);
  std::vector<std::size_t> capacities;
  std::set<int> workers_that_lost;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::capacity) capacities.push_back(e.capacity);
    if (e.kind == EventKind::fail) {
      EXPECT_NE(e.text.find("left at 2.5 s"), std::string::npos) << e.text;
      EXPECT_TRUE(e.retry);
      workers_that_lost.insert(e.worker);
    }
  }
  EXPECT_EQ(capacities, (std::vector<std::size_t>{2, 4, 1}));
  EXPECT_EQ(workers_that_lost, (std::set<int>{1, 2, 3}));
  // The new workers start at 1 s, when the loop gets its next result.
  // Worker time: 2 x 0.5 + 4 x 2 + 1 x (end - 2.5).
  EXPECT_DOUBLE_EQ(master.worker_seconds(), 1.0 + 8.0 + (master.now() - 2.5));
  // The history of a run with workers coming and going replays too.
  SequenceLearner<double, double> fresh(range(12));
  EXPECT_NO_THROW(replay(summary.history, fresh));
}

TEST(SimulatedMaster, WaitsForWorkersToJoinWhenNoneIsThere) {
  SequenceLearner<double, double> learner(range(4));
  SimulatedMaster<double, double> master([](double x) { return x; }, 0, TaskDurations::fixed(2),
                                         {.schedule = {{.time = 10, .count = 4}}});
  const auto summary = evaluate(master, learner, stop::exhausted());
  EXPECT_EQ(summary.progress.told, 4u);
  EXPECT_DOUBLE_EQ(master.now(), 12.0);
  EXPECT_DOUBLE_EQ(master.utilization(), 1.0);  // no worker was there before 10 s
}

TEST(SimulatedMaster, ARunWhoseWorkersAllLeaveEndsWithAnErrorSayingSo) {
  SequenceLearner<double, double> learner(range(10));
  SimulatedMaster<double, double> master([](double x) { return x; }, 2, TaskDurations::fixed(1),
                                         {.schedule = {{.time = 3.5, .count = -2}}});
  RunOptions<double, double> options;
  options.retry.retries = 5;
  try {
    evaluate(master, learner, stop::exhausted(), options);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("every worker has left by 3.5 s"), std::string::npos)
        << e.what();
  }
}

TEST(SimulatedMaster, DrawsDurationsFromARecordedHistory) {
  History<double, double> recorded;
  for (double d : {2.0, 2.0, 2.0}) {
    HistoryEvent<double, double> e;
    e.kind = EventKind::tell;
    e.x = 0.0;
    e.y = 0.0;
    e.duration = d;
    recorded.events.push_back(e);
  }
  SequenceLearner<double, double> learner(range(9));
  SimulatedMaster<double, double> master([](double x) { return x; }, 4,
                                         TaskDurations::recorded(recorded));
  evaluate(master, learner, stop::exhausted());
  EXPECT_DOUBLE_EQ(master.now(), 6.0);  // rounds of 4, 4, 1 tasks of 2 s

  const auto spread = TaskDurations::recorded(std::vector<double>{1.0, 5.0});
  std::mt19937_64 rng(1);
  std::set<double> drawn;
  for (int i = 0; i < 100; ++i) drawn.insert(spread.draw(rng));
  EXPECT_EQ(drawn, (std::set<double>{1.0, 5.0}));
  EXPECT_THROW(TaskDurations::recorded(History<double, double>{}), std::invalid_argument);
}

TEST(TaskDurations, DistributionsHaveTheirMeansAndBounds) {
  std::mt19937_64 rng(5);
  const auto mean_of = [&](const TaskDurations& d, double& lo, double& hi) {
    double sum = 0;
    lo = 1e300;
    hi = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      const double s = d.draw(rng);
      sum += s;
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    return sum / n;
  };
  double lo = 0;
  double hi = 0;
  EXPECT_NEAR(mean_of(TaskDurations::uniform(0.5, 1.5), lo, hi), 1.0, 0.01);
  EXPECT_GE(lo, 0.5);
  EXPECT_LE(hi, 1.5);
  const auto lognormal = TaskDurations::lognormal(0, 0.5);
  EXPECT_NEAR(mean_of(lognormal, lo, hi), lognormal.mean(), 0.01);
  const auto pareto = TaskDurations::pareto(1, 3);
  EXPECT_NEAR(mean_of(pareto, lo, hi), pareto.mean(), 0.02);
  EXPECT_GE(lo, 1.0);
  EXPECT_GT(hi, 10.0);  // the heavy tail
}

TEST(TaskDurations, ParsesTheCommandLineFormsAndNamesWhatIsWrong) {
  EXPECT_EQ(TaskDurations::parse("fixed:1").mean(), 1.0);
  EXPECT_EQ(TaskDurations::parse("uniform:0.5,1.5").mean(), 1.0);
  EXPECT_EQ(TaskDurations::parse("pareto:1,2").kind(), TaskDurations::Kind::pareto);
  EXPECT_EQ(TaskDurations::parse("lognormal:0,1").kind(), TaskDurations::Kind::lognormal);
  const auto message = [](const std::string& text) {
    try {
      TaskDurations::parse(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("gamma:1,2"),
            "'gamma:1,2': unknown distribution 'gamma' (known: fixed, uniform, lognormal, pareto)");
  EXPECT_EQ(message("uniform:1"), "'uniform:1': expected uniform:LO,HI");
  EXPECT_EQ(message("fixed:x"), "'fixed:x': 'x' is not a finite number");
  EXPECT_EQ(message("fixed:-1"), "'fixed:-1': fixed: the duration must be >= 0");
  EXPECT_EQ(message("uniform:2,1"), "'uniform:2,1': uniform: need 0 <= lo <= hi");
}

}  // namespace
