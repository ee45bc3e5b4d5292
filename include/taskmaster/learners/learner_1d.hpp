#pragma once
// Learner1D: adaptive sampling of a function of one real variable.
//
// A native port of python-adaptive's Learner1D (learner1D.py, v1.5.2): the
// same losses, scaling, pending-point bookkeeping and greedy distribution of
// batches, with the same tie-breaking (losses rounded to 12 digits, ties to
// the interval further left), so that it asks the very same points. The
// data structures differ: intervals live in the node of their left end and
// their losses in two indexed heaps updated in place, so that each point costs
// O(log N) with small constants.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <memory_resource>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/learners/interval_queue.hpp"
#include "taskmaster/learners/large_pages.hpp"
#include "taskmaster/learners/learner_1d_losses.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

namespace detail {

/// How Learner1D reads the components of an output value.
template <class Y>
struct Components;

template <>
struct Components<double> {
  static constexpr std::size_t fixed = 1;
  static std::size_t count(const double&) { return 1; }
  static const double* data(const double& y) { return &y; }
};

template <std::size_t N>
struct Components<std::array<double, N>> {
  static constexpr std::size_t fixed = N;
  static std::size_t count(const std::array<double, N>&) { return N; }
  static const double* data(const std::array<double, N>& y) { return y.data(); }
};

template <>
struct Components<std::vector<double>> {
  static constexpr std::size_t fixed = 0;  // known from the first value told
  static std::size_t count(const std::vector<double>& y) { return y.size(); }
  static const double* data(const std::vector<double>& y) { return y.data(); }
};

/// python-adaptive's finite_loss: an infinite or NaN loss becomes the
/// interval's scaled length (divided by the number of sub-intervals), and
/// losses are rounded to 12 digits so that near-equal losses tie.
inline double finite_loss(double loss, double x_left, double x_right, double x_scale,
                          double parts = 1.0) {
  if (std::isinf(loss) || std::isnan(loss)) loss = (x_right - x_left) / x_scale / parts;
  return std::trunc(loss * 1e12 + 0.5) / 1e12;
}

}  // namespace detail

/// Learns a function f: [a, b] -> R (Y = double) or R^n (Y = std::array<double, n>
/// or std::vector<double>), placing points where the loss of the linear
/// interpolation between neighbours is largest.
///
/// @code
/// taskmaster::Learner1D<double> learner(-1.0, 1.0);  // default loss: distance
/// auto peak = [](double x) { return x + 1e-4 / (1e-4 + x * x); };
/// taskmaster::evaluate(peak, learner, taskmaster::stop::loss_below(0.01));
/// for (const auto& [x, y] : learner.data()) fmt::print("{} {}\n", x, y);
/// @endcode
template <class Y = double>
class Learner1D {
  using Traits = detail::Components<Y>;

 public:
  using input_type = double;
  using output_type = Y;

  /// Learns on [a, b] with the given interval loss (python-adaptive's
  /// default_loss unless told otherwise).
  Learner1D(double a, double b, IntervalLoss loss = losses_1d::distance())
      : a_(a), b_(b), loss_(std::move(loss)), components_(Traits::fixed) {
    if (!std::isfinite(a) || !std::isfinite(b)) {
      throw std::invalid_argument(
          fmt::format("Learner1D: bounds must be finite, got [{}, {}]", a, b));
    }
    if (!(a < b)) {
      throw std::invalid_argument(fmt::format(
          "Learner1D: the lower bound must be below the upper bound, got [{}, {}]", a, b));
    }
    if (!loss_.evaluate) throw std::invalid_argument("Learner1D: the loss function is empty");
    x_scale_ = b - a;
    dx_eps_ = 2.0 * std::max(std::fabs(a), std::fabs(b)) * std::numeric_limits<double>::epsilon();
  }

  // --- asking ---------------------------------------------------------------

  std::optional<double> ask(Entropy) {
    const bool bounds_known =
        !index_.empty() && index_.begin()->first == a_ && std::prev(index_.end())->first == b_;
    if (!bounds_known) return propose(1).points.front();
    // What propose(1) does once both bounds are known, without building a
    // Proposal: no allocation on the path every point of a sequential run takes.
    const auto& top = combined_.interval(combined_.top());
    const double x = top.x_left + (top.x_right - top.x_left) / 2.0;
    tell_pending(x);
    restore_taken();
    return x;
  }
  std::vector<double> ask(std::size_t n, Entropy) { return propose(n).points; }

  /// Proposes `n` points and the loss improvement expected from each, as
  /// python-adaptive's `ask(n, tell_pending)`. With `mark_pending` the points
  /// are recorded as pending; without it the learner is left unchanged.
  Proposal<double> propose(std::size_t n, bool mark_pending = true) {
    Proposal<double> out;
    if (n == 0) return out;
    const std::vector<double> missing = missing_bounds();
    const double inf = std::numeric_limits<double>::infinity();
    if (missing.size() >= n) {
      out.points.assign(missing.begin(), missing.begin() + static_cast<std::ptrdiff_t>(n));
      out.loss_improvements.assign(n, inf);
    } else if (index_.empty()) {
      // Nothing known yet: n evenly spaced points, bounds included.
      const double step = (b_ - a_) / static_cast<double>(n - 1);
      for (std::size_t i = 0; i < n; ++i) {
        out.points.push_back(i + 1 == n ? b_ : a_ + static_cast<double>(i) * step);
      }
      out.loss_improvements.assign(n, inf);
    } else if (n == 1 && missing.empty()) {
      // The greedy rule below, for one point: halve the top interval.
      const auto& top = combined_.interval(combined_.top());
      const double loss = slab_[combined_.top()].loss_combined;
      out.points.push_back(top.x_left + (top.x_right - top.x_left) / 2.0);
      out.loss_improvements.push_back(loss / 2);
    } else {
      distribute(n, missing, out);
    }
    if (mark_pending) {
      for (double x : out.points) tell_pending(x);
      restore_taken();
    } else {
      restore_taken();
    }
    return out;
  }

  // --- telling --------------------------------------------------------------

  /// Feeds back f(x). A point told twice keeps its first value; a point
  /// outside the bounds is stored (it is in `data()`) but not used.
  void tell(const double& x, const Y& y) {
    check_input(x, y);
    if (is_known(x)) return;
    if (x < a_ || x > b_) {
      outside_.emplace(x, y);
      return;
    }
    auto [it, inserted] = index_.try_emplace(x, 0);
    if (inserted) it->second = allocate(it);
    Node& node = slab_[it->second];
    if (node.state == State::pending) --pending_count_;
    if (node.state == State::failed) --failed_count_;
    node.state = State::real;
    node.y = y;
    ++real_count_;
    update_y_scale(y);
    update_losses_after_tell(it);
    if (y_scale_ > recompute_factor * old_y_scale_) {
      recompute_all_losses();
      old_y_scale_ = y_scale_;
    }
  }

  /// Replaces the value of an evaluated point (an average that got another
  /// sample) and updates the losses around it; `extent` (the new sample)
  /// widens the y scale as a told value would.
  void update_value(double x, const Y& value, const Y& extent) {
    auto it = index_.find(x);
    if (it == index_.end() || slab_[it->second].state != State::real) {
      throw std::invalid_argument(fmt::format("Learner1D::update_value: {} was never told", x));
    }
    check_input(x, value);
    slab_[it->second].y = value;
    update_y_scale(extent);
    update_losses_after_tell(it);
    if (y_scale_ > recompute_factor * old_y_scale_) {
      recompute_all_losses();
      old_y_scale_ = y_scale_;
    }
  }

  /// The losses of the intervals on each side of x, counting pending points
  /// (infinite where there is no such interval).
  [[nodiscard]] std::pair<double, double> losses_around(double x) const {
    const double inf = std::numeric_limits<double>::infinity();
    auto it = index_.find(x);
    if (it == index_.end()) return {inf, inf};
    const double left = it == index_.begin() ? inf : slab_[std::prev(it)->second].loss_combined;
    const double right = std::next(it) == index_.end() ? inf : slab_[it->second].loss_combined;
    return {left, right};
  }

  /// Tells many results at once. When they are many compared with what is
  /// known (as python-adaptive decides: more than half as many as known, and
  /// more than two), the structure is rebuilt in one pass instead.
  void tell_many(const std::vector<double>& xs, const std::vector<Y>& ys, bool force = false) {
    if (xs.size() != ys.size()) {
      throw std::invalid_argument(
          fmt::format("Learner1D::tell_many: {} inputs but {} outputs", xs.size(), ys.size()));
    }
    const double known = static_cast<double>(size());
    if (!force && !(static_cast<double>(xs.size()) > 0.5 * known && xs.size() > 2)) {
      for (std::size_t i = 0; i < xs.size(); ++i) tell(xs[i], ys[i]);
      return;
    }
    // Every value is checked before anything changes, so bad input leaves
    // the learner as it was.
    for (std::size_t i = 0; i < xs.size(); ++i) check_input(xs[i], ys[i]);
    // In increasing x (of equal xs the first, which is the one kept), so each
    // point goes into the index right after the previous one, found in
    // constant time from the hint and close to it in memory.
    std::vector<std::uint32_t> order(xs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::uint32_t l, std::uint32_t r) { return xs[l] < xs[r]; });
    // Growing the arrays once: each doubling would copy them into freshly
    // faulted pages.
    const std::size_t expected = index_.size() + xs.size();
    slab_.reserve(expected);
    real_.reserve(expected);
    combined_.reserve(expected);
    Iter hint = index_.begin();
    for (std::uint32_t i : order) {
      const double x = xs[i];
      if (x < a_ || x > b_) {
        outside_.emplace(x, ys[i]);  // keeps an earlier value
        continue;
      }
      const std::size_t known = index_.size();
      Iter it = index_.try_emplace(hint, x, 0);
      hint = std::next(it);
      if (index_.size() != known) it->second = allocate(it);
      Node& node = slab_[it->second];
      if (node.state == State::real) continue;
      if (node.state == State::pending) --pending_count_;
      if (node.state == State::failed) --failed_count_;
      node.state = State::real;
      node.y = ys[i];
      ++real_count_;
    }
    rebuild();
  }

  /// Records that x is being evaluated: it splits its interval, which shares
  /// its loss between the two parts in proportion to their lengths.
  void tell_pending(double x) {
    if (std::isnan(x)) throw std::invalid_argument("Learner1D::tell_pending: x is NaN");
    if (x < a_ || x > b_) return;
    auto [it, inserted] = index_.try_emplace(x, 0);
    if (inserted) {
      it->second = allocate(it);
    } else if (slab_[it->second].state == State::real) {
      return;
    }
    Node& node = slab_[it->second];
    if (node.state == State::failed) --failed_count_;
    if (node.state != State::pending) ++pending_count_;
    node.state = State::pending;
    update_losses_after_pending(it);
  }

  /// x will never get a value: it stops being pending. It stays a divider
  /// of its interval, so the learner refines around it instead of asking for
  /// it again.
  void fail(const double& x) {
    auto it = index_.find(x);
    if (it == index_.end() || slab_[it->second].state != State::pending) return;
    slab_[it->second].state = State::failed;
    --pending_count_;
    ++failed_count_;
  }

  /// Takes back a pending mark, as if x had never been asked.
  void forget_pending(const double& x) {
    auto it = index_.find(x);
    if (it == index_.end() || slab_[it->second].state != State::pending) return;
    const bool has_a = it != index_.begin();
    Iter b = std::next(it);
    Iter a = has_a ? std::prev(it) : index_.end();
    release(it->second);
    index_.erase(it);
    --pending_count_;
    if (!has_a) return;
    if (b == index_.end()) {
      combined_.erase(a->second);  // a is now the last point: no interval
      return;
    }
    Iter left = is_real(a) ? a : prev_real(a);
    Iter right = is_real(b) ? b : next_real(b);
    if (left == index_.end() || right == index_.end()) {
      set_combined_loss(a->second, std::numeric_limits<double>::infinity(), b->first);
    } else {
      const double dx = right->first - left->first;
      set_combined_loss(a->second, (b->first - a->first) * slab_[left->second].loss_real / dx,
                        b->first);
    }
  }

  /// Forgets every pending point.
  void remove_unfinished() {
    for (auto it = index_.begin(); it != index_.end();) {
      if (slab_[it->second].state == State::pending) {
        release(it->second);
        it = index_.erase(it);
      } else {
        ++it;
      }
    }
    pending_count_ = 0;
    rebuild_combined();
  }

  // --- reading --------------------------------------------------------------

  /// The largest loss over the intervals between evaluated points (infinite
  /// while a bound is neither evaluated nor pending).
  [[nodiscard]] double loss() const { return top_loss(real_, &Node::loss_real); }
  /// The largest loss counting pending points as dividers.
  [[nodiscard]] double pending_loss() const { return top_loss(combined_, &Node::loss_combined); }

  /// Number of evaluated points (also those outside the bounds).
  [[nodiscard]] std::size_t size() const noexcept { return real_count_ + outside_.size(); }
  [[nodiscard]] std::size_t pending_count() const noexcept { return pending_count_; }
  [[nodiscard]] double lower_bound() const noexcept { return a_; }
  [[nodiscard]] double upper_bound() const noexcept { return b_; }
  /// Components of each output (1 for scalars; 0 until a vector is told).
  [[nodiscard]] std::size_t components() const noexcept { return components_; }
  [[nodiscard]] const IntervalLoss& loss_function() const noexcept { return loss_; }

  /// Every evaluated point with its value, in increasing x.
  [[nodiscard]] std::vector<std::pair<double, Y>> data() const {
    std::vector<std::pair<double, Y>> out;
    out.reserve(size());
    auto outside = outside_.begin();
    for (const auto& [x, slot] : index_) {
      while (outside != outside_.end() && outside->first < x) out.push_back(*outside++);
      if (slab_[slot].state == State::real) out.emplace_back(x, slab_[slot].y);
    }
    while (outside != outside_.end()) out.push_back(*outside++);
    return out;
  }
  [[nodiscard]] std::vector<double> pending_points() const { return points_in(State::pending); }
  [[nodiscard]] std::vector<double> failed_points() const { return points_in(State::failed); }

  /// The state as JSON: bounds, data, failed points and what python-adaptive
  /// keeps in its pickles (the losses and the scale they were computed at),
  /// so that `load` into a learner with the same bounds and loss gives the
  /// same future asks.
  [[nodiscard]] nlohmann::json save() const {
    std::vector<std::pair<double, double>> losses;
    for (const auto& [x, slot] : index_) {
      if (slab_[slot].state == State::real) losses.emplace_back(x, slab_[slot].loss_real);
    }
    return seal_state(state_kind, state_version,
                      {{"loss", loss_.name},
                       {"bounds", saved_value(std::array<double, 2>{a_, b_})},
                       {"data", saved_value(data())},
                       {"failed", saved_value(failed_points())},
                       {"y_scale_at_last_recompute", saved_number(old_y_scale_)},
                       // The y range may reach beyond the values in `data`
                       // (AverageLearner1D widens it with single samples
                       // around their averages).
                       {"y_low", saved_value(y_low_)},
                       {"y_high", saved_value(y_high_)},
                       {"losses", saved_value(losses)}});
  }

  /// Loads what `save` wrote into this new learner (else StateError).
  void load(const nlohmann::json& state) {
    load_state(state, state_kind, state_version, index_.empty() && outside_.empty(),
               [this](const nlohmann::json& saved, int) { load_payload(saved); });
  }

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "Learner1D";
  static constexpr int state_version = 1;

  /// When the y scale grows past this factor since the losses were last
  /// computed, all of them are recomputed (python-adaptive's value).
  static constexpr double recompute_factor = 2.0;

 private:
  void load_payload(const nlohmann::json& state) {
    const auto bounds = decode<std::array<double, 2>>(state.at("bounds"));
    if (bounds[0] != a_ || bounds[1] != b_) {
      throw std::invalid_argument(
          fmt::format("saved bounds [{}, {}] differ from this learner's [{}, {}]", bounds[0],
                      bounds[1], a_, b_));
    }
    const auto data = decode<std::vector<std::pair<double, Y>>>(state.at("data"));
    std::vector<double> xs;
    std::vector<Y> ys;
    for (const auto& [x, y] : data) {
      xs.push_back(x);
      ys.push_back(y);
    }
    tell_many(xs, ys, true);
    for (double x : decode<std::vector<double>>(state.at("failed"))) {
      tell_pending(x);
      fail(x);
    }
    old_y_scale_ = read_saved_number(state.at("y_scale_at_last_recompute"));
    if (state.contains("y_low") && state.contains("y_high")) {
      auto low = decode<std::vector<double>>(state.at("y_low"));
      auto high = decode<std::vector<double>>(state.at("y_high"));
      if (!low.empty() && low.size() == components_ && high.size() == components_) {
        y_low_ = std::move(low);
        y_high_ = std::move(high);
        y_scale_ = scale_of_range();
      }
    }
    for (const auto& [x, loss] :
         decode<std::vector<std::pair<double, double>>>(state.at("losses"))) {
      auto it = index_.find(x);
      auto next = next_real(it);
      if (it == index_.end() || next == index_.end()) continue;
      set_real_loss(it->second, loss, next->first);
    }
    rebuild_combined();
  }

  enum class State : std::uint8_t { free, real, pending, failed };
  using Index = std::pmr::map<double, std::uint32_t>;
  using Iter = typename Index::iterator;

  struct Node {
    Iter it;
    Y y{};
    double loss_real = 0.0;      // loss of [x, next evaluated point]
    double loss_combined = 0.0;  // loss of [x, next point of any kind]
    State state = State::free;
  };

  /// A group of k - 1 new points spread evenly over [x_left, x_right] while
  /// a batch is distributed (python-adaptive's "quals").
  struct Qual {
    double key;
    double x_left;
    double x_right;
    std::size_t parts;
    double loss;
    bool operator<(const Qual& o) const {
      if (key != o.key) return key > o.key;
      if (x_left != o.x_left) return x_left < o.x_left;
      if (x_right != o.x_right) return x_right < o.x_right;
      return parts < o.parts;
    }
  };

  // --- validation -------------------------------------------------------------

  void check_input(double x, const Y& y) {
    if (std::isnan(x)) throw std::invalid_argument("Learner1D::tell: x is NaN");
    const std::size_t n = Traits::count(y);
    if (components_ == 0) {
      if (n == 0) throw std::invalid_argument(fmt::format("Learner1D::tell: empty y at x = {}", x));
      components_ = n;
    } else if (n != components_) {
      throw std::invalid_argument(
          fmt::format("Learner1D::tell: y at x = {} has {} components, but earlier values had {}",
                      x, n, components_));
    }
  }

  bool is_known(double x) const {
    auto it = index_.find(x);
    if (it != index_.end()) return slab_[it->second].state == State::real;
    return outside_.count(x) > 0;
  }

  // --- nodes ----------------------------------------------------------------

  std::uint32_t allocate(Iter it) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slab_.size());
      slab_.emplace_back();
    }
    Node& node = slab_[slot];
    node.it = it;
    node.y = Y{};
    return slot;
  }

  void release(std::uint32_t slot) {
    Node& node = slab_[slot];
    node.state = State::free;
    real_.erase(slot);
    combined_.erase(slot);
    free_.push_back(slot);
  }

  bool is_real(Iter it) const { return slab_[it->second].state == State::real; }

  Iter prev_real(Iter it) {
    while (it != index_.begin()) {
      --it;
      if (is_real(it)) return it;
    }
    return index_.end();
  }
  Iter next_real(Iter it) {
    if (it == index_.end()) return it;
    for (++it; it != index_.end(); ++it) {
      if (is_real(it)) return it;
    }
    return it;
  }

  std::vector<double> points_in(State state) const {
    std::vector<double> out;
    for (const auto& [x, slot] : index_) {
      if (slab_[slot].state == state) out.push_back(x);
    }
    return out;
  }

  /// The bounds neither evaluated, pending nor failed, in increasing order.
  std::vector<double> missing_bounds() const {
    if (!index_.empty() && index_.begin()->first == a_ && std::prev(index_.end())->first == b_) {
      return {};
    }
    std::vector<double> missing;
    for (double bound : {a_, b_}) {
      if (index_.find(bound) == index_.end()) missing.push_back(bound);
    }
    return missing;
  }

  // --- losses ---------------------------------------------------------------

  void set_real_loss(std::uint32_t slot, double loss, double x_right) {
    Node& node = slab_[slot];
    node.loss_real = loss;
    const double x = node.it->first;
    file(real_, slot, {detail::finite_loss(loss, x, x_right, x_scale_), x, x_right});
  }
  void set_combined_loss(std::uint32_t slot, double loss, double x_right) {
    Node& node = slab_[slot];
    node.loss_combined = loss;
    const double x = node.it->first;
    file(combined_, slot, {detail::finite_loss(loss, x, x_right, x_scale_), x, x_right});
  }

  // While every loss is recomputed (`rebuilding_`), the queues are filled in
  // any order and put in heap order once at the end.
  void file(detail::IntervalQueue& queue, std::uint32_t slot,
            const detail::IntervalQueue::Interval& interval) {
    if (rebuilding_) {
      queue.set_unordered(slot, interval);
    } else {
      queue.set(slot, interval);
    }
  }
  void unfile(detail::IntervalQueue& queue, std::uint32_t slot) {
    if (rebuilding_) {
      queue.erase_unordered(slot);
    } else {
      queue.erase(slot);
    }
  }
  void begin_rebuilding() { rebuilding_ = true; }
  void end_rebuilding() {
    rebuilding_ = false;
    real_.heapify();
    combined_.heapify();
  }

  double top_loss(const detail::IntervalQueue& queue, double Node::*loss) const {
    const bool bounds_known =
        !index_.empty() && index_.begin()->first == a_ && std::prev(index_.end())->first == b_;
    if (!bounds_known || queue.empty()) return std::numeric_limits<double>::infinity();
    return slab_[queue.top()].*loss;
  }

  /// The loss of the interval between two consecutive evaluated points,
  /// computed by the loss function on its scaled neighbourhood.
  double interval_loss(Iter left, Iter right) {
    if (right->first - left->first < dx_eps_) return 0.0;
    const std::size_t nn = loss_.nth_neighbors;
    const std::size_t points = 2 * nn + 2;
    const std::size_t c = components_ == 0 ? 1 : components_;
    scratch_x_.assign(points, 0.0);
    scratch_y_.assign(points * c, 0.0);
    scratch_present_.assign(points, 0);
    const double y_scale = y_scale_ == 0.0 ? 1.0 : y_scale_;
    auto put = [&](std::size_t i, Iter it) {
      scratch_x_[i] = it->first / x_scale_;
      const double* y = Traits::data(slab_[it->second].y);
      for (std::size_t k = 0; k < c; ++k) scratch_y_[i * c + k] = y[k] / y_scale;
      scratch_present_[i] = 1;
    };
    put(nn, left);
    put(nn + 1, right);
    Iter it = left;
    for (std::size_t i = nn; i-- > 0;) {
      it = prev_real(it);
      if (it == index_.end()) break;
      put(i, it);
    }
    it = right;
    for (std::size_t i = nn + 2; i < points; ++i) {
      it = next_real(it);
      if (it == index_.end()) break;
      put(i, it);
    }
    return loss_.evaluate(IntervalNeighborhood(nn, scratch_x_, scratch_y_, scratch_present_, c));
  }

  /// Recomputes the loss of the evaluated interval [left, right] and shares
  /// it among the pending sub-intervals inside it.
  void update_interval(Iter left, Iter right) {
    const double loss = interval_loss(left, right);
    set_real_loss(left->second, loss, right->first);
    const double dx = right->first - left->first;
    for (Iter a = left; a != right;) {
      Iter b = std::next(a);
      set_combined_loss(a->second, (b->first - a->first) * loss / dx, b->first);
      a = b;
    }
  }

  void update_losses_after_tell(Iter x) {
    const std::size_t nn = loss_.nth_neighbors;
    // The evaluated intervals whose loss may depend on x: nn + 1 on each side.
    std::vector<Iter>& around = scratch_iters_;
    around.clear();
    Iter it = x;
    for (std::size_t i = 0; i <= nn; ++i) {
      it = prev_real(it);
      if (it == index_.end()) break;
      around.push_back(it);
    }
    std::reverse(around.begin(), around.end());
    const bool has_left = !around.empty();
    around.push_back(x);
    it = x;
    bool has_right = false;
    for (std::size_t i = 0; i <= nn; ++i) {
      it = next_real(it);
      if (it == index_.end()) break;
      has_right = true;
      around.push_back(it);
    }
    for (std::size_t i = 0; i + 1 < around.size(); ++i) update_interval(around[i], around[i + 1]);
    if (!has_left && x != index_.begin()) {
      set_combined_loss(std::prev(x)->second, std::numeric_limits<double>::infinity(), x->first);
    }
    if (!has_right && std::next(x) != index_.end()) {
      set_combined_loss(x->second, std::numeric_limits<double>::infinity(), std::next(x)->first);
    }
    if (!has_right) real_.erase(x->second);  // the last evaluated point has no interval
  }

  void update_losses_after_pending(Iter x) {
    const double inf = std::numeric_limits<double>::infinity();
    Iter left = prev_real(x);
    Iter right = next_real(x);
    const bool inside = left != index_.end() && right != index_.end();
    const bool has_a = x != index_.begin();
    const bool has_b = std::next(x) != index_.end();
    if (inside) {
      const double loss = slab_[left->second].loss_real;
      const double dx = right->first - left->first;
      Iter a = std::prev(x);
      Iter b = std::next(x);
      set_combined_loss(a->second, (x->first - a->first) * loss / dx, x->first);
      set_combined_loss(x->second, (b->first - x->first) * loss / dx, b->first);
      return;
    }
    if (has_a) set_combined_loss(std::prev(x)->second, inf, x->first);
    if (has_b) set_combined_loss(x->second, inf, std::next(x)->first);
  }

  void update_y_scale(const Y& y) {
    const double* v = Traits::data(y);
    const std::size_t c = components_;
    if (c == 1) {
      if (y_low_.empty()) {
        y_low_.assign(1, std::numeric_limits<double>::infinity());
        y_high_.assign(1, -std::numeric_limits<double>::infinity());
      }
      // As Python's min and max with the old bound first: a NaN is ignored.
      if (v[0] < y_low_[0]) y_low_[0] = v[0];
      if (v[0] > y_high_[0]) y_high_[0] = v[0];
      y_scale_ = scale_of_range();
      return;
    }
    // Vectors: NaN-ignoring per component (numpy's nanmin/nanmax); the first
    // value sets the box as it is, NaNs included.
    if (y_low_.empty()) {
      y_low_.assign(v, v + c);
      y_high_.assign(v, v + c);
    } else {
      for (std::size_t k = 0; k < c; ++k) {
        if (std::isnan(y_low_[k]) || v[k] < y_low_[k])
          y_low_[k] = std::isnan(v[k]) ? y_low_[k] : v[k];
        if (std::isnan(y_high_[k]) || v[k] > y_high_[k])
          y_high_[k] = std::isnan(v[k]) ? y_high_[k] : v[k];
      }
    }
    y_scale_ = scale_of_range();
  }

  /// The largest extent of the y range over the components (NaN if one is NaN).
  [[nodiscard]] double scale_of_range() const {
    if (components_ == 1) return y_high_[0] - y_low_[0];
    double largest = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < components_; ++k) {
      const double range = y_high_[k] - y_low_[k];
      if (std::isnan(range)) return range;
      largest = std::max(largest, range);
    }
    return largest;
  }

  void recompute_all_losses() {
    Iter left = index_.end();
    for (Iter it = index_.begin(); it != index_.end(); ++it) {
      if (!is_real(it)) continue;
      if (left != index_.end()) update_interval(left, it);
      left = it;
    }
  }

  /// Recomputes the losses of the intervals between all points from those
  /// of the evaluated intervals.
  void rebuild_combined() {
    const bool nested = rebuilding_;
    if (!nested) begin_rebuilding();
    combined_.clear();
    const double inf = std::numeric_limits<double>::infinity();
    Iter first_real = index_.end();
    Iter last_real = index_.end();
    for (Iter it = index_.begin(); it != index_.end(); ++it) {
      if (!is_real(it)) continue;
      if (first_real == index_.end()) first_real = it;
      if (last_real != index_.end()) {
        const double loss = slab_[last_real->second].loss_real;
        const double dx = it->first - last_real->first;
        for (Iter a = last_real; a != it;) {
          Iter b = std::next(a);
          set_combined_loss(a->second, (b->first - a->first) * loss / dx, b->first);
          a = b;
        }
      }
      last_real = it;
    }
    for (Iter it = index_.begin(); it != index_.end() && std::next(it) != index_.end(); ++it) {
      const bool before = first_real == index_.end() || it->first < first_real->first;
      const bool after = last_real != index_.end() && !(it->first < last_real->first);
      if (before || after) set_combined_loss(it->second, inf, std::next(it)->first);
    }
    if (!index_.empty()) unfile(combined_, std::prev(index_.end())->second);
    if (!nested) end_rebuilding();
  }

  /// Rebuilds scales and all losses from the points (tell_many's fast path).
  void rebuild() {
    begin_rebuilding();
    y_low_.clear();
    y_high_.clear();
    y_scale_ = 0.0;
    for (const auto& [x, slot] : index_) {
      if (slab_[slot].state == State::real) update_y_scale(slab_[slot].y);
    }
    old_y_scale_ = y_scale_;
    real_.clear();
    recompute_all_losses();
    Iter last = index_.end();
    for (Iter it = index_.begin(); it != index_.end(); ++it) {
      if (is_real(it)) last = it;
    }
    if (last != index_.end()) unfile(real_, last->second);
    rebuild_combined();
    end_rebuilding();
  }

  // --- distributing a batch -------------------------------------------------

  /// python-adaptive's greedy rule: each new point goes either to split the
  /// next-largest interval in two, or to divide the best interval already
  /// chosen into one more part, whichever has the larger loss per part.
  void distribute(std::size_t n, const std::vector<double>& missing, Proposal<double>& out) {
    const double inf = std::numeric_limits<double>::infinity();
    // The groups' nodes come from a pool kept between batches: no allocation
    // per point once the first batches have grown it.
    std::pmr::set<Qual> quals(qual_pool_.get());
    auto qual = [&](double xl, double xr, std::size_t parts, double loss) {
      return Qual{detail::finite_loss(loss, xl, xr, x_scale_, static_cast<double>(parts)), xl, xr,
                  parts, loss};
    };
    if (!missing.empty()) {
      const double lowest = index_.begin()->first;
      const double highest = std::prev(index_.end())->first;
      if (std::find(missing.begin(), missing.end(), a_) != missing.end()) {
        quals.insert(qual(a_, lowest, 1, inf));
      }
      if (std::find(missing.begin(), missing.end(), b_) != missing.end()) {
        quals.insert(qual(highest, b_, 1, inf));
      }
    }
    taken_.clear();
    for (std::size_t todo = n - missing.size(); todo > 0; --todo) {
      const bool has_interval = !combined_.empty();
      bool split_interval = quals.empty();
      if (!split_interval && has_interval) {
        // Compare (finite loss, interval) tuples as Python does; an interval
        // (a, b) sorts before the group (a, b, k).
        const Qual& best = *quals.begin();
        const auto& interval = combined_.interval(combined_.top());
        if (interval.key != best.key) {
          split_interval = interval.key > best.key;
        } else if (interval.x_left != best.x_left) {
          split_interval = interval.x_left > best.x_left;
        } else {
          split_interval = interval.x_right > best.x_right;
        }
      }
      if (split_interval && has_interval) {
        const std::uint32_t slot = combined_.top();
        const auto interval = combined_.interval(slot);
        quals.insert(qual(interval.x_left, interval.x_right, 2, slab_[slot].loss_combined / 2));
        taken_.emplace_back(slot, interval);
        combined_.erase(slot);
      } else {
        Qual best = *quals.begin();
        quals.erase(quals.begin());
        const double k = static_cast<double>(best.parts);
        quals.insert(qual(best.x_left, best.x_right, best.parts + 1, best.loss * k / (k + 1)));
      }
    }
    out.points.reserve(n);
    out.loss_improvements.reserve(n);
    out.points = missing;
    out.loss_improvements.assign(missing.size(), inf);
    for (const Qual& q : quals) {
      const double step = (q.x_right - q.x_left) / static_cast<double>(q.parts);
      for (std::size_t i = 1; i < q.parts; ++i) {
        out.points.push_back(q.x_left + step * static_cast<double>(i));
        out.loss_improvements.push_back(q.loss);
      }
    }
  }

  /// Puts back the intervals a batch took that are still intact (not split
  /// because the learner was left unchanged, or because their new point
  /// coincided with an existing one).
  void restore_taken() {
    for (const auto& [slot, interval] : taken_) {
      if (!combined_.contains(slot) && slab_[slot].state != State::free)
        combined_.set(slot, interval);
    }
    taken_.clear();
  }

  double a_;
  double b_;
  IntervalLoss loss_;
  std::size_t components_;
  double x_scale_ = 1.0;
  double dx_eps_ = 0.0;
  double y_scale_ = 0.0;
  double old_y_scale_ = 0.0;
  std::vector<double> y_low_;
  std::vector<double> y_high_;

  // Map nodes come from a pool: one allocation per point is the main cost
  // of a std::map, and the pool also packs them closer in memory. The pool's
  // chunks and the slab grow with the number of points and sit in huge pages
  // (large_pages.hpp): a first run in a fresh process otherwise spends a
  // quarter of its time in page faults. Chunks may grow to 2^18 nodes (the
  // default stops at 16,384, 0.75 MiB), so that they reach huge-page size.
  std::unique_ptr<std::pmr::unsynchronized_pool_resource> pool_ =
      std::make_unique<std::pmr::unsynchronized_pool_resource>(
          std::pmr::pool_options{.max_blocks_per_chunk = std::size_t{1} << 18,
                                 .largest_required_pool_block = 0},
          detail::large_page_resource());
  Index index_{pool_.get()};  // every point inside the bounds: evaluated, pending or failed
  std::vector<Node, detail::LargePageAllocator<Node>> slab_;
  std::vector<std::uint32_t> free_;
  std::map<double, Y> outside_;
  std::size_t real_count_ = 0;
  std::size_t pending_count_ = 0;
  std::size_t failed_count_ = 0;
  bool rebuilding_ = false;
  detail::IntervalQueue real_;      // intervals between evaluated points
  detail::IntervalQueue combined_;  // intervals between points of any kind
  std::vector<std::pair<std::uint32_t, detail::IntervalQueue::Interval>> taken_;
  std::unique_ptr<std::pmr::unsynchronized_pool_resource> qual_pool_ =
      std::make_unique<std::pmr::unsynchronized_pool_resource>();

  std::vector<double> scratch_x_;
  std::vector<double> scratch_y_;
  std::vector<unsigned char> scratch_present_;
  std::vector<Iter> scratch_iters_;
};

}  // namespace taskmaster
