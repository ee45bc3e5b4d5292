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
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

namespace detail {

/// LearnerND without the output type: values are `vdim` doubles. The CGAL
/// triangulation lives in src/learners/learner_nd_core.cpp.
class LearnerNDCore {
 public:
  LearnerNDCore(std::vector<std::array<double, 2>> bounds, SimplexLoss loss, std::size_t vdim);
  ~LearnerNDCore();
  LearnerNDCore(LearnerNDCore&&) noexcept;
  LearnerNDCore& operator=(LearnerNDCore&&) noexcept;
  LearnerNDCore(const LearnerNDCore&) = delete;
  LearnerNDCore& operator=(const LearnerNDCore&) = delete;

  std::optional<std::pair<std::vector<double>, double>> ask_one();
  Proposal<std::vector<double>> propose(std::size_t n, bool mark_pending);
  void tell(const std::vector<double>& x, std::span<const double> y);
  void tell_pending(const std::vector<double>& x);
  void fail(const std::vector<double>& x);
  void remove_unfinished();

  [[nodiscard]] double loss() const;
  [[nodiscard]] double pending_loss() const;
  [[nodiscard]] std::size_t size() const noexcept;
  [[nodiscard]] std::size_t pending_size() const noexcept;
  [[nodiscard]] std::size_t dim() const noexcept;
  [[nodiscard]] std::size_t vdim() const noexcept;
  [[nodiscard]] bool bounds_are_done() const noexcept;
  /// Built from the flat storage when asked for (hence not noexcept).
  [[nodiscard]] const std::vector<std::vector<double>>& told_points() const;
  [[nodiscard]] std::span<const double> told_value(std::size_t i) const;
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
class LearnerND {
  static_assert(std::is_same_v<Y, double> || std::is_same_v<Y, std::vector<double>>,
                "LearnerND outputs are double or std::vector<double>");
  static constexpr bool scalar = std::is_same_v<Y, double>;

 public:
  using input_type = std::vector<double>;
  using output_type = Y;

  /// `bounds[i] = {min, max}` along dimension i.
  explicit LearnerND(std::vector<std::array<double, 2>> bounds,
                     SimplexLoss loss = losses_nd::default_loss(),
                     std::size_t vdim = scalar ? 1 : 0)
      : core_(std::move(bounds), std::move(loss), scalar ? 1 : vdim) {}

  std::optional<input_type> ask(Entropy = 0) {
    auto next = core_.ask_one();
    if (!next) return std::nullopt;
    return std::move(next->first);
  }
  std::vector<input_type> ask(std::size_t n, Entropy) { return core_.propose(n, true).points; }
  /// Up to n points and their expected loss improvements; `mark_pending =
  /// false` leaves the learner unchanged.
  Proposal<input_type> propose(std::size_t n, bool mark_pending = true) {
    return core_.propose(n, mark_pending);
  }

  void tell(const input_type& x, const Y& y) {
    if constexpr (scalar) {
      core_.tell(x, std::span<const double>(&y, 1));
    } else {
      core_.tell(x, std::span<const double>(y));
    }
  }
  void tell_many(const std::vector<input_type>& xs, const std::vector<Y>& ys) {
    if (xs.size() != ys.size()) {
      throw std::invalid_argument(
          fmt::format("LearnerND::tell_many: {} points but {} values", xs.size(), ys.size()));
    }
    for (std::size_t i = 0; i < xs.size(); ++i) tell(xs[i], ys[i]);
  }
  void tell_pending(const input_type& x) { core_.tell_pending(x); }
  void fail(const input_type& x) { core_.fail(x); }
  void remove_unfinished() { core_.remove_unfinished(); }

  /// The largest simplex loss of the told data (inf until the corners are known).
  [[nodiscard]] double loss() const { return core_.loss(); }
  /// The largest loss with pending points at their interpolated values.
  [[nodiscard]] double pending_loss() const { return core_.pending_loss(); }
  [[nodiscard]] std::size_t size() const noexcept { return core_.size(); }
  [[nodiscard]] std::size_t pending_size() const noexcept { return core_.pending_size(); }
  [[nodiscard]] std::size_t dim() const noexcept { return core_.dim(); }
  [[nodiscard]] std::size_t vdim() const noexcept { return core_.vdim(); }
  [[nodiscard]] bool bounds_are_done() const noexcept { return core_.bounds_are_done(); }
  [[nodiscard]] const std::vector<input_type>& points() const { return core_.told_points(); }
  [[nodiscard]] Y value(std::size_t i) const { return from_span(core_.told_value(i)); }
  /// Linear interpolation of the told data; nullopt outside their hull.
  [[nodiscard]] std::optional<Y> interpolate(const input_type& x) const {
    auto v = core_.interpolate(x);
    if (!v) return std::nullopt;
    return from_span(*v);
  }
  /// Number of simplices of the told data's triangulation.
  [[nodiscard]] std::size_t simplex_count() const { return core_.simplex_count(); }

  [[nodiscard]] nlohmann::json save() const { return core_.save(); }
  /// Replays a saved state into this learner, which must be new and built
  /// with the same bounds and loss (else StateError).
  void load(const nlohmann::json& state) { core_.load(state); }
  static constexpr std::string_view state_kind = detail::LearnerNDCore::state_kind;
  static constexpr int state_version = detail::LearnerNDCore::state_version;

 private:
  static Y from_span(std::span<const double> v) {
    if constexpr (scalar) {
      return v.empty() ? std::nan("") : v[0];
    } else {
      return Y(v.begin(), v.end());
    }
  }

  detail::LearnerNDCore core_;
};

}  // namespace taskmaster
