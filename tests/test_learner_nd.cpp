#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using Point = std::vector<double>;

std::vector<std::array<double, 2>> cube(std::size_t dim) {
  return std::vector<std::array<double, 2>>(dim, {-1.0, 1.0});
}

/// A sharp spherical shell of radius 0.5 in any dimension.
double shell(const Point& p) {
  double r2 = 0;
  for (double x : p) r2 += x * x;
  return std::tanh(20 * (std::sqrt(r2) - 0.5));
}

template <class L, class F>
void run_sequentially(L& learner, F f, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto x = learner.ask(0);
    ASSERT_TRUE(x.has_value()) << "at point " << i;
    learner.tell(*x, f(*x));
  }
}

std::size_t near_shell(const std::vector<Point>& points) {
  return static_cast<std::size_t>(std::count_if(points.begin(), points.end(), [](const Point& p) {
    double r2 = 0;
    for (double x : p) r2 += x * x;
    return std::abs(std::sqrt(r2) - 0.5) < 0.1;
  }));
}

TEST(LearnerND, SatisfiesTheLearnerConcepts) {
  static_assert(Learner<LearnerND<double>>);
  static_assert(BatchLearner<LearnerND<double>>);
  static_assert(LossLearner<LearnerND<double>>);
  static_assert(BatchLearner<LearnerND<std::vector<double>>>);
}

TEST(LearnerND, AsksTheCornersFirstThenRefinesIn2And3And4Dimensions) {
  for (std::size_t dim : {2u, 3u, 4u}) {
    SCOPED_TRACE(dim);
    LearnerND<double> learner(cube(dim));
    const std::size_t corners = std::size_t{1} << dim;
    std::set<Point> seen;
    for (std::size_t i = 0; i < corners; ++i) {
      const auto x = *learner.ask(0);
      EXPECT_TRUE(std::all_of(x.begin(), x.end(), [](double v) { return std::abs(v) == 1; }));
      seen.insert(x);
      learner.tell(x, shell(x));
    }
    EXPECT_EQ(seen.size(), corners);
    EXPECT_TRUE(learner.bounds_are_done());
    const std::size_t refinements = dim == 4 ? 120 : 300;  // 4D simplices are many
    for (std::size_t i = 0; i < refinements; ++i) {
      const auto x = *learner.ask(0);
      ASSERT_EQ(x.size(), dim);
      EXPECT_TRUE(std::all_of(x.begin(), x.end(), [](double v) { return std::abs(v) <= 1; }));
      EXPECT_TRUE(seen.insert(x).second) << "asked twice";
      learner.tell(x, shell(x));
    }
    EXPECT_TRUE(std::isfinite(learner.loss()));
    EXPECT_GT(learner.simplex_count(), refinements);
  }
}

TEST(LearnerND, SameCallsGiveTheSamePoints) {
  LearnerND<double> a(cube(3)), b(cube(3));
  for (int i = 0; i < 100; ++i) {
    const auto xa = a.ask(2, 0), xb = b.ask(2, 99);
    ASSERT_EQ(xa, xb);
    for (const auto& x : xa) a.tell(x, shell(x));
    for (const auto& x : xb) b.tell(x, shell(x));
  }
}

TEST(LearnerND, ConcentratesPointsOnTheSharpFeature) {
  LearnerND<double> adaptive(cube(3)), uniform(cube(3), losses_nd::uniform());
  run_sequentially(adaptive, shell, 800);
  run_sequentially(uniform, shell, 800);
  // The shell |r - 0.5| < 0.1 fills about 8% of the cube.
  EXPECT_LT(near_shell(uniform.points()), 800 * 15 / 100);
  EXPECT_GT(near_shell(adaptive.points()), 2 * near_shell(uniform.points()));
}

TEST(LearnerND, EveryBuiltInLossRefinesWithoutDuplicates) {
  const std::vector<SimplexLoss> losses{losses_nd::default_loss(), losses_nd::uniform(),
                                        losses_nd::std_loss(), losses_nd::triangle(),
                                        losses_nd::curvature(0.05)};
  for (const auto& loss : losses) {
    SCOPED_TRACE(loss.name);
    LearnerND<double> learner(cube(3), loss);
    run_sequentially(learner, shell, 250);
    EXPECT_EQ(std::set<Point>(learner.points().begin(), learner.points().end()).size(), 250u);
    EXPECT_TRUE(std::isfinite(learner.loss()));
    EXPECT_GT(learner.loss(), 0);
  }
}

TEST(LearnerND, LossesSeeScaledValuesSoTheOutputScaleDoesNotMatter) {
  LearnerND<double> small(cube(2)), large(cube(2));
  for (int i = 0; i < 200; ++i) {
    const auto x = *small.ask(0);
    small.tell(x, shell(x));
    large.tell(x, 1000 * shell(x));
  }
  EXPECT_NEAR(small.loss(), large.loss(), 1e-9 * small.loss());
}

TEST(LearnerND, NanOnAQuarterStillRefinesTheRestOfTheFeature) {
  auto quarter = [](const Point& p) { return p[0] > 0.3 && p[1] > 0.3; };
  auto holey = [&](const Point& p) {
    return quarter(p) ? std::numeric_limits<double>::quiet_NaN() : shell(p);
  };
  LearnerND<double> with_nan(cube(2)), without(cube(2));
  run_sequentially(with_nan, holey, 600);
  run_sequentially(without, shell, 600);
  EXPECT_TRUE(std::isfinite(with_nan.loss()));
  auto outside = [&](const LearnerND<double>& l) {
    std::vector<Point> kept;
    for (const auto& p : l.points())
      if (!quarter(p)) kept.push_back(p);
    return near_shell(kept);
  };
  EXPECT_GE(outside(with_nan), outside(without) * 9 / 10);
}

TEST(LearnerND, PendingPointsSpreadABatch) {
  LearnerND<double> learner(cube(3));
  run_sequentially(learner, shell, 100);
  const auto batch = learner.ask(16, 0);
  ASSERT_EQ(batch.size(), 16u);
  EXPECT_EQ(std::set<Point>(batch.begin(), batch.end()).size(), 16u);
  EXPECT_EQ(learner.pending_size(), 16u);
  EXPECT_LT(learner.pending_loss(), learner.loss());
  for (const auto& x : batch) learner.tell(x, shell(x));
  EXPECT_EQ(learner.loss(), learner.pending_loss());
}

TEST(LearnerND, ProposeWithoutMarkingAndRemoveUnfinishedLeaveTheLearnerAsItWas) {
  LearnerND<double> learner(cube(3));
  run_sequentially(learner, shell, 80);
  const auto look = learner.propose(4, false);
  ASSERT_EQ(look.size(), 4u);
  EXPECT_EQ(learner.pending_size(), 0u);
  EXPECT_EQ(learner.propose(4, false).points, look.points);
  const double loss = learner.loss();
  learner.ask(10, 0);
  learner.remove_unfinished();
  EXPECT_EQ(learner.pending_size(), 0u);
  EXPECT_EQ(learner.loss(), loss);
  EXPECT_EQ(learner.propose(1, false).points.front(), look.points.front());
}

TEST(LearnerND, AFailedPointIsNotAskedAgain) {
  LearnerND<double> learner(cube(2));
  run_sequentially(learner, shell, 30);
  const auto x = *learner.ask(0);
  learner.fail(x);
  for (int i = 0; i < 100; ++i) {
    const auto y = *learner.ask(0);
    ASSERT_NE(y, x);
    learner.tell(y, shell(y));
  }
  EXPECT_THROW(learner.fail({0.1, 0.1}), std::invalid_argument);
}

TEST(LearnerND, VectorOutputsAndInterpolation) {
  auto f = [](const Point& p) { return std::vector<double>{shell(p), 2 * p[0] - p[1] + 3 * p[2]}; };
  LearnerND<std::vector<double>> learner(cube(3));
  for (int i = 0; i < 200; ++i) {
    const auto x = *learner.ask(0);
    learner.tell(x, f(x));
  }
  EXPECT_EQ(learner.vdim(), 2u);
  const auto v = *learner.interpolate({0.1, -0.2, 0.3});
  EXPECT_NEAR(v[1], 2 * 0.1 + 0.2 + 0.9, 1e-9);  // a linear component is exact
  const auto x = *learner.ask(0);
  EXPECT_THROW(learner.tell(x, {1.0}), std::invalid_argument);
}

TEST(LearnerND, SaveAndLoadGiveAnIdenticalLearner) {
  LearnerND<double> learner(cube(3));
  run_sequentially(learner, shell, 120);
  const auto pending = learner.ask(5, 0);
  learner.tell(pending[1], shell(pending[1]));
  learner.fail(pending[2]);
  const auto state = nlohmann::json::parse(learner.save().dump());
  LearnerND<double> loaded(cube(3));
  loaded.load(state);
  EXPECT_EQ(loaded.points(), learner.points());
  EXPECT_EQ(loaded.loss(), learner.loss());
  for (int i = 0; i < 50; ++i) {
    const auto a = *learner.ask(0), b = *loaded.ask(0);
    ASSERT_EQ(a, b) << "at ask " << i;
    learner.tell(a, shell(a));
    loaded.tell(b, shell(b));
  }
  LearnerND<double> other(cube(3), losses_nd::uniform());
  EXPECT_THROW(other.load(state), std::invalid_argument);
  EXPECT_THROW(loaded.load(state), std::invalid_argument);
}

TEST(LearnerND, RejectsBadInput) {
  EXPECT_THROW(LearnerND<double>(cube(1)), std::invalid_argument);
  EXPECT_THROW(LearnerND<double>({{0, 1}, {1, 1}}), std::invalid_argument);
  EXPECT_THROW(LearnerND<double>({{0, 1}, {0, INFINITY}}), std::invalid_argument);
  EXPECT_THROW(losses_nd::curvature(-1), std::invalid_argument);
  LearnerND<double> learner(cube(3));
  EXPECT_THROW(learner.tell({0, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(learner.tell({0, 0, 2}, 1.0), std::invalid_argument);
  EXPECT_THROW(learner.tell({0, NAN, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(learner.tell_pending({0, 0, 0, 0}), std::invalid_argument);
  EXPECT_THROW((void)learner.interpolate({0, 0}), std::invalid_argument);
  learner.tell({0, 0, 0}, 1.0);
  learner.tell({0, 0, 0}, 2.0);  // told again: the value is replaced
  EXPECT_EQ(learner.size(), 1u);
  EXPECT_EQ(learner.value(0), 2.0);
}

}  // namespace
