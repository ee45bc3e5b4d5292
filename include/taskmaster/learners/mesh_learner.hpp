#pragma once
// What Learner2D and LearnerND share: a learner over a Delaunay
// triangulation whose core works on flat arrays of doubles (one core per
// dimension family, compiled once in the library), under a typed front that
// turns a user's `double` or `std::vector<double>` values into those arrays.
// The two differ only in their point type, their domain and a few extras
// (Learner2D's grid and triangles, LearnerND's dimension), which each adds
// on top of this class.

#include <cmath>
#include <concepts>
#include <cstddef>
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
#include "taskmaster/learners/proposal.hpp"

namespace taskmaster {

namespace detail {

/// The interface of a triangulation learner's core: points of `point_type`,
/// values as spans of `vdim()` doubles (`tell_many` takes them end to end),
/// pending and failed points, losses, interpolation and a saved state of
/// kind `state_kind`. Learner2DCore and LearnerNDCore model it.
template <class Core>
concept MeshLearnerCore = std::move_constructible<Core> &&
    requires(Core& core, const Core& view, const typename Core::point_type& x,
             const std::vector<typename Core::point_type>& xs, std::span<const double> y,
             const nlohmann::json& state) {
  { core.ask_one() } -> std::same_as<std::optional<std::pair<typename Core::point_type, double>>>;
  { core.propose(std::size_t{1}, true) } -> std::same_as<Proposal<typename Core::point_type>>;
  core.tell(x, y);
  core.tell_many(xs, y);
  core.tell_pending(x);
  core.fail(x);
  core.remove_unfinished();
  { view.loss() } -> std::same_as<double>;
  { view.pending_loss() } -> std::same_as<double>;
  { view.size() } -> std::same_as<std::size_t>;
  { view.pending_size() } -> std::same_as<std::size_t>;
  { view.failed_size() } -> std::same_as<std::size_t>;
  { view.vdim() } -> std::same_as<std::size_t>;
  { view.bounds_are_done() } -> std::same_as<bool>;
  { view.told_points() } -> std::same_as<const std::vector<typename Core::point_type>&>;
  { view.told_value(std::size_t{0}) } -> std::same_as<std::span<const double>>;
  { view.pending_points() } -> std::same_as<std::vector<typename Core::point_type>>;
  { view.interpolate(x) } -> std::same_as<std::optional<std::vector<double>>>;
  { view.save() } -> std::same_as<nlohmann::json>;
  core.load(state);
  { Core::state_kind } -> std::convertible_to<std::string_view>;
  { Core::state_version } -> std::convertible_to<int>;
};

}  // namespace detail

/// The typed learner over a triangulation core: asks, tells (one point or a
/// batch), pending and failed points, losses, the told data, interpolation
/// and save/load, for outputs `double` or `std::vector<double>`. Learner2D
/// and LearnerND are this class with their own constructors and extras; use
/// those.
template <detail::MeshLearnerCore Core, class Y>
class MeshLearner {
  static_assert(std::is_same_v<Y, double> || std::is_same_v<Y, std::vector<double>>,
                "mesh learners' outputs are double or std::vector<double>");

 protected:
  static constexpr bool scalar = std::is_same_v<Y, double>;

  explicit MeshLearner(Core core) : core_(std::move(core)) {}

 public:
  using input_type = typename Core::point_type;
  using output_type = Y;

  std::optional<input_type> ask(Entropy = 0) {
    auto next = core_.ask_one();
    if (!next) return std::nullopt;
    return std::move(next->first);
  }
  std::vector<input_type> ask(std::size_t n, Entropy) { return core_.propose(n, true).points; }
  /// Up to n points and the loss each is expected to remove; `mark_pending =
  /// false` leaves the learner unchanged.
  Proposal<input_type> propose(std::size_t n, bool mark_pending = true) {
    return core_.propose(n, mark_pending);
  }

  void tell(const input_type& x, const Y& y) { core_.tell(x, as_span(y)); }
  /// Tells a batch at once (cheaper than one by one where the core can
  /// update its losses together); the values must all have one length.
  void tell_many(const std::vector<input_type>& xs, const std::vector<Y>& ys) {
    if (xs.size() != ys.size()) {
      throw std::invalid_argument(fmt::format("{}::tell_many: {} points but {} values",
                                              Core::state_kind, xs.size(), ys.size()));
    }
    if constexpr (scalar) {
      core_.tell_many(xs, ys);
    } else {
      std::vector<double> flat;
      for (const auto& y : ys) flat.insert(flat.end(), y.begin(), y.end());
      if (!ys.empty() && flat.size() != ys.size() * ys.front().size()) {
        throw std::invalid_argument(
            fmt::format("{}::tell_many: values of different lengths", Core::state_kind));
      }
      if (!ys.empty() && core_.vdim() != 0 && ys.front().size() != core_.vdim()) {
        throw std::invalid_argument(
            fmt::format("{}::tell_many: values have {} components, expected {}", Core::state_kind,
                        ys.front().size(), core_.vdim()));
      }
      core_.tell_many(xs, flat);
    }
  }
  void tell_pending(const input_type& x) { core_.tell_pending(x); }
  void fail(const input_type& x) { core_.fail(x); }
  void remove_unfinished() { core_.remove_unfinished(); }

  /// The largest loss of the told data's simplices (inf until the domain's
  /// corners are known).
  [[nodiscard]] double loss() const { return core_.loss(); }
  /// The largest loss with pending points at their interpolated values.
  [[nodiscard]] double pending_loss() const { return core_.pending_loss(); }
  /// Number of told points.
  [[nodiscard]] std::size_t size() const noexcept { return core_.size(); }
  [[nodiscard]] std::size_t pending_size() const noexcept { return core_.pending_size(); }
  /// Number of points that failed (they count as points without a value).
  [[nodiscard]] std::size_t failed_size() const noexcept { return core_.failed_size(); }
  [[nodiscard]] std::size_t vdim() const noexcept { return core_.vdim(); }
  [[nodiscard]] bool bounds_are_done() const noexcept { return core_.bounds_are_done(); }

  /// The told points in the order they were first told, and their values.
  [[nodiscard]] const std::vector<input_type>& points() const
      noexcept(noexcept(std::declval<const Core&>().told_points())) {
    return core_.told_points();
  }
  [[nodiscard]] Y value(std::size_t i) const { return from_span(core_.told_value(i)); }
  /// The pending points, in the order they were asked.
  [[nodiscard]] std::vector<input_type> pending_points() const { return core_.pending_points(); }

  /// Linear interpolation of the told data; nullopt outside their convex
  /// hull (the whole domain once its corners are known).
  [[nodiscard]] std::optional<Y> interpolate(const input_type& x) const {
    auto v = core_.interpolate(x);
    if (!v) return std::nullopt;
    return from_span(*v);
  }

  [[nodiscard]] nlohmann::json save() const { return core_.save(); }
  /// Replays a saved state into this learner, which must be new and built
  /// with the same parameters (else StateError).
  void load(const nlohmann::json& state) { core_.load(state); }
  static constexpr std::string_view state_kind = Core::state_kind;
  static constexpr int state_version = Core::state_version;

 protected:
  Core core_;

 private:
  static std::span<const double> as_span(const Y& y) {
    if constexpr (scalar) {
      return {&y, 1};
    } else {
      return {y.data(), y.size()};
    }
  }
  static Y from_span(std::span<const double> v) {
    if constexpr (scalar) {
      return v.empty() ? std::nan("") : v[0];
    } else {
      return Y(v.begin(), v.end());
    }
  }
};

}  // namespace taskmaster
