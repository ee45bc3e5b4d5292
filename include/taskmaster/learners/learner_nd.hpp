#pragma once
// LearnerND: adaptive sampling of a function of any number of variables on a box.
//
// python-adaptive's LearnerND (learner/learnerND.py): a Delaunay
// triangulation of the sampled points (CGAL's d-dimensional one, exact
// predicates), a loss per simplex in a priority queue, and the next point
// in the simplex with the largest loss: its centroid when the circumcentre
// lies inside it, else the midpoint of its longest edge. The queue is updated
// only for the simplices a new point creates or changes.

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
#include "taskmaster/learners/learner_nd_losses.hpp"
#include "taskmaster/learners/mesh_learner.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

namespace detail {

/// LearnerND without the output type: values are `vdim` doubles. The CGAL
/// triangulation lives in src/learners/learner_nd_core.cpp.
class LearnerNDCore {
 public:
  using point_type = std::vector<double>;

  LearnerNDCore(std::vector<std::array<double, 2>> bounds, SimplexLoss loss, std::size_t vdim);
  ~LearnerNDCore();
  LearnerNDCore(LearnerNDCore&&) noexcept;
  LearnerNDCore& operator=(LearnerNDCore&&) noexcept;
  LearnerNDCore(const LearnerNDCore&) = delete;
  LearnerNDCore& operator=(const LearnerNDCore&) = delete;

  std::optional<std::pair<std::vector<double>, double>> ask_one();
  Proposal<std::vector<double>> propose(std::size_t n, bool mark_pending);
  void tell(const std::vector<double>& x, std::span<const double> y);
  /// `ys` holds the values end to end, `vdim()` numbers each.
  void tell_many(const std::vector<std::vector<double>>& xs, std::span<const double> ys);
  void tell_pending(const std::vector<double>& x);
  void fail(const std::vector<double>& x);
  void remove_unfinished();

  [[nodiscard]] double loss() const;
  [[nodiscard]] double pending_loss() const;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] std::size_t pending_size() const noexcept;
  [[nodiscard]] std::size_t failed_size() const noexcept;
  [[nodiscard]] std::size_t dim() const noexcept;
  [[nodiscard]] std::size_t vdim() const noexcept;
  [[nodiscard]] bool bounds_are_done() const noexcept;
  /// Built from the flat storage when asked for (hence not noexcept), into a
  /// cache this const call extends: like the other calls, not for two
  /// threads at once.
  [[nodiscard]] const std::vector<std::vector<double>>& told_points() const;
  [[nodiscard]] std::span<const double> told_value(std::size_t i) const;
  /// The pending points, in the order they became pending.
  [[nodiscard]] std::vector<std::vector<double>> pending_points() const;
  [[nodiscard]] std::optional<std::vector<double>> interpolate(const std::vector<double>& x) const;
  [[nodiscard]] std::size_t simplex_count() const;

  [[nodiscard]] nlohmann::json save() const;
  void load(const nlohmann::json& state);
  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "LearnerND";
  static constexpr int state_version = 1;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace detail

/// Learns a function on a box of any dimension (2 and up), sampling densely
/// where the function varies most (python-adaptive's LearnerND, incremental).
///
/// Inputs are `std::vector<double>` of length `dim`; `Y` is `double` or
/// `std::vector<double>`. The box's 2^dim corners are asked first. Pending
/// points are inserted into the triangulation with values interpolated
/// inside their simplex, so a batch spreads out; values without a finite
/// value (NaN, inf, failed points) count as flat. Losses see the points in
/// unit-cube coordinates and the values divided by their peak-to-peak range;
/// when that range grows by more than 10% every loss is recomputed, as in
/// the original. `save()`/`load()` replay the changes, so a loaded learner
/// asks the same points next (python-adaptive cannot reload a LearnerND,
/// its issue #461).
///
/// @code
/// taskmaster::LearnerND<double> learner({{-1, 1}, {-1, 1}, {-1, 1}});
/// auto sphere = [](const std::vector<double>& p) {
///   return std::tanh(10 * (std::hypot(p[0], p[1], p[2]) - 0.5));
/// };
/// taskmaster::evaluate(taskmaster::SerialMaster<std::vector<double>, double>(sphere), learner,
///                      taskmaster::stop::points(2000));
/// @endcode
template <class Y = double>
class LearnerND : public MeshLearner<detail::LearnerNDCore, Y> {
  using Base = MeshLearner<detail::LearnerNDCore, Y>;

 public:
  /// `bounds[i] = {min, max}` along dimension i.
  explicit LearnerND(std::vector<std::array<double, 2>> bounds,
                     SimplexLoss loss = losses_nd::default_loss(),
                     std::size_t vdim = Base::scalar ? 1 : 0)
      : Base(detail::LearnerNDCore(std::move(bounds), std::move(loss), Base::scalar ? 1 : vdim)) {}

  [[nodiscard]] std::size_t dim() const noexcept { return this->core_.dim(); }
  /// Number of simplices of the told data's triangulation.
  [[nodiscard]] std::size_t simplex_count() const { return this->core_.simplex_count(); }
};

}  // namespace taskmaster
