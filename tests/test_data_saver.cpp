#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <thread>
#include <utility>

#include "taskmaster/learners/average_learner.hpp"
#include "taskmaster/learners/data_saver.hpp"
#include "taskmaster/learners/integrator_learner.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;

/// A result with more in it than the learner needs.
using Full = std::pair<double, std::string>;

Full exp_with_note(double x) { return {std::exp(x), "x=" + std::to_string(x)}; }

TEST(DataSaver, KeepsEveryFullResultAndFeedsTheExtractedValue) {
  DataSaver<IntegratorLearner, Full> saver(IntegratorLearner(0, 1, 1e-10),
                                           [](const Full& r) { return r.first; });
  evaluate(exp_with_note, saver, stop::learner_done());
  ASSERT_TRUE(saver.done());
  EXPECT_NEAR(saver.learner().igral(), std::numbers::e - 1, 1e-10);
  EXPECT_EQ(saver.extra_data().size(), saver.size());
  for (const auto& [x, y] : saver.learner().data()) {
    const Full& full = saver.extra_data().at(x);
    EXPECT_EQ(full.first, y);
    EXPECT_EQ(full.second, "x=" + std::to_string(x));
  }
  EXPECT_EQ(saver.loss(), saver.learner().loss());
}

TEST(DataSaver, ForwardsAskingFailingAndPending) {
  DataSaver<AverageLearner, Full> saver(AverageLearner(0.1), [](const Full& r) { return r.first; });
  EXPECT_EQ(saver.ask(3, 0), (std::vector<std::uint64_t>{0, 1, 2}));
  saver.fail(1);
  saver.tell(0, {2.0, "a"});
  saver.tell(2, {4.0, "b"});
  saver.tell(2, {8.0, "later"});  // the learner keeps its first; the full result is replaced
  EXPECT_EQ(saver.learner().mean(), 3.0);
  EXPECT_EQ(saver.extra_data().at(2).second, "later");
  EXPECT_EQ(saver.propose(2, false).points, (std::vector<std::uint64_t>{1, 3}));
  saver.tell_pending(1);
  EXPECT_EQ(saver.ask(0), 3u);
  saver.remove_unfinished();
  EXPECT_EQ(saver.learner().pending_count(), 0u);
}

Full sleepy_exp(double x) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
  return exp_with_note(x);
}

TEST(DataSaver, AParallelRunIsReplayedExactlyAndSavedAndLoaded) {
  auto make = [] {
    return DataSaver<IntegratorLearner, Full>(IntegratorLearner(0, 2, 1e-12),
                                              [](const Full& r) { return r.first; });
  };
  auto saver = make();
  ThreadMaster<double, Full> master(sleepy_exp, 4);
  auto summary = evaluate(master, saver, stop::points(150), {.ask_batch = 2});
  auto fresh = make();
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.save(), saver.save());
  EXPECT_EQ(fresh.extra_data(), saver.extra_data());

  auto loaded = make();
  loaded.load(nlohmann::json::parse(saver.save().dump()));
  EXPECT_EQ(loaded.extra_data(), saver.extra_data());
  EXPECT_EQ(loaded.save(), saver.save());
  EXPECT_EQ(loaded.ask(10, 0), saver.ask(10, 0));
  EXPECT_THROW(loaded.load(nlohmann::json{{"extra_data", {{1.0, 2.0}}}}), std::invalid_argument);
}

TEST(DataSaver, RejectsAnEmptyExtractor) {
  using Saver = DataSaver<AverageLearner, Full>;
  EXPECT_THROW(Saver(AverageLearner(0.1), Saver::Extract{}), std::invalid_argument);
}

static_assert(BatchLearner<DataSaver<IntegratorLearner, Full>>);
static_assert(FinishingLearner<DataSaver<IntegratorLearner, Full>>);

}  // namespace
