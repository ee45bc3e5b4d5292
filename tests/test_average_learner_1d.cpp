#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "taskmaster/learners/average_learner_1d.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using Sample = std::pair<std::int64_t, double>;

static_assert(AdaptiveLearner<AverageLearner1D>);

/// tanh(10 x) with Gaussian noise of standard deviation 0.1; the seed and x
/// decide the noise, so every sample can be reproduced.
double noisy_step(const Sample& p) {
  std::seed_seq seq{static_cast<std::uint64_t>(p.first), std::hash<double>{}(p.second)};
  std::mt19937_64 rng(seq);
  return std::tanh(10.0 * p.second) + std::normal_distribution(0.0, 0.1)(rng);
}

void sample(AverageLearner1D& learner, std::size_t n, double (*f)(const Sample&) = noisy_step) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto p = *learner.ask(0);
    learner.tell(p, f(p));
  }
}

TEST(AverageLearner1D, ParametersAreChecked) {
  EXPECT_THROW(AverageLearner1D(0, 1, {.delta = 0.0}), std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(0, 1, {.delta = 1.5}), std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(0, 1, {.alpha = 0.0}), std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(0, 1, {.neighbor_sampling = 0.0}), std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(0, 1, {.min_samples = 0}), std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(0, 1, {.min_samples = 10, .max_samples = 5}),
               std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(0, 1, {.min_error = -1.0}), std::invalid_argument);
  EXPECT_THROW(AverageLearner1D(1, 0), std::invalid_argument);
  AverageLearner1D learner(0, 1);
  EXPECT_THROW(learner.tell({0, 2.0}, 1.0), std::invalid_argument);
}

TEST(AverageLearner1D, TheErrorIsAStudentTConfidenceInterval) {
  AverageLearner1D learner(0, 1, {.alpha = 0.005});
  const std::vector<double> ys{1.0, 1.2, 0.9, 1.1, 1.0, 0.8, 1.3, 1.0, 0.95, 1.05};
  for (std::size_t i = 0; i < ys.size(); ++i)
    learner.tell({static_cast<std::int64_t>(i), 0.5}, ys[i]);
  double mean = 0.0;
  for (double y : ys) mean += y / 10.0;
  double ss = 0.0;
  for (double y : ys) ss += (y - mean) * (y - mean);
  const double sd_of_mean = std::sqrt(ss / 9.0 / 10.0);
  // t quantile for 1 - 0.005 with 9 degrees of freedom, from tables: 3.2498355.
  EXPECT_NEAR(learner.error(0.5), 3.2498355 * sd_of_mean, 1e-6);
  EXPECT_NEAR(learner.data().front().second, mean, 1e-12);
  EXPECT_EQ(learner.samples_at(0.5), 10u);
}

TEST(AverageLearner1D, LearnsANoisyStepWithEnoughSamplesEverywhere) {
  AverageLearner1D learner(-1.0, 1.0, {.min_samples = 20});
  sample(learner, 20000);
  EXPECT_EQ(learner.samples(), 20000u);
  ASSERT_GT(learner.size(), 20u);
  std::size_t close = 0;
  std::size_t near_step = 0;
  for (const auto& [x, mean] : learner.data()) {
    close += std::fabs(mean - std::tanh(10 * x)) < 3 * 0.1 / std::sqrt(20.0) ? 1 : 0;
    near_step += std::fabs(x) < 0.25 ? 1 : 0;
  }
  EXPECT_GE(static_cast<double>(close), 0.9 * static_cast<double>(learner.size()));
  // A quarter of the domain holds the step; it gets more than a quarter of the points.
  EXPECT_GT(static_cast<double>(near_step), 0.3 * static_cast<double>(learner.size()));
  // Every point but the newest has its minimum number of samples.
  std::size_t short_of_samples = 0;
  for (const auto& [x, mean] : learner.data())
    short_of_samples += learner.samples_at(x) < 20 ? 1 : 0;
  EXPECT_LE(short_of_samples, 1u);
}

TEST(AverageLearner1D, UncertainPointsAreResampled) {
  AverageLearner1D learner(0.0, 1.0, {.delta = 0.1, .min_samples = 5});
  // A noisy middle point with neighbours close to each other in value.
  auto f = [](const Sample& p) {
    if (p.second == 0.5) return p.first % 2 == 0 ? 3.0 : -3.0;
    return 0.0;
  };
  for (double x : {0.0, 1.0, 0.5}) {
    for (std::int64_t seed = 0; seed < 5; ++seed) learner.tell({seed, x}, f({seed, x}));
  }
  const auto next = learner.propose(3, false);
  for (const auto& [seed, x] : next.points) EXPECT_EQ(x, 0.5);
  EXPECT_EQ(next.points.front().first, 5);  // the next unused seed
}

TEST(AverageLearner1D, NaNSamplesAreCountedAndLeftOut) {
  AverageLearner1D learner(-1.0, 1.0, {.min_samples = 10});
  sample(learner, 3000,
         [](const Sample& p) { return p.first % 7 == 3 ? std::nan("") : noisy_step(p); });
  EXPECT_GT(learner.nan_samples(), 100u);
  for (const auto& [x, mean] : learner.data()) EXPECT_TRUE(std::isfinite(mean)) << x;
  EXPECT_TRUE(std::isfinite(learner.loss()));
}

TEST(AverageLearner1D, AParallelRunAsksNoSampleTwiceAndReplaysExactly) {
  auto slow = [](const Sample& p) {
    thread_local std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution(0, 200)(rng)));
    return noisy_step(p);
  };
  AverageLearner1D learner(-1.0, 1.0, {.min_samples = 10});
  ThreadMaster<Sample, double> master(slow, 4);
  auto summary = evaluate(master, learner, stop::points(1500));
  const auto asked = summary.history.asked();
  EXPECT_EQ(std::set<Sample>(asked.begin(), asked.end()).size(), asked.size());
  AverageLearner1D fresh(-1.0, 1.0, {.min_samples = 10});
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.data(), learner.data());
}

TEST(AverageLearner1D, SaveAndLoadGiveTheSameFutureAsks) {
  AverageLearner1D original(-1.0, 1.0, {.min_samples = 10});
  sample(original, 2000);
  AverageLearner1D loaded(-1.0, 1.0, {.min_samples = 10});
  loaded.load(nlohmann::json::parse(original.save().dump()));
  EXPECT_EQ(loaded.data(), original.data());
  for (int i = 0; i < 500; ++i) {
    const auto a = *original.ask(0);
    const auto b = *loaded.ask(0);
    ASSERT_EQ(a, b) << i;
    original.tell(a, noisy_step(a));
    loaded.tell(b, noisy_step(b));
  }
}

TEST(AverageLearner1D, SaveAndLoadKeepTheRangeOfSingleSamples) {
  // Rare large samples widen the learner's y range far beyond the averages
  // it saves; a loaded learner must still scale its losses by that range.
  auto outliers = [](const Sample& p) { return noisy_step(p) + (p.first % 7 == 3 ? 4.0 : 0.0); };
  AverageLearner1D original(-1.0, 1.0, {.min_samples = 10});
  for (int i = 0; i < 300; ++i) {
    const auto p = *original.ask(0);
    original.tell(p, outliers(p));
  }
  AverageLearner1D loaded(-1.0, 1.0, {.min_samples = 10});
  loaded.load(nlohmann::json::parse(original.save().dump()));
  for (int i = 0; i < 2000; ++i) {
    const auto a = *original.ask(0);
    const auto b = *loaded.ask(0);
    ASSERT_EQ(a, b) << i;
    original.tell(a, outliers(a));
    loaded.tell(b, outliers(b));
  }
}

}  // namespace
