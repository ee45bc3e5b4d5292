#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>

#include "taskmaster/core/stop.hpp"

namespace {

using namespace taskmaster;

Progress at(std::uint64_t asked, std::uint64_t told, double seconds = 0.0) {
  Progress p;
  p.asked = asked;
  p.told = told;
  p.elapsed = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
  return p;
}

TEST(Stop, PointsCountsAsksAndResultsCountsTells) {
  EXPECT_FALSE(stop::points(3)(at(2, 0)));
  EXPECT_TRUE(stop::points(3)(at(3, 0)));
  EXPECT_FALSE(stop::results(3)(at(9, 2)));
  EXPECT_TRUE(stop::results(3)(at(9, 3)));
}

TEST(Stop, Duration) {
  EXPECT_FALSE(stop::duration(1.5)(at(0, 0, 1.4)));
  EXPECT_TRUE(stop::duration(1.5)(at(0, 0, 1.5)));
  EXPECT_THROW(stop::duration(-1.0), std::invalid_argument);
}

TEST(Stop, LossGoalAsksTheLearnerAndNeedsOne) {
  struct {
    double loss;
  } learner{0.5};
  Progress p;
  p.learner = &learner;
  p.loss_of = [](const void* l) { return static_cast<const decltype(learner)*>(l)->loss; };
  EXPECT_FALSE(stop::loss_below(0.1)(p));
  learner.loss = 0.05;
  EXPECT_TRUE(stop::loss_below(0.1)(p));
  EXPECT_THROW((void)stop::loss_below(0.1)(Progress{}), std::logic_error);
  EXPECT_THROW((void)stop::learner_done()(Progress{}), std::logic_error);
}

TEST(Stop, CombinationsAndDescriptions) {
  const auto either = stop::points(10) || stop::results(2);
  EXPECT_TRUE(either(at(1, 2)));
  EXPECT_TRUE(either(at(10, 0)));
  EXPECT_FALSE(either(at(9, 1)));
  const auto both = stop::points(10) && stop::results(2);
  EXPECT_FALSE(both(at(10, 1)));
  EXPECT_TRUE(both(at(10, 2)));
  EXPECT_TRUE((!stop::points(10))(at(9, 0)));
  EXPECT_EQ(either.describe(), "(10 points asked or 2 results told)");
  EXPECT_FALSE(stop::exhausted()(at(1000000, 1000000)));
  const auto custom = stop::when("odd", [](const Progress& p) { return p.asked % 2 == 1; });
  EXPECT_TRUE(custom(at(3, 0)));
  EXPECT_EQ(custom.describe(), "odd");
}

}  // namespace
