#include <gtest/gtest.h>

#include <cmath>
#include <ranges>
#include <stdexcept>

#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;

static_assert(Learner<IgnorantLearner<double, double>>);
static_assert(BatchLearner<SequenceLearner<double, double>>);
static_assert(LossLearner<SequenceLearner<double, double>>);
static_assert(FinishingLearner<SequenceLearner<double, double>>);
static_assert(SavableLearner<SequenceLearner<double, double>>);
static_assert(!SavableLearner<IgnorantLearner<double, double>>);

TEST(IgnorantLearner, WalksARangeAndIgnoresResults) {
  IgnorantLearner<int, double> learner(std::views::iota(3, 6));
  EXPECT_EQ(learner.ask(0), 3);
  EXPECT_EQ(learner.ask(1), 4);
  learner.tell(3, 1e9);
  EXPECT_EQ(learner.ask(2), 5);
  EXPECT_EQ(learner.ask(3), std::nullopt);
  EXPECT_EQ(learner.ask(4), std::nullopt);
  EXPECT_EQ(learner.told(), 1u);
}

TEST(IgnorantLearner, WalksAGenerator) {
  IgnorantLearner<double, double> learner([x = 0.0]() mutable -> std::optional<double> {
    if (x >= 1.0) return std::nullopt;
    return x += 0.25;
  });
  auto summary = evaluate(SerialMaster<double, double>([](double x) { return x; }), learner,
                          stop::exhausted());
  EXPECT_EQ(summary.progress.told, 4u);
}

TEST(SequenceLearner, KeepsResultsInSequenceOrderWhateverTheArrivalOrder) {
  SequenceLearner<int, int> learner({5, 7, 5, 9});
  EXPECT_EQ(learner.ask(2, 0), (std::vector<int>{5, 7}));
  EXPECT_EQ(learner.ask(0), 5);
  EXPECT_EQ(learner.ask(0), 9);
  EXPECT_EQ(learner.ask(0), std::nullopt);
  learner.tell(9, 90);
  learner.tell(5, 50);  // the first pending 5
  learner.fail(7);
  EXPECT_FALSE(learner.done());
  EXPECT_DOUBLE_EQ(learner.loss(), 0.25);
  learner.tell(5, 51);
  EXPECT_TRUE(learner.done());
  EXPECT_EQ(learner.result(0), 50);
  EXPECT_EQ(learner.result(1), std::nullopt);
  EXPECT_TRUE(learner.failed(1));
  EXPECT_EQ(learner.result(2), 51);
  EXPECT_EQ(learner.result(3), 90);
  EXPECT_THROW(learner.tell(5, 0), std::invalid_argument);
}

TEST(SequenceLearner, FindsEachToldPointAmongThousandsPendingAndKeepsRepeatsInOrder) {
  // Every value three times; all 3,000 pending, told in a scrambled order:
  // each tell goes to the earliest pending occurrence of its value.
  std::vector<double> points;
  for (int i = 0; i < 3000; ++i) points.push_back(i % 1000);
  SequenceLearner<double, int> learner(points);
  EXPECT_EQ(learner.ask(3000, 0).size(), 3000u);
  std::vector<int> told_so_far(1000, 0);
  for (int k = 0, at = 0; k < 3000; ++k, at = (at + 1237) % 3000) {
    const int value = at % 1000;
    learner.tell(value, told_so_far[value]++);
  }
  ASSERT_TRUE(learner.done());
  for (std::size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(learner.result(i), static_cast<int>(i / 1000)) << "point " << i;
  }
}

TEST(SequenceLearner, ANaNPointCannotBeToldAndMinusZeroIsZero) {
  SequenceLearner<double, double> learner({std::nan(""), -0.0, 2.0});
  EXPECT_EQ(learner.ask(3, 0).size(), 3u);
  EXPECT_THROW(learner.tell(std::nan(""), 1.0), std::invalid_argument);
  learner.tell(0.0, 5.0);
  learner.tell(2.0, 6.0);
  EXPECT_EQ(learner.result(1), 5.0);
  EXPECT_EQ(learner.result(2), 6.0);
  EXPECT_FALSE(learner.done());
  EXPECT_THROW(learner.tell(2.0, 7.0), std::invalid_argument);  // no longer pending
}

TEST(SequenceLearner, ALoadedLearnerAsksAgainWhatWasPendingThenGoesOn) {
  SequenceLearner<int, double> learner({10, 11, 12, 13, 14, 15});
  for (Entropy e = 0; e < 5; ++e) ASSERT_TRUE(learner.ask(e));  // 10..14 asked
  learner.tell(10, 0.5);
  learner.fail(12);
  learner.tell(13, 1.5);  // 11 and 14 still pending

  SequenceLearner<int, double> loaded({10, 11, 12, 13, 14, 15});
  loaded.load(nlohmann::json::parse(learner.save().dump()));
  EXPECT_EQ(loaded.result(0), 0.5);
  EXPECT_TRUE(loaded.failed(2));
  EXPECT_EQ(loaded.result(3), 1.5);
  EXPECT_NEAR(loaded.loss(), 0.5, 1e-12);
  EXPECT_EQ(loaded.ask(2, 0), (std::vector<int>{11, 14}));
  EXPECT_EQ(loaded.ask(0), 15);
  EXPECT_EQ(loaded.ask(1), std::nullopt);
  for (int x : {11, 14, 15}) loaded.tell(x, x * 1.0);
  EXPECT_TRUE(loaded.done());
  EXPECT_EQ(loaded.result(1), 11.0);
}

TEST(SequenceLearner, ALoadRefusesAStateOfAnotherSequence) {
  SequenceLearner<int, double> learner({1, 2, 3});
  learner.tell(*learner.ask(0), 4.0);
  const auto state = learner.save();
  SequenceLearner<int, double> shorter({1, 2});
  EXPECT_THROW(shorter.load(state), StateError);
  SequenceLearner<int, double> other({1, 5, 3});
  try {
    other.load(state);
    ADD_FAILURE() << "loaded a state of another sequence";
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find("point 1 differs"), std::string::npos) << e.what();
  }
  EXPECT_EQ(other.ask(0), 1);  // nothing was loaded
}

TEST(SequenceLearner, ParallelRunFillsEverySlot) {
  std::vector<double> xs;
  for (int i = 0; i < 500; ++i) xs.push_back(i * 0.01);
  SequenceLearner<double, double> learner(xs);
  ThreadMaster<double, double> master([](double x) { return x * x; }, 4);
  evaluate(master, learner, stop::learner_done());
  ASSERT_TRUE(learner.done());
  for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(*learner.result(i), xs[i] * xs[i]);
}

}  // namespace
