#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <thread>

#include "taskmaster/learners/average_learner.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using Seeds = std::vector<std::uint64_t>;

/// A normal sample with mean 3 and deviation 2, drawn from the seed alone.
double normal_sample(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  return std::normal_distribution<double>(3.0, 2.0)(rng);
}

TEST(AverageLearner, ANormalDistributionReachesItsAbsoluteTolerance) {
  AverageLearner learner(0.05);
  evaluate(normal_sample, learner, stop::learner_done());
  ASSERT_TRUE(learner.done());
  EXPECT_LE(learner.standard_error(), 0.05);
  EXPECT_NEAR(learner.mean(), 3.0, 4 * 0.05);
  EXPECT_NEAR(learner.standard_deviation(), 2.0, 0.1);
  // stderr = 2 / sqrt(n) <= 0.05 needs about 1600 samples.
  EXPECT_GT(learner.size(), 1300u);
  EXPECT_LT(learner.size(), 2000u);
}

TEST(AverageLearner, ARelativeToleranceAloneWorksToo) {
  AverageLearner learner(std::nullopt, 0.01);
  evaluate(normal_sample, learner, stop::learner_done());
  EXPECT_LE(learner.standard_error(), 0.01 * std::fabs(learner.mean()));
  EXPECT_NEAR(learner.mean(), 3.0, 0.15);
}

TEST(AverageLearner, SeedsAreConsecutiveAndGapsAreFilledLowestFirst) {
  AverageLearner learner(0.1);
  EXPECT_EQ(learner.ask(4, 0), (Seeds{0, 1, 2, 3}));
  EXPECT_EQ(learner.ask(0), 4u);
  learner.fail(3);
  learner.fail(1);
  EXPECT_EQ(learner.ask(3, 0), (Seeds{1, 3, 5}));
  learner.tell(0, 1.0);
  learner.remove_unfinished();  // 1..5 pending -> free again
  EXPECT_EQ(learner.pending_count(), 0u);
  EXPECT_EQ(learner.ask(6, 0), (Seeds{1, 2, 3, 4, 5, 6}));
  // Seeds told or marked before they were asked are skipped.
  learner.tell(8, 2.0);
  learner.tell_pending(9);
  EXPECT_EQ(learner.ask(3, 0), (Seeds{7, 10, 11}));
  EXPECT_EQ(learner.size(), 2u);
  learner.tell(0, 99.0);  // a second value for a seed is ignored
  EXPECT_EQ(learner.mean(), 1.5);
}

TEST(AverageLearner, LossMeanAndDeviationAreThoseOfTheOriginal) {
  AverageLearner learner(0.1, 0.2, 3);
  const Seeds seeds = learner.ask(4, 0);
  learner.tell(seeds[0], 1.0);
  learner.tell(seeds[1], 2.0);
  EXPECT_EQ(learner.loss(), std::numeric_limits<double>::infinity());          // below min_npoints
  EXPECT_EQ(learner.pending_loss(), std::numeric_limits<double>::infinity());  // std unknown
  learner.tell(seeds[2], 3.0);
  learner.tell(seeds[3], 4.0);
  const double std = std::sqrt(5.0 / 3.0);
  const double error = std / 2;
  EXPECT_DOUBLE_EQ(learner.mean(), 2.5);
  EXPECT_DOUBLE_EQ(learner.standard_deviation(), std);
  EXPECT_DOUBLE_EQ(learner.loss(), std::max(error / 0.1, error / (2.5 * 0.2)));
  // Pending samples count as if they were in: n = 4 + 2.
  learner.ask(2, 0);
  EXPECT_DOUBLE_EQ(learner.pending_loss(), std / std::sqrt(6.0) / 0.1);
  // Each proposed point shares the drop of the loss from n to n + k.
  const auto proposal = learner.propose(5, false);
  const double improvement = (learner.loss() - std / std::sqrt(9.0) / 0.1) / 5;
  ASSERT_EQ(proposal.size(), 5u);
  for (double d : proposal.loss_improvements) EXPECT_DOUBLE_EQ(d, improvement);
  EXPECT_EQ(proposal.points, learner.ask(5, 0));  // the peek changed nothing
}

TEST(AverageLearner, NonFiniteSamplesAreCountedAndLeftOut) {
  AverageLearner learner(0.1);
  const Seeds seeds = learner.ask(5, 0);
  learner.tell(seeds[0], 1.0);
  learner.tell(seeds[1], std::numeric_limits<double>::quiet_NaN());
  learner.tell(seeds[2], 3.0);
  learner.tell(seeds[3], std::numeric_limits<double>::infinity());
  learner.tell(seeds[4], 5.0);
  EXPECT_EQ(learner.mean(), 3.0);
  EXPECT_EQ(learner.standard_deviation(), 2.0);
  EXPECT_TRUE(std::isfinite(learner.loss()));
  EXPECT_EQ(learner.nonfinite_count(), 2u);
  EXPECT_EQ(learner.npoints(), 3u);
  EXPECT_EQ(learner.size(), 5u);
  EXPECT_EQ(learner.ask(0), 5u);  // the NaN seeds are not asked again
  EXPECT_TRUE(std::isnan(AverageLearner(0.1).mean()));
}

double sleepy_sample(std::uint64_t seed) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
  return seed % 7 == 3 ? std::numeric_limits<double>::quiet_NaN() : normal_sample(seed);
}

TEST(AverageLearner, AParallelRunIsReplayedExactly) {
  AverageLearner learner(0.1);
  ThreadMaster<std::uint64_t, double> master(sleepy_sample, 4);
  auto summary = evaluate(master, learner, stop::learner_done(), {.ask_batch = 3});
  // The run stops asking once the learner is done; the samples still in
  // flight are told afterwards and may move the estimate back over its
  // tolerance, so `done()` itself is not asserted after the drain.
  ASSERT_EQ(summary.reason, "learner done");
  EXPECT_GT(learner.nonfinite_count(), 0u);
  AverageLearner fresh(0.1);
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.mean(), learner.mean());
  EXPECT_EQ(fresh.save(), learner.save());
}

TEST(AverageLearner, SaveAndLoadGiveAnIdenticalLearner) {
  AverageLearner learner(0.1, 0.05, 5);
  Seeds pending;
  for (int round = 0; round < 30; ++round) {
    for (auto s : learner.ask(5, 0)) pending.push_back(s);
    for (int i = 0; i < 3; ++i) {
      learner.tell(pending.back(), round == 7 ? NAN : normal_sample(pending.back()));
      pending.pop_back();
    }
    if (round == 10) learner.fail(pending.front());
  }
  learner.tell(500, 1.0);
  learner.tell_pending(400);
  const auto saved = nlohmann::json::parse(learner.save().dump());
  AverageLearner loaded(0.1, 0.05, 5);
  loaded.load(saved);
  EXPECT_EQ(loaded.save(), learner.save());
  EXPECT_EQ(loaded.mean(), learner.mean());
  EXPECT_EQ(loaded.loss(), learner.loss());
  EXPECT_EQ(loaded.pending_loss(), learner.pending_loss());
  EXPECT_EQ(loaded.nonfinite_count(), learner.nonfinite_count());
  EXPECT_EQ(loaded.ask(20, 0), learner.ask(20, 0));
  loaded.remove_unfinished();
  learner.remove_unfinished();
  EXPECT_EQ(loaded.ask(500, 0), learner.ask(500, 0));
  EXPECT_THROW(AverageLearner(0.2).load(saved), std::invalid_argument);
  EXPECT_THROW(loaded.load(nlohmann::json::object()), std::invalid_argument);
}

TEST(AverageLearner, RejectsBadParameters) {
  EXPECT_THROW(AverageLearner(std::nullopt), std::invalid_argument);
  EXPECT_THROW(AverageLearner(0.0), std::invalid_argument);
  EXPECT_THROW(AverageLearner(NAN), std::invalid_argument);
  try {
    AverageLearner(1.0, -2.0);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("-2"), std::string::npos) << e.what();
  }
  EXPECT_EQ(AverageLearner(1.0, std::nullopt, 0).min_npoints(), 2u);
}

static_assert(BatchLearner<AverageLearner>);
static_assert(FinishingLearner<AverageLearner>);
static_assert(LossLearner<AverageLearner>);

}  // namespace
