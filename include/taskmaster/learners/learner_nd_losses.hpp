#pragma once
// Simplex losses for LearnerND, after python-adaptive's learnerND.py
// (uniform_loss, std_loss, default_loss, triangle_loss, curvature_loss_function).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/learners/loss_descriptor.hpp"

namespace taskmaster {

/// What a simplex loss sees of one simplex of LearnerND's triangulation.
///
/// Points are in scaled coordinates (the bounds mapped onto the unit cube
/// [0, 1]^dim); values are the outputs divided by `value_scale` (the largest
/// peak-to-peak range of the outputs so far, as python-adaptive's output
/// multiplier). A simplex touching a point without a finite value is shown
/// flat (all values 0). Neighbours are the vertices across each facet, for
/// losses that set `uses_neighbors`.
///
/// @code
/// taskmaster::SimplexLoss by_volume{
///     [](const taskmaster::SimplexSample& s) { return s.volume(); }, "volume"};
/// @endcode
struct SimplexSample {
  std::size_t dim = 0;
  std::size_t vdim = 1;
  std::span<const double> points;  // (dim + 1) * dim
  std::span<const double> values;  // (dim + 1) * vdim, scaled
  double value_scale = 1.0;
  std::size_t neighbor_count = 0;
  std::span<const double> neighbor_points;  // neighbor_count * dim
  std::span<const double> neighbor_values;  // neighbor_count * vdim, scaled

  [[nodiscard]] std::span<const double> point(std::size_t i) const {
    return points.subspan(i * dim, dim);
  }
  [[nodiscard]] std::span<const double> value(std::size_t i) const {
    return values.subspan(i * vdim, vdim);
  }
  /// The simplex's volume in scaled coordinates.
  [[nodiscard]] double volume() const;
};

/// A loss per simplex: larger is refined sooner. NaN results count as 0.
///
/// @code
/// taskmaster::SimplexLoss loss = taskmaster::losses_nd::curvature(0.05);
/// @endcode
struct SimplexLoss {
  using sample_type = SimplexSample;

  std::function<double(const SimplexSample&)> function;
  std::string name = "user";
  bool uses_neighbors = false;

  /// The loss of one simplex (LossDescriptor's call).
  double operator()(const SimplexSample& simplex) const { return function(simplex); }
};
static_assert(LossDescriptor<SimplexLoss>);

namespace losses_nd {

namespace detail {

/// sqrt(det Gram) / k! of the k + 1 = `count` rows of `width` coordinates in
/// `rows`, with scratch `e` (k * width) and `g` (k * k). `Count` and `Width`
/// are std::size_t or std::integral_constant: fixed sizes let the compiler
/// unroll the loops, and since the source is one, the operations and their
/// order (hence every bit of the result) are the same.
template <class Count, class Width>
double gram_volume(const double* rows, Count count, Width width, double* e, double* g) {
  const std::size_t k = count - 1;
  std::fill(g, g + k * k, 0.0);
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t d = 0; d < width; ++d) e[i * width + d] = rows[(i + 1) * width + d] - rows[d];
  for (std::size_t i = 0; i < k; ++i)
    for (std::size_t j = 0; j < k; ++j)
      for (std::size_t d = 0; d < width; ++d) g[i * k + j] += e[i * width + d] * e[j * width + d];
  // Determinant by Gaussian elimination with partial pivoting.
  double det = 1;
  for (std::size_t c = 0; c < k; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < k; ++r)
      if (std::abs(g[r * k + c]) > std::abs(g[pivot * k + c])) pivot = r;
    if (g[pivot * k + c] == 0) return 0;
    if (pivot != c) {
      for (std::size_t j = 0; j < k; ++j) std::swap(g[c * k + j], g[pivot * k + j]);
      det = -det;
    }
    det *= g[c * k + c];
    for (std::size_t r = c + 1; r < k; ++r) {
      const double factor = g[r * k + c] / g[c * k + c];
      for (std::size_t j = c; j < k; ++j) g[r * k + j] -= factor * g[c * k + j];
    }
  }
  double factorial = 1;
  for (std::size_t i = 2; i <= k; ++i) factorial *= static_cast<double>(i);
  return std::sqrt(std::max(0.0, det)) / factorial;
}

}  // namespace detail

/// Volume of the simplex spanned by `count` points of `width` coordinates
/// each (rows of `rows`), in its own affine hull: sqrt(det Gram) / k!.
inline double volume_in_embedding(std::span<const double> rows, std::size_t count,
                                  std::size_t width) {
  const std::size_t k = count - 1;
  // On the stack for the small simplices of most calls (this runs for every
  // simplex a new point creates or changes), on the heap beyond.
  constexpr std::size_t on_stack = 64;
  std::array<double, on_stack> e_stack, g_stack;
  std::vector<double> e_heap, g_heap;
  double* e = e_stack.data();
  double* g = g_stack.data();
  if (k * width > on_stack || k * k > on_stack) {
    e_heap.resize(k * width);
    g_heap.resize(k * k);
    e = e_heap.data();
    g = g_heap.data();
  }
  return detail::gram_volume(rows.data(), count, width, e, g);
}

/// The simplex's points with their values appended, row by row.
inline std::vector<double> lifted(const SimplexSample& s) {
  std::vector<double> rows;
  rows.reserve((s.dim + 2) * (s.dim + s.vdim));
  for (std::size_t i = 0; i <= s.dim; ++i) {
    for (double x : s.point(i)) rows.push_back(x);
    for (double y : s.value(i)) rows.push_back(y);
  }
  return rows;
}

/// Samples the domain uniformly: the simplex's volume.
inline SimplexLoss uniform() {
  return {[](const SimplexSample& s) { return s.volume(); }, "uniform", false};
}

/// The norm of the values' standard deviation times volume^(1/dim), plus the volume.
inline SimplexLoss std_loss() {
  return {[](const SimplexSample& s) {
            double norm2 = 0;
            const double n = static_cast<double>(s.dim + 1);
            for (std::size_t c = 0; c < s.vdim; ++c) {
              double mean = 0, square = 0;
              for (std::size_t i = 0; i <= s.dim; ++i) mean += s.value(i)[c];
              mean /= n;
              for (std::size_t i = 0; i <= s.dim; ++i)
                square += (s.value(i)[c] - mean) * (s.value(i)[c] - mean);
              norm2 += square / n;
            }
            const double volume = s.volume();
            return std::sqrt(norm2) * std::pow(volume, 1.0 / static_cast<double>(s.dim)) + volume;
          },
          "std", false};
}

/// The default loss's function, as a named type so that LearnerND can
/// recognise it and compute it on fixed-size arrays in 2 and 3 dimensions
/// (with the same operations in the same order, hence the same bits).
struct LiftedVolume {
  double operator()(const SimplexSample& s) const {
    // lifted(s), on the stack when small enough
    const std::size_t width = s.dim + s.vdim;
    std::array<double, 64> stack;
    if ((s.dim + 1) * width > stack.size()) {
      return volume_in_embedding(lifted(s), s.dim + 1, width);
    }
    std::size_t n = 0;
    for (std::size_t i = 0; i <= s.dim; ++i) {
      for (double x : s.point(i)) stack[n++] = x;
      for (double y : s.value(i)) stack[n++] = y;
    }
    return volume_in_embedding(std::span<const double>(stack.data(), n), s.dim + 1, width);
  }
};

/// python-adaptive's default: the volume of the simplex lifted into
/// (points, scaled values) space.
inline SimplexLoss default_loss() { return {LiftedVolume{}, "default", false}; }

/// The mean volume of the (dim+1)-simplices the lifted simplex forms with
/// each lifted neighbour.
inline SimplexLoss triangle() {
  return {[](const SimplexSample& s) {
            if (s.neighbor_count == 0) return 0.0;
            auto rows = lifted(s);
            const std::size_t width = s.dim + s.vdim;
            double sum = 0;
            for (std::size_t m = 0; m < s.neighbor_count; ++m) {
              rows.resize((s.dim + 1) * width);
              for (std::size_t d = 0; d < s.dim; ++d)
                rows.push_back(s.neighbor_points[m * s.dim + d]);
              for (std::size_t c = 0; c < s.vdim; ++c)
                rows.push_back(s.neighbor_values[m * s.vdim + c]);
              sum += volume_in_embedding(rows, s.dim + 2, width);
            }
            return sum / static_cast<double>(s.neighbor_count);
          },
          "triangle", true};
}

/// Curvature (the triangle loss) plus an exploration term on the volume:
/// (triangle + exploration * volume^((2 + dim) / dim))^(1 / (2 + dim)).
inline SimplexLoss curvature(double exploration = 0.05) {
  if (!(exploration >= 0)) {
    throw std::invalid_argument(
        fmt::format("losses_nd::curvature: exploration must be >= 0, got {}", exploration));
  }
  auto curvature_part = triangle().function;
  return {[=](const SimplexSample& s) {
            const double d = static_cast<double>(s.dim);
            const double volume = s.volume();
            return std::pow(curvature_part(s) + exploration * std::pow(volume, (2 + d) / d),
                            1 / (2 + d));
          },
          fmt::format("curvature({})", exploration), true};
}

}  // namespace losses_nd

/// The namespace's former name, kept so that code written against it still
/// compiles; deprecated: use losses_nd.
namespace lossnd = losses_nd;

inline double SimplexSample::volume() const {
  return losses_nd::volume_in_embedding(points, dim + 1, dim);
}

}  // namespace taskmaster
