// What Learner2D and LearnerND share through MeshLearner, checked on both:
// the same calls on a square give the same bookkeeping, whichever
// triangulation core is underneath.

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "taskmaster/learners/learner_2d.hpp"
#include "taskmaster/learners/learner_nd.hpp"

namespace {

using namespace taskmaster;

/// How to build each learner on the square [-1, 1]^2 and evaluate a ring on it.
template <class L>
struct Square;

template <class Y>
struct Square<Learner2D<Y>> {
  static Learner2D<Y> make() { return Learner2D<Y>({{{-1, 1}, {-1, 1}}}); }
};
template <class Y>
struct Square<LearnerND<Y>> {
  static LearnerND<Y> make() { return LearnerND<Y>({{-1, 1}, {-1, 1}}); }
};

template <class X>
double ring(const X& p) {
  const double r = p[0] * p[0] + p[1] * p[1] - 0.5625;
  return p[0] + std::exp(-r * r / 0.0016);
}

template <class L>
class MeshLearnerTest : public ::testing::Test {};
using Scalar = ::testing::Types<Learner2D<double>, LearnerND<double>>;
TYPED_TEST_SUITE(MeshLearnerTest, Scalar);

TYPED_TEST(MeshLearnerTest, BothModelTheCoreConceptAndTheLearnerConcepts) {
  static_assert(detail::MeshLearnerCore<detail::Learner2DCore>);
  static_assert(detail::MeshLearnerCore<detail::LearnerNDCore>);
  static_assert(Learner<TypeParam>);
  static_assert(BatchLearner<TypeParam>);
  static_assert(AdaptiveLearner<TypeParam>);
}

TYPED_TEST(MeshLearnerTest, PendingAndFailedPointsAreCountedAndListedInAskOrder) {
  auto learner = Square<TypeParam>::make();
  for (int i = 0; i < 40; ++i) {
    const auto x = *learner.ask(0);
    learner.tell(x, ring(x));
  }
  const auto batch = learner.ask(6, 0);
  ASSERT_EQ(batch.size(), 6u);
  EXPECT_EQ(learner.pending_points(), batch);
  learner.fail(batch[1]);
  learner.fail(batch[4]);
  learner.tell(batch[0], ring(batch[0]));
  EXPECT_EQ(learner.failed_size(), 2u);
  EXPECT_EQ(learner.pending_size(), 3u);
  const std::vector<typename TypeParam::input_type> left{batch[2], batch[3], batch[5]};
  EXPECT_EQ(learner.pending_points(), left);
  learner.tell(batch[1], ring(batch[1]));  // a failed point told after all
  EXPECT_EQ(learner.failed_size(), 1u);
  EXPECT_EQ(learner.size(), 42u);
  learner.remove_unfinished();
  EXPECT_TRUE(learner.pending_points().empty());
  EXPECT_EQ(learner.failed_size(), 1u);
}

TYPED_TEST(MeshLearnerTest, TellManyTellsEveryPointOfTheBatch) {
  auto batched = Square<TypeParam>::make();
  auto single = Square<TypeParam>::make();
  const auto xs = batched.ask(30, 0);
  std::vector<double> ys;
  for (const auto& x : xs) ys.push_back(ring(x));
  batched.tell_many(xs, ys);
  for (std::size_t i = 0; i < xs.size(); ++i) single.tell(xs[i], ys[i]);
  EXPECT_EQ(batched.size(), xs.size());
  EXPECT_EQ(batched.pending_size(), 0u);
  EXPECT_EQ(batched.points(), single.points());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    EXPECT_NEAR(batched.interpolate(xs[i]).value(), ys[i], 1e-12);
    EXPECT_EQ(batched.value(i), ys[i]);
  }
  EXPECT_THROW(batched.tell_many(xs, {1.0}), std::invalid_argument);
}

TYPED_TEST(MeshLearnerTest, ASavedStateWithEveryKindOfChangeLoadsAndAsksTheSame) {
  auto learner = Square<TypeParam>::make();
  // Points this learner never asked, told at once into an empty learner:
  // Learner2D records them as one batch.
  const auto first = Square<TypeParam>::make().ask(12, 0);
  std::vector<double> ys;
  for (const auto& x : first) ys.push_back(ring(x));
  learner.tell_many(first, ys);
  for (int i = 0; i < 30; ++i) {
    const auto x = *learner.ask(0);
    learner.tell(x, ring(x));
  }
  const auto batch = learner.ask(5, 0);
  learner.fail(batch[0]);
  learner.tell(batch[1], ring(batch[1]));
  learner.remove_unfinished();
  const auto pending = learner.ask(3, 0);
  const auto state = nlohmann::json::parse(learner.save().dump());

  auto loaded = Square<TypeParam>::make();
  loaded.load(state);
  EXPECT_EQ(loaded.points(), learner.points());
  EXPECT_EQ(loaded.pending_points(), pending);
  EXPECT_EQ(loaded.failed_size(), 1u);
  EXPECT_EQ(loaded.loss(), learner.loss());
  for (int i = 0; i < 20; ++i) {
    const auto a = *learner.ask(0), b = *loaded.ask(0);
    ASSERT_EQ(a, b) << "at ask " << i;
    learner.tell(a, ring(a));
    loaded.tell(b, ring(b));
  }

  // A change of a kind no version wrote is refused, naming it.
  auto strange = state;
  strange["payload"]["changes"].push_back({"teleport", 0.5});
  auto refusing = Square<TypeParam>::make();
  try {
    refusing.load(strange);
    FAIL() << "a state with an unknown change loaded";
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown change"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("teleport"), std::string::npos) << e.what();
  }
}

template <class L>
class VectorMeshLearnerTest : public ::testing::Test {};
using Vector = ::testing::Types<Learner2D<std::vector<double>>, LearnerND<std::vector<double>>>;
TYPED_TEST_SUITE(VectorMeshLearnerTest, Vector);

TYPED_TEST(VectorMeshLearnerTest, ABatchOfUnequalValuesIsRefusedBeforeAnythingIsTold) {
  auto learner = Square<TypeParam>::make();
  const auto xs = learner.ask(4, 0);
  const std::vector<std::vector<double>> uneven{{1, 2}, {3, 4}, {5}, {6, 7}};
  EXPECT_THROW(learner.tell_many(xs, uneven), std::invalid_argument);
  EXPECT_EQ(learner.size(), 0u);
  std::vector<std::vector<double>> ys;
  for (const auto& x : xs) ys.push_back({ring(x), x[0] - x[1]});
  learner.tell_many(xs, ys);
  EXPECT_EQ(learner.vdim(), 2u);
  EXPECT_EQ(learner.value(3), ys[3]);
  const std::vector<std::vector<double>> wide(4, {1, 2, 3});
  EXPECT_THROW(learner.tell_many(learner.ask(4, 0), wide), std::invalid_argument);
}

}  // namespace
