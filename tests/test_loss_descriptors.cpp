// The loss descriptors of Learner1D, Learner2D and LearnerND share one
// shape (LossDescriptor), and the built-in losses keep their old namespace
// names next to the new ones.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "taskmaster/learners/learner_1d_losses.hpp"
#include "taskmaster/learners/learner_2d_losses.hpp"
#include "taskmaster/learners/learner_nd_losses.hpp"
#include "taskmaster/learners/loss_descriptor.hpp"

namespace {

using namespace taskmaster;

static_assert(LossDescriptor<IntervalLoss>);
static_assert(LossDescriptor<TriangleLoss>);
static_assert(LossDescriptor<SimplexLoss>);

/// Generic code sees only the shared shape: a name, and a call on a sample.
template <LossDescriptor Loss>
double loss_of(const Loss& loss, const typename Loss::sample_type& sample) {
  return loss(sample);
}

/// The points of an interval and its neighbours, x = i / 4, y = 1 + x^2.
struct Interval {
  explicit Interval(std::size_t nth_neighbors) {
    for (std::size_t i = 0; i < 2 * nth_neighbors + 2; ++i) {
      xs.push_back(0.25 * static_cast<double>(i));
      ys.push_back(1 + xs.back() * xs.back());
      present.push_back(1);
    }
  }
  [[nodiscard]] IntervalNeighborhood neighborhood(std::size_t nth_neighbors) const {
    return {nth_neighbors, xs, ys, present, 1};
  }
  std::vector<double> xs, ys;
  std::vector<unsigned char> present;
};

TEST(LossDescriptors, Learner1DLossesGiveTheirFunctionsValueWhenCalled) {
  for (const IntervalLoss& loss :
       {losses_1d::uniform(), losses_1d::distance(), losses_1d::abs_min_log(),
        losses_1d::triangle(), losses_1d::curvature(), losses_1d::resolution(0.1, 0.5)}) {
    SCOPED_TRACE(loss.name);
    const Interval points(loss.nth_neighbors);
    const auto n = points.neighborhood(loss.nth_neighbors);
    EXPECT_EQ(loss_of(loss, n), loss.evaluate(n));
  }
  const Interval points(0);
  EXPECT_EQ(loss_of(losses_1d::uniform(), points.neighborhood(0)), 0.25);
}

TEST(LossDescriptors, Learner2DLossesGiveTheirFunctionsValueWhenCalled) {
  const std::array<double, 3> values{0.0, 1.0, 0.5};
  const std::array<double, 6> gradients{1.0, 0.0, 0.0, 1.0, 0.5, 0.5};
  const std::array<Point2, 1> neighbor{Point2{1.0, 1.0}};
  const std::array<double, 1> neighbor_value{2.0};
  TriangleSample t;
  t.points = {Point2{0, 0}, Point2{1, 0}, Point2{0, 1}};
  for (std::size_t i = 0; i < 3; ++i) {
    t.values[i] = std::span(values).subspan(i, 1);
    t.gradients[i] = std::span(gradients).subspan(2 * i, 2);
  }
  t.neighbor_points = neighbor;
  t.neighbor_values = neighbor_value;
  for (const TriangleLoss& loss :
       {losses_2d::default_loss(), losses_2d::uniform(), losses_2d::resolution(0.1, 0.5),
        losses_2d::minimize_triangle_surface(), losses_2d::thresholded(0.0, 1.0),
        losses_2d::triangle()}) {
    SCOPED_TRACE(loss.name);
    EXPECT_EQ(loss_of(loss, t), loss.function(t));
  }
  EXPECT_EQ(loss_of(losses_2d::uniform(), t), std::sqrt(0.5));
}

TEST(LossDescriptors, LearnerNDLossesGiveTheirFunctionsValueWhenCalled) {
  const std::vector<double> points{0, 0, 1, 0, 0, 1};
  const std::vector<double> values{0.0, 1.0, 0.5};
  const std::vector<double> neighbor_point{1, 1};
  const std::vector<double> neighbor_value{2.0};
  SimplexSample s{.dim = 2,
                  .vdim = 1,
                  .points = points,
                  .values = values,
                  .neighbor_count = 1,
                  .neighbor_points = neighbor_point,
                  .neighbor_values = neighbor_value};
  for (const SimplexLoss& loss :
       {losses_nd::default_loss(), losses_nd::uniform(), losses_nd::std_loss(),
        losses_nd::triangle(), losses_nd::curvature(0.05)}) {
    SCOPED_TRACE(loss.name);
    EXPECT_EQ(loss_of(loss, s), loss.function(s));
  }
  EXPECT_DOUBLE_EQ(loss_of(losses_nd::uniform(), s), 0.5);
}

TEST(LossDescriptors, TheOldNamespaceNamesStillNameTheSameLosses) {
  // loss2d and lossnd were the namespaces' names before losses_2d and
  // losses_nd; code written against them keeps compiling.
  EXPECT_EQ(loss2d::resolution(0.1, 0.5).name, losses_2d::resolution(0.1, 0.5).name);
  EXPECT_EQ(lossnd::curvature(0.2).name, losses_nd::curvature(0.2).name);
  EXPECT_TRUE(&loss2d::deviation == &losses_2d::deviation);
  EXPECT_TRUE(&lossnd::volume_in_embedding == &losses_nd::volume_in_embedding);
}

TEST(LossDescriptors, BadParametersAreNamedWithTheNewNamespace) {
  try {
    (void)losses_2d::resolution(0.5, 0.1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("losses_2d::resolution"), std::string::npos) << e.what();
  }
  try {
    (void)losses_nd::curvature(-1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("losses_nd::curvature"), std::string::npos) << e.what();
  }
}

}  // namespace
