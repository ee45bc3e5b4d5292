#include "taskmaster/learners/learner_1d_losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <vector>

namespace taskmaster::losses_1d {

namespace {

/// python-adaptive's default_loss: hypot(dx, dy); for vectors the largest
/// over the components (a NaN component makes it NaN, which the learner
/// then treats like an infinite loss).
double distance_between(const IntervalNeighborhood& n, std::size_t a, std::size_t b) {
  const double dx = n.x(b) - n.x(a);
  if (n.components() == 1) return std::hypot(dx, n.y0(b) - n.y0(a));
  double largest = -std::numeric_limits<double>::infinity();
  const auto ya = n.y(a);
  const auto yb = n.y(b);
  for (std::size_t i = 0; i < ya.size(); ++i) {
    const double h = std::hypot(dx, std::fabs(ya[i] - yb[i]));
    if (std::isnan(h)) return h;
    largest = std::max(largest, h);
  }
  return largest;
}

/// Area of the triangle (x, y...) of three points: in the plane with the
/// determinant, in more dimensions from the Gram determinant of two edges
/// (clamped at 0 where rounding makes nearly collinear points negative).
double triangle_area(const IntervalNeighborhood& n, std::size_t i0, std::size_t i1,
                     std::size_t i2) {
  if (n.components() == 1) {
    const double ax = n.x(i0) - n.x(i2);
    const double ay = n.y0(i0) - n.y0(i2);
    const double bx = n.x(i1) - n.x(i2);
    const double by = n.y0(i1) - n.y0(i2);
    return std::fabs(ax * by - ay * bx) / 2.0;
  }
  double uu = 0.0;
  double vv = 0.0;
  double uv = 0.0;
  auto add = [&](double u, double v) {
    uu += u * u;
    vv += v * v;
    uv += u * v;
  };
  add(n.x(i1) - n.x(i0), n.x(i2) - n.x(i0));
  const auto y0 = n.y(i0);
  const auto y1 = n.y(i1);
  const auto y2 = n.y(i2);
  for (std::size_t c = 0; c < y0.size(); ++c) add(y1[c] - y0[c], y2[c] - y0[c]);
  return 0.5 * std::sqrt(std::max(0.0, uu * vv - uv * uv));
}

double mean_triangle_area(const IntervalNeighborhood& n) {
  std::array<std::size_t, 4> present{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (n.has(i)) present[count++] = i;
  }
  if (count == 2) return n.x(present[1]) - n.x(present[0]);
  double sum = 0.0;
  for (std::size_t t = 0; t + 2 < count; ++t) {
    sum += triangle_area(n, present[t], present[t + 1], present[t + 2]);
  }
  return sum / static_cast<double>(count - 2);
}

}  // namespace

IntervalLoss uniform() {
  return {"uniform", 0, [](const IntervalNeighborhood& n) { return n.dx(); }};
}

IntervalLoss distance() {
  return {"distance", 0,
          [](const IntervalNeighborhood& n) { return distance_between(n, n.left(), n.right()); }};
}

IntervalLoss abs_min_log() {
  return {"abs_min_log", 0, [](const IntervalNeighborhood& n) {
            std::array<double, 2> xs{n.x(0), n.x(1)};
            std::array<double, 2> ys{};
            for (std::size_t i = 0; i < 2; ++i) {
              double smallest = std::numeric_limits<double>::infinity();
              for (double v : n.y(i)) smallest = std::min(smallest, std::fabs(v));
              ys[i] = std::log(smallest);
            }
            const std::array<unsigned char, 2> present{1, 1};
            return distance_between(IntervalNeighborhood(0, xs, ys, present, 1), 0, 1);
          }};
}

IntervalLoss triangle() {
  return {"triangle", 1, [](const IntervalNeighborhood& n) { return mean_triangle_area(n); }};
}

IntervalLoss curvature(double area_factor, double euclid_factor, double horizontal_factor) {
  return {fmt::format("curvature({}, {}, {})", area_factor, euclid_factor, horizontal_factor), 1,
          [=](const IntervalNeighborhood& n) {
            return area_factor * std::sqrt(mean_triangle_area(n)) +
                   euclid_factor * distance_between(n, n.left(), n.right()) +
                   horizontal_factor * n.dx();
          }};
}

IntervalLoss resolution(double min_length, double max_length) {
  if (!(min_length >= 0.0) || !(max_length >= min_length)) {
    throw std::invalid_argument(fmt::format(
        "resolution loss: need 0 <= min_length <= max_length, got min_length = {}, max_length = {}",
        min_length, max_length));
  }
  return {fmt::format("resolution({}, {})", min_length, max_length), 0,
          [=](const IntervalNeighborhood& n) {
            const double dx = n.dx();
            if (dx < min_length) return 0.0;
            if (dx > max_length) return std::numeric_limits<double>::infinity();
            return distance_between(n, n.left(), n.right());
          }};
}

}  // namespace taskmaster::losses_1d
