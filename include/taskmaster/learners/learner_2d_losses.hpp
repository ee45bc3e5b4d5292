#pragma once
// Triangle losses for Learner2D: what makes one triangle more worth refining than another.
//
// The losses follow python-adaptive's learner2D.py (default_loss, uniform_loss,
// resolution_loss_function, minimize_triangle_surface_loss,
// thresholded_loss_function, triangle_loss), but each is written for one
// triangle at a time so that the learner can recompute only the triangles a
// new point changes.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "taskmaster/learners/loss_descriptor.hpp"

namespace taskmaster {

/// A point of the plane.
using Point2 = std::array<double, 2>;

/// What a triangle loss sees of one triangle of the triangulation.
///
/// Points are in the learner's scaled coordinates (the bounds mapped onto a
/// unit square centred at 0, the y side multiplied by the aspect ratio).
/// Values are the raw outputs, `vdim` numbers per vertex; divide them by
/// `value_scale` (the largest peak-to-peak range of any output component so
/// far, or 1) to get python-adaptive's normalised values. Gradients are
/// estimated from each vertex's neighbours, in raw value units per scaled
/// length: `gradients[i][2 * c]` is d(component c)/dx at vertex i and
/// `gradients[i][2 * c + 1]` is d/dy. They are zero when the loss did not ask
/// for them (`TriangleLoss::uses_gradients`). A triangle that touches a
/// point whose value is NaN or infinite is shown flat: all values and
/// gradients zero, so every loss still gives it a finite, area-based value.
///
/// @code
/// taskmaster::TriangleLoss area_only{
///     [](const taskmaster::TriangleSample& t) { return t.area(); }, "area"};
/// @endcode
struct TriangleSample {
  std::array<Point2, 3> points{};
  std::array<std::span<const double>, 3> values{};
  std::array<std::span<const double>, 3> gradients{};
  std::size_t vdim = 1;
  double value_scale = 1.0;
  /// The vertices across each edge (up to 3, fewer on the boundary) and their
  /// values (`vdim` each, raw). Filled only for losses that set `uses_neighbors`.
  std::span<const Point2> neighbor_points{};
  std::span<const double> neighbor_values{};

  /// The triangle's area in scaled coordinates.
  [[nodiscard]] double area() const noexcept {
    const double ax = points[1][0] - points[0][0], ay = points[1][1] - points[0][1];
    const double bx = points[2][0] - points[0][0], by = points[2][1] - points[0][1];
    return std::abs(ax * by - ay * bx) / 2;
  }
};

/// A loss per triangle: larger means the triangle is refined sooner.
///
/// `uses_gradients` asks the learner to estimate gradients at the vertices
/// (needed by the default loss; it costs time), `uses_neighbors` to fill in
/// the neighbouring vertices. A NaN result is read as 0; +inf is allowed and
/// means "refine this first". `name` is written into saved state, so a load
/// can check that it uses the same loss.
///
/// @code
/// taskmaster::TriangleLoss loss = taskmaster::losses_2d::resolution(0.01, 0.3);
/// taskmaster::TriangleLoss mine{[](const taskmaster::TriangleSample& t) {
///   return std::sqrt(t.area()); }, "my sqrt area"};
/// @endcode
struct TriangleLoss {
  using sample_type = TriangleSample;

  std::function<double(const TriangleSample&)> function;
  std::string name = "user";
  bool uses_gradients = false;
  bool uses_neighbors = false;

  /// The loss of one triangle (LossDescriptor's call).
  double operator()(const TriangleSample& triangle) const { return function(triangle); }
};
static_assert(LossDescriptor<TriangleLoss>);

namespace losses_2d {

/// How far the linear estimates from each vertex's gradient miss the other
/// vertices, summed over the three vertices and over output components, on
/// normalised values (python-adaptive's `deviations`).
inline double deviation(const TriangleSample& t) {
  double dev = 0;
  for (std::size_t c = 0; c < t.vdim; ++c) {
    for (std::size_t j = 0; j < 3; ++j) {
      const double vj = t.values[j][c];
      const double gx = t.gradients[j][2 * c], gy = t.gradients[j][2 * c + 1];
      double worst = 0;
      for (std::size_t k = 0; k < 3; ++k) {
        const double estimate =
            vj + (t.points[k][0] - t.points[j][0]) * gx + (t.points[k][1] - t.points[j][1]) * gy;
        worst = std::max(worst, std::abs(estimate - t.values[k][c]));
      }
      dev += worst;
    }
  }
  return dev / t.value_scale;
}

/// python-adaptive's default: deviation from the linear estimate times the
/// square root of the area, plus 0.3 times the area.
inline TriangleLoss default_loss() {
  return {[](const TriangleSample& t) {
            const double a = t.area();
            return deviation(t) * std::sqrt(a) + 0.3 * a;
          },
          "default", true, false};
}

/// Samples the domain uniformly: the square root of the area.
inline TriangleLoss uniform() {
  return {[](const TriangleSample& t) { return std::sqrt(t.area()); }, "uniform", false, false};
}

/// The default loss, but triangles smaller than `min_distance`² (in scaled
/// units, the domain being a unit square) are never refined and triangles
/// larger than `max_distance`² always come first.
inline TriangleLoss resolution(double min_distance = 0, double max_distance = 1) {
  if (!(min_distance >= 0) || !(max_distance > min_distance)) {
    throw std::invalid_argument(
        fmt::format("losses_2d::resolution: need 0 <= min_distance < max_distance, got {} and {}",
                    min_distance, max_distance));
  }
  auto base = default_loss().function;
  return {[=](const TriangleSample& t) {
            const double a = t.area();
            if (a < min_distance * min_distance) return 0.0;
            if (a > max_distance * max_distance) return std::numeric_limits<double>::infinity();
            return base(t);
          },
          fmt::format("resolution({},{})", min_distance, max_distance), true, false};
}

/// The area of the triangle lifted into (x, y, normalised value) space,
/// the 2D analogue of Learner1D's distance loss.
inline TriangleLoss minimize_triangle_surface() {
  return {[](const TriangleSample& t) {
            // Edge vectors from vertex 2, in 2 + vdim dimensions; the area is
            // half the norm of their wedge product (Lagrange's identity).
            double aa = 0, bb = 0, ab = 0;
            for (std::size_t d = 0; d < 2; ++d) {
              const double a = t.points[0][d] - t.points[2][d];
              const double b = t.points[1][d] - t.points[2][d];
              aa += a * a, bb += b * b, ab += a * b;
            }
            for (std::size_t c = 0; c < t.vdim; ++c) {
              const double a = (t.values[0][c] - t.values[2][c]) / t.value_scale;
              const double b = (t.values[1][c] - t.values[2][c]) / t.value_scale;
              aa += a * a, bb += b * b, ab += a * b;
            }
            return std::sqrt(std::max(0.0, aa * bb - ab * ab)) / 2;
          },
          "minimize_triangle_surface", false, false};
}

/// The default loss, multiplied by `priority_factor` for triangles whose
/// values (all components, all three vertices) lie below `lower` or all
/// above `upper`: regions out of interest are refined less.
inline TriangleLoss thresholded(std::optional<double> lower, std::optional<double> upper,
                                double priority_factor = 0.1) {
  if (!(priority_factor >= 0)) {
    throw std::invalid_argument(fmt::format(
        "losses_2d::thresholded: priority_factor must be >= 0, got {}", priority_factor));
  }
  auto base = default_loss().function;
  auto all = [](const TriangleSample& t, auto predicate) {
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t c = 0; c < t.vdim; ++c)
        if (!predicate(t.values[i][c])) return false;
    return true;
  };
  return {[=](const TriangleSample& t) {
            double loss = base(t);
            if (lower && all(t, [&](double v) { return v < *lower; })) loss *= priority_factor;
            if (upper && all(t, [&](double v) { return v > *upper; })) loss *= priority_factor;
            return loss;
          },
          fmt::format("thresholded({},{},{})", lower ? fmt::format("{}", *lower) : "none",
                      upper ? fmt::format("{}", *upper) : "none", priority_factor),
          true, false};
}

namespace detail {
/// Volume of the tetrahedron with edge vectors e[0..2] (each of length n)
/// in any dimension n >= 3: sqrt(det Gram) / 3!.
inline double tetrahedron_volume(const std::array<std::array<double, 8>, 3>& e, std::size_t n) {
  std::array<std::array<double, 3>, 3> g{};
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      for (std::size_t d = 0; d < n; ++d) g[i][j] += e[i][d] * e[j][d];
  const double det = g[0][0] * (g[1][1] * g[2][2] - g[1][2] * g[2][1]) -
                     g[0][1] * (g[1][0] * g[2][2] - g[1][2] * g[2][0]) +
                     g[0][2] * (g[1][0] * g[2][1] - g[1][1] * g[2][0]);
  return std::sqrt(std::max(0.0, det)) / 6;
}
}  // namespace detail

/// The mean volume of the simplices that the triangle forms with each
/// neighbouring vertex, in (x, y, raw values) space: the same measure as
/// LearnerND's triangle loss. Supports up to 6 output components.
inline TriangleLoss triangle() {
  return {[](const TriangleSample& t) {
            const std::size_t n = 2 + t.vdim;
            if (n > 8) {
              throw std::invalid_argument(fmt::format(
                  "losses_2d::triangle supports at most 6 output components, got {}", t.vdim));
            }
            const std::size_t count = t.neighbor_points.size();
            if (count == 0) return 0.0;
            double sum = 0;
            for (std::size_t m = 0; m < count; ++m) {
              std::array<std::array<double, 8>, 3> e{};
              auto coordinate = [&](std::size_t vertex, std::size_t d) {
                if (vertex == 3) {
                  return d < 2 ? t.neighbor_points[m][d] : t.neighbor_values[m * t.vdim + d - 2];
                }
                return d < 2 ? t.points[vertex][d] : t.values[vertex][d - 2];
              };
              for (std::size_t i = 0; i < 3; ++i)
                for (std::size_t d = 0; d < n; ++d)
                  e[i][d] = coordinate(i + 1, d) - coordinate(0, d);
              sum += detail::tetrahedron_volume(e, n);
            }
            return sum / static_cast<double>(count);
          },
          "triangle", false, true};
}

}  // namespace losses_2d

/// The namespace's former name, kept so that code written against it still
/// compiles; deprecated: use losses_2d.
namespace loss2d = losses_2d;

}  // namespace taskmaster
