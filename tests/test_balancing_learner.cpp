#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>
#include <thread>

#include "taskmaster/learners/balancing_learner.hpp"
#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using Point = std::pair<std::size_t, double>;

double peak(double x) { return x + 1e-4 / (1e-4 + x * x); }

/// Three functions of very different difficulty on [-1, 1].
double three(const Point& p) {
  switch (p.first) {
    case 0: return 2.0 * p.second;            // a line: easy
    case 1: return std::sin(3.0 * p.second);  // smooth
    default: return peak(p.second);           // a sharp peak: hard
  }
}

BalancingLearner<double, double> three_learners(BalancingStrategy strategy) {
  BalancingLearner<double, double> learner(strategy);
  for (int i = 0; i < 3; ++i) learner.add(Learner1D<double>(-1.0, 1.0));
  return learner;
}

template <class L>
void sample(L& learner, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const auto p = *learner.ask(0);
    learner.tell(p, three(p));
  }
}

static_assert(AdaptiveLearner<Learner1D<double>>);
static_assert(BatchLearner<BalancingLearner<double, double>>);

TEST(BalancingLearner, LossImprovementsGiveTheHardFunctionMostPoints) {
  auto learner = three_learners(BalancingStrategy::loss_improvements);
  sample(learner, 600);
  const auto line = learner.learner<Learner1D<double>>(0).size();
  const auto smooth = learner.learner<Learner1D<double>>(1).size();
  const auto hard = learner.learner<Learner1D<double>>(2).size();
  EXPECT_EQ(line + smooth + hard, 600u);
  EXPECT_GT(hard, smooth);
  EXPECT_GT(smooth, line);
  EXPECT_GT(hard, 200u);
  // The balance keeps the children's losses close to each other.
  const double worst = learner.loss();
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_LE(learner.learner<Learner1D<double>>(i).loss(), worst);
}

TEST(BalancingLearner, OtherStrategies) {
  auto by_count = three_learners(BalancingStrategy::npoints);
  sample(by_count, 300);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(by_count.learner<Learner1D<double>>(i).size(), 100u);

  auto cycle = three_learners(BalancingStrategy::cycle);
  for (std::size_t k = 0; k < 9; ++k) {
    const auto p = *cycle.ask(0);
    EXPECT_EQ(p.first, k % 3);
    cycle.tell(p, three(p));
  }

  auto by_loss = three_learners(BalancingStrategy::loss);
  sample(by_loss, 600);
  EXPECT_GT(by_loss.learner<Learner1D<double>>(2).size(),
            by_loss.learner<Learner1D<double>>(0).size());
}

/// A learner of another kind: it halves the longest gap, whatever the values.
class Bisection {
 public:
  using input_type = double;
  using output_type = double;
  std::optional<double> ask(Entropy) { return propose(1).points.front(); }
  Proposal<double> propose(std::size_t, bool mark = true) {
    Proposal<double> p;
    double x = 0.5;
    double gap = 1.0;
    if (!points_.empty()) {
      gap = -1.0;
      double previous = 0.0;
      for (double v : points_) {
        if (v - previous > gap) {
          gap = v - previous;
          x = previous + gap / 2;
        }
        previous = v;
      }
      if (1.0 - previous > gap) {
        gap = 1.0 - previous;
        x = previous + gap / 2;
      }
    }
    p.points.push_back(x);
    p.loss_improvements.push_back(gap / 2);
    if (mark) tell_pending(x);
    return p;
  }
  void tell_pending(const double& x) { points_.insert(x); }
  void tell(const double& x, const double&) {
    points_.insert(x);
    ++told_;
  }
  void fail(const double&) {}
  double loss() const { return 1.0 / static_cast<double>(told_ + 1); }
  double pending_loss() const { return loss(); }
  std::size_t size() const { return told_; }

 private:
  std::set<double> points_;
  std::size_t told_ = 0;
};

TEST(BalancingLearner, MixesLearnersOfDifferentKinds) {
  BalancingLearner<double, double> mixed;
  mixed.add(Learner1D<double>(-1.0, 1.0));
  mixed.add(Bisection{});
  for (int i = 0; i < 200; ++i) {
    const auto p = *mixed.ask(0);
    mixed.tell(p, p.first == 0 ? peak(p.second) : 0.0);
  }
  EXPECT_GT(mixed.learner<Bisection>(1).size(), 0u);
  EXPECT_GT(mixed.learner<Learner1D<double>>(0).size(), 0u);
  EXPECT_EQ(mixed.size(), 200u);
  EXPECT_THROW(mixed.learner<Bisection>(0), std::invalid_argument);
  EXPECT_THROW(mixed.tell({7, 0.0}, 1.0), std::invalid_argument);
}

TEST(BalancingLearner, FromProductMakesOneLearnerPerCombination) {
  auto learner = BalancingLearner<double, double>::from_product(
      {{"a", {0.1, 0.01}}, {"shift", {-0.5, 0.0, 0.5}}},
      [](const auto& p) { return Learner1D<double>(-1.0 + p.at("shift"), 1.0 + p.at("shift")); });
  ASSERT_EQ(learner.learners(), 6u);
  EXPECT_EQ(learner.parameters(0), (std::map<std::string, double>{{"a", 0.1}, {"shift", -0.5}}));
  EXPECT_EQ(learner.parameters(5), (std::map<std::string, double>{{"a", 0.01}, {"shift", 0.5}}));
  EXPECT_EQ(learner.learner<Learner1D<double>>(5).lower_bound(), -0.5);
  EXPECT_THROW((BalancingLearner<double, double>::from_product(
                   {{"a", {}}}, [](const auto&) { return Learner1D<double>(0.0, 1.0); })),
               std::invalid_argument);
}

TEST(BalancingLearner, ProposingWithoutMarkingChangesNothing) {
  auto learner = three_learners(BalancingStrategy::loss_improvements);
  sample(learner, 100);
  const auto a = learner.propose(5, false);
  const auto b = learner.propose(5, false);
  EXPECT_EQ(a.points, b.points);
  EXPECT_EQ(a.loss_improvements, b.loss_improvements);
  EXPECT_EQ(learner.propose(5, true).points, a.points);
}

TEST(BalancingLearner, AParallelRunReplaysExactly) {
  auto slow = [](const Point& p) {
    thread_local std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution(0, 300)(rng)));
    return three(p);
  };
  auto learner = three_learners(BalancingStrategy::loss_improvements);
  ThreadMaster<Point, double> master(slow, 4);
  auto summary = evaluate(master, learner, stop::points(300));
  auto fresh = three_learners(BalancingStrategy::loss_improvements);
  replay(summary.history, fresh);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(fresh.learner<Learner1D<double>>(i).data(),
              learner.learner<Learner1D<double>>(i).data());
  }
}

TEST(BalancingLearner, SaveAndLoad) {
  auto learner = three_learners(BalancingStrategy::loss_improvements);
  sample(learner, 200);
  auto loaded = three_learners(BalancingStrategy::loss_improvements);
  loaded.load(learner.save());
  for (int i = 0; i < 50; ++i) {
    const auto a = *learner.ask(0);
    const auto b = *loaded.ask(0);
    ASSERT_EQ(a, b) << i;
    learner.tell(a, three(a));
    loaded.tell(b, three(b));
  }
  BalancingLearner<double, double> two;
  two.add(Learner1D<double>(-1.0, 1.0));
  EXPECT_THROW(two.load(learner.save()), std::invalid_argument);
}

}  // namespace
