#pragma once
// Loss functions of Learner1D: how bad the linear interpolation of one
// interval is believed to be. The built-in ones follow python-adaptive's
// learner1D.py (uniform, default, abs_min_log, triangle, curvature,
// resolution); users can write their own.

#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <span>
#include <string>

#include "taskmaster/learners/loss_descriptor.hpp"

namespace taskmaster {

/// The points around one interval, as a loss function sees them: x and y
/// already scaled (x by the width of the domain, y by the peak-to-peak of
/// the values seen so far). With `nth_neighbors() == k` there are 2k + 2
/// points; the interval itself is between points k and k + 1, and points
/// beyond the first or last evaluated point are absent (`has(i)` is false).
class IntervalNeighborhood {
 public:
  IntervalNeighborhood(std::size_t nth_neighbors, std::span<const double> xs,
                       std::span<const double> ys, std::span<const unsigned char> present,
                       std::size_t components)
      : nn_(nth_neighbors), xs_(xs), ys_(ys), present_(present), components_(components) {}

  [[nodiscard]] std::size_t nth_neighbors() const noexcept { return nn_; }
  /// Number of points: 2 * nth_neighbors() + 2.
  [[nodiscard]] std::size_t size() const noexcept { return xs_.size(); }
  /// Number of components of each y (1 for scalar outputs).
  [[nodiscard]] std::size_t components() const noexcept { return components_; }
  [[nodiscard]] bool has(std::size_t i) const { return present_[i] != 0; }
  [[nodiscard]] double x(std::size_t i) const { return xs_[i]; }
  [[nodiscard]] std::span<const double> y(std::size_t i) const {
    return ys_.subspan(i * components_, components_);
  }
  /// The first component of y: the value, for scalar outputs.
  [[nodiscard]] double y0(std::size_t i) const { return ys_[i * components_]; }
  /// The two ends of the interval whose loss is asked for.
  [[nodiscard]] std::size_t left() const noexcept { return nn_; }
  [[nodiscard]] std::size_t right() const noexcept { return nn_ + 1; }
  /// The interval's scaled width.
  [[nodiscard]] double dx() const { return xs_[nn_ + 1] - xs_[nn_]; }

 private:
  std::size_t nn_;
  std::span<const double> xs_;
  std::span<const double> ys_;
  std::span<const unsigned char> present_;
  std::size_t components_;
};

/// A loss function with the number of neighbouring intervals on each side
/// it looks at. When a point is added, the losses of that many intervals on
/// each side of it are recomputed.
///
/// @code
/// // Refine where the function is large, ignoring its slope.
/// taskmaster::IntervalLoss big_values{"big values", 0, [](const auto& n) {
///   return n.dx() * (std::fabs(n.y0(0)) + std::fabs(n.y0(1)));
/// }};
/// taskmaster::Learner1D<double> learner(-1.0, 1.0, big_values);
/// @endcode
struct IntervalLoss {
  using sample_type = IntervalNeighborhood;

  std::string name;
  std::size_t nth_neighbors = 0;
  std::function<double(const IntervalNeighborhood&)> evaluate;

  /// The loss of one interval (LossDescriptor's call).
  double operator()(const IntervalNeighborhood& interval) const { return evaluate(interval); }
};
static_assert(LossDescriptor<IntervalLoss>);

namespace losses_1d {

/// The scaled length of the interval: samples the domain uniformly.
IntervalLoss uniform();
/// The scaled distance between the interval's ends in the (x, y) plane; for
/// vector outputs the largest over the components. python-adaptive's default.
IntervalLoss distance();
/// `distance` on log(min |y|): refines towards the absolute minimum.
IntervalLoss abs_min_log();
/// The mean area of the triangles formed with the neighbouring points.
IntervalLoss triangle();
/// area_factor * sqrt(triangle) + euclid_factor * distance + horizontal_factor * dx.
IntervalLoss curvature(double area_factor = 1.0, double euclid_factor = 0.02,
                       double horizontal_factor = 0.02);
/// `distance`, except 0 for intervals shorter than `min_length` and
/// infinity for intervals longer than `max_length` (both scaled: the domain
/// has length 1).
IntervalLoss resolution(double min_length = 0.0, double max_length = 1.0);

}  // namespace losses_1d
}  // namespace taskmaster
