#pragma once
// Learner2D: adaptive sampling of a function of two variables on a rectangle.
//
// The algorithm is python-adaptive's Learner2D (learner/learner2D.py): the
// domain is triangulated (Delaunay) through the points sampled so far, each
// triangle gets a loss, and the next point goes into the triangle with the
// largest loss, at the midpoint of its longest edge when the triangle is badly
// shaped and at its centroid otherwise. Unlike the original, which rebuilds
// the whole triangulation every ten points, the triangulation here is updated
// incrementally (CGAL, exact predicates) and only the triangles a new point
// changes get new losses, kept in a priority queue: a step costs O(log N).

#include <array>
#include <cmath>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/learners/learner_2d_losses.hpp"
#include "taskmaster/learners/mesh_learner.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// The rectangle a Learner2D samples: `{{x_min, x_max}, {y_min, y_max}}`.
using Bounds2D = std::array<std::array<double, 2>, 2>;

/// Values on a regular grid: `xs.size() * ys.size()` points, `vdim` numbers
/// each, NaN where the grid point lies outside the sampled region.
///
/// @code
/// taskmaster::Grid2D grid = learner.interpolated_on_grid(101);
/// double centre = grid.at(50, 50);
/// @endcode
struct Grid2D {
  std::vector<double> xs;
  std::vector<double> ys;
  std::size_t vdim = 1;
  /// `values[(i * ys.size() + j) * vdim + c]` is component c at (xs[i], ys[j]).
  std::vector<double> values;

  [[nodiscard]] double at(std::size_t i, std::size_t j, std::size_t c = 0) const {
    return values.at((i * ys.size() + j) * vdim + c);
  }
};

namespace detail {

/// Everything of Learner2D that does not depend on the output type; outputs
/// are flat arrays of `vdim` doubles. The CGAL triangulation lives in its
/// implementation (src/learners/learner_2d_core.cpp), out of users' headers.
class Learner2DCore {
 public:
  using point_type = Point2;

  /// `vdim == 0`: the number of output components is taken from the first tell.
  Learner2DCore(const Bounds2D& bounds, TriangleLoss loss, double aspect_ratio, std::size_t vdim);
  ~Learner2DCore();
  Learner2DCore(Learner2DCore&&) noexcept;
  Learner2DCore& operator=(Learner2DCore&&) noexcept;
  Learner2DCore(const Learner2DCore&) = delete;
  Learner2DCore& operator=(const Learner2DCore&) = delete;

  std::optional<std::pair<Point2, double>> ask_one();
  Proposal<Point2> propose(std::size_t n, bool mark_pending);
  void tell(const Point2& x, std::span<const double> y);
  void tell_many(const std::vector<Point2>& xs, std::span<const double> ys);
  void tell_pending(const Point2& x);
  void fail(const Point2& x);
  void remove_unfinished();

  [[nodiscard]] double loss() const;
  [[nodiscard]] double pending_loss() const;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] std::size_t pending_size() const noexcept;
  [[nodiscard]] std::size_t failed_size() const noexcept;
  [[nodiscard]] std::size_t vdim() const noexcept;
  [[nodiscard]] bool bounds_are_done() const noexcept;
  [[nodiscard]] const Bounds2D& bounds() const noexcept;
  [[nodiscard]] double aspect_ratio() const noexcept;

  [[nodiscard]] const std::vector<Point2>& told_points() const noexcept;
  [[nodiscard]] std::span<const double> told_value(std::size_t i) const;
  [[nodiscard]] std::vector<Point2> pending_points() const;

  /// Linear interpolation of the told data at x; nullopt outside their hull.
  [[nodiscard]] std::optional<std::vector<double>> interpolate(const Point2& x) const;
  [[nodiscard]] Grid2D interpolated_on_grid(std::size_t n) const;
  /// The triangles of the told data, in original coordinates.
  [[nodiscard]] std::vector<std::array<Point2, 3>> triangles() const;

  [[nodiscard]] nlohmann::json save() const;
  void load(const nlohmann::json& state);
  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "Learner2D";
  static constexpr int state_version = 1;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail

/// Learns a function f(x, y) on a rectangle, sampling densely where f is hard
/// to approximate linearly (python-adaptive's Learner2D, incremental).
///
/// `Y` is `double` for a scalar function or `std::vector<double>` for a
/// vector-valued one (the number of components comes from the first value
/// told, or from the constructor). Inputs are `std::array<double, 2>`.
///
/// - The four corners are asked first. Pending points enter the
///   triangulation with a value linearly interpolated from their triangle
///   (0 until all corners are known), so several points asked at once spread
///   out. `propose(n, false)` only looks: it returns the n best triangles'
///   points without changing anything.
/// - `aspect_ratio` > 1 stretches triangles along x (for functions with more
///   detail along y), as in the original.
/// - A NaN or infinite value, or a failed point, marks its vertex as "no
///   value": the triangles around it are treated as flat (their loss is the
///   loss of a flat triangle of that shape), gradients and value ranges ignore
///   it, and the rest of the domain refines as if the point were absent.
/// - Points outside the bounds, NaN coordinates and values of the wrong
///   length are rejected with `std::invalid_argument`. Telling a point again
///   replaces its value (as in the original); `tell_pending` of a known point
///   does nothing.
/// - `save()`/`load()` write and replay the learner's changes, so a loaded
///   learner is identical to the saved one (it asks the same points next).
///
/// @code
/// taskmaster::Learner2D<double> learner({{{-1, 1}, {-1, 1}}});
/// auto ring = [](std::array<double, 2> p) {
///   double r = p[0] * p[0] + p[1] * p[1] - 0.5625;
///   return p[0] + std::exp(-r * r / 0.0016);
/// };
/// taskmaster::evaluate(taskmaster::SerialMaster<std::array<double, 2>, double>(ring), learner,
///                      taskmaster::stop::points(1000));
/// auto grid = learner.interpolated_on_grid(200);
/// @endcode
template <class Y = double>
class Learner2D : public MeshLearner<detail::Learner2DCore, Y> {
  using Base = MeshLearner<detail::Learner2DCore, Y>;

 public:
  explicit Learner2D(const Bounds2D& bounds, TriangleLoss loss = losses_2d::default_loss(),
                     double aspect_ratio = 1.0, std::size_t vdim = Base::scalar ? 1 : 0)
      : Base(detail::Learner2DCore(bounds, std::move(loss), aspect_ratio,
                                   Base::scalar ? 1 : vdim)) {}

  [[nodiscard]] const Bounds2D& bounds() const noexcept { return this->core_.bounds(); }
  [[nodiscard]] double aspect_ratio() const noexcept { return this->core_.aspect_ratio(); }
  /// The interpolation on an n x n grid spanning the bounds.
  [[nodiscard]] Grid2D interpolated_on_grid(std::size_t n) const {
    return this->core_.interpolated_on_grid(n);
  }
  /// The current Delaunay triangles of the told points.
  [[nodiscard]] std::vector<std::array<Point2, 3>> triangles() const {
    return this->core_.triangles();
  }
};

}  // namespace taskmaster
