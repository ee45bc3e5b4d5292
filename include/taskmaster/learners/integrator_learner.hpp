#pragma once
// Adaptive quadrature of a one-dimensional function with CQUAD.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/learners/integrator_rules.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// The integral diverges: an interval's leading coefficient kept more than
/// doubling at successive splits (Gonnet's divergence test).
class DivergentIntegralError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Integrates f over [a, b] to a relative tolerance, choosing where to
/// evaluate f with P. Gonnet's CQUAD ("Increasing the reliability of adaptive
/// quadrature using explicit interpolants", ACM TOMS 37(3), 2010), as
/// python-adaptive's IntegratorLearner does: every interval carries nested
/// Clenshaw-Curtis rules of 5, 9, 17 and 33 nodes; the error of an interval is
/// the difference between the interpolating polynomials of two successive
/// rules (or of the parent and the half); the interval with the largest error
/// is refined to the next rule or, at the finest rule or when refining did
/// not help, split in two. Non-finite values are dropped from the fit
/// (Gonnet's down-dating of the interpolant), so NaN at a point does not
/// spoil the integral.
///
/// Unlike python-adaptive's, it works for any batch size and any order of
/// results: an interval queued for splitting twice, or already split or
/// dropped, is skipped rather than asserted on.
///
/// `fail(x)` treats the point as a non-finite value. `tell` throws
/// DivergentIntegralError when the integral diverges.
///
/// done() is not monotone (as in python-adaptive): values of points asked
/// before it held may refine an interval whose halves' first estimates carry
/// a larger error, so a parallel run that drains its tasks after done() may
/// end with done() false again and a larger, still honest, err().
/// An interval found precise to numerical accuracy is final: halves of it
/// asked for before that was known do not replace its estimate.
///
/// @code
/// taskmaster::IntegratorLearner learner(0.0, 1.0, 1e-10);
/// taskmaster::evaluate([](double x) { return std::exp(x); }, learner,
///                      taskmaster::stop::learner_done());
/// double integral = learner.igral();  // e - 1
/// @endcode
class IntegratorLearner {
 public:
  using input_type = double;
  using output_type = double;

  /// Throws std::invalid_argument unless a < b are finite and tol > 0.
  IntegratorLearner(double a, double b, double tol);

  /// One point. With points out (asked, not told), the intervals whose
  /// error estimate is current are refined first, the others (waiting for
  /// those points) only when no other is left: a parallel run wastes fewer
  /// points. Where f varies steeply at an end of an interval (a singularity
  /// there), the waiting halves at that end are split ahead of their
  /// results, so that many workers descend the chain of intervals at it
  /// several levels per round. Sequentially (nothing out) this is python-adaptive's choice;
  /// ask(n) and propose(n) for n > 1 keep python-adaptive's batch semantics
  /// in every case, and propose(1) chooses as this does.
  std::optional<double> ask(Entropy entropy);
  std::vector<double> ask(std::size_t n, Entropy entropy);
  /// n points (fewer when no interval can be improved any more) with the
  /// error of the worst interval each belongs to. With mark_pending false the
  /// learner is left unchanged.
  Proposal<double> propose(std::size_t n, bool mark_pending = true);

  /// Throws std::invalid_argument if x is not a node of any interval.
  void tell(const double& x, const double& y);
  void tell_many(const std::vector<double>& xs, const std::vector<double>& ys);
  /// Points are pending from the moment they are proposed: nothing to do.
  void tell_pending(const double&) {}
  /// The value at x will never come: it is dropped from the fit like NaN.
  void fail(const double& x);
  /// Proposed points that never got a value are proposed again first.
  void remove_unfinished();

  /// The estimate of the integral over [a, b].
  [[nodiscard]] double igral() const;
  /// The estimated absolute error of igral(); infinite until one is known.
  [[nodiscard]] double err() const;
  /// Reached the tolerance, or cannot improve the estimate any more.
  [[nodiscard]] bool done() const;
  /// | |igral| tol - err |, as python-adaptive (not monotone: use done()).
  [[nodiscard]] double loss() const;
  [[nodiscard]] double pending_loss() const { return loss(); }
  /// Number of points told.
  [[nodiscard]] std::size_t size() const noexcept { return told_; }
  /// Every told point and its value, sorted by x.
  [[nodiscard]] std::vector<std::pair<double, double>> data() const;

  [[nodiscard]] double tolerance() const noexcept { return tol_; }
  [[nodiscard]] std::pair<double, double> bounds() const noexcept { return {a_, b_}; }
  /// At most this many intervals are refined; beyond it the one with the
  /// smallest error is given up (python-adaptive: 1000).
  [[nodiscard]] std::size_t max_intervals() const noexcept { return max_intervals_; }
  void set_max_intervals(std::size_t n);

  [[nodiscard]] nlohmann::json save() const;
  /// Restores what save() wrote, into a new learner built with the same
  /// bounds and tolerance (else StateError). Points that were proposed but
  /// had no value stay pending, exactly as in the saved learner; call
  /// remove_unfinished() to have them proposed again.
  void load(const nlohmann::json& state);

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "IntegratorLearner";
  static constexpr int state_version = 1;

 private:
  static constexpr std::int32_t none = -1;

  struct Interval {
    double a = 0;
    double b = 0;
    int depth = 0;            // rule being sampled, 0..3
    int rdepth = 1;           // 1 for [a, b], +1 per split
    int ndiv = 0;             // divergence counter
    int depth_complete = -1;  // finest rule fully evaluated, -1 for none
    std::int32_t parent = none;
    std::int32_t children[2] = {none, none};
    bool removed = false;             // precise to numerical accuracy: no more refinement
    bool queued = false;              // in priority_split_
    std::int32_t active_slot = none;  // position in active_, none if not there
    double c00 = 0;
    double igral = 0;
    double err = 0;
    cquad::Vector c{};        // coefficients of the last complete rule
    cquad::Vector values{};   // values on the 33-node grid
    std::uint64_t known = 0;  // bit k: values[k] is set
    // Gonnet's "done leaves": the intervals this one is represented by in the
    // integral estimate; `leaves_given_up` once they moved to the parent.
    bool leaves_given_up = false;
    std::vector<std::int32_t> leaves;
    // While no rule of its own is complete: the nearest ancestor with one
    // (its `anchor`) and the fraction of the anchor's variation of f that
    // lies in this interval, for ranking it with points out.
    std::int32_t anchor = none;
    double share = 0.5;

    [[nodiscard]] bool has_children() const noexcept { return children[0] != none; }
  };

  struct NodeRef {
    std::int32_t interval;
    std::int32_t grid_index;  // 0..32
  };

  struct Node {
    double x = 0;
    double y = 0;
    bool known = false;
    bool handed_out = false;
    std::vector<NodeRef> refs;  // sorted by the intervals' rdepth
  };

  double node_x(const Interval& interval, std::size_t grid_index) const;
  std::int32_t new_interval(double a, double b, int depth, int rdepth);
  void add_nodes(std::int32_t i, bool only_new);
  void record(std::int32_t i, std::size_t grid_index, double y);
  void advance(std::int32_t i);
  std::pair<bool, bool> complete(std::int32_t i, int depth);
  double update_error(std::int32_t i, const cquad::Vector& c_old);
  void spread_heuristic_error(std::int32_t i, double err);
  void count_divergence(std::int32_t i);
  void count_divergence_below(std::int32_t i);
  void check_divergence(const Interval& interval) const;
  void promote_leaves(std::int32_t i);
  void mark_removed(std::int32_t i);
  void represent_subtree(std::int32_t i);
  void activate(std::int32_t i);
  void deactivate(std::int32_t i);
  /// Queues the nodes of the next refinement; false when there is none.
  /// `current_estimates_only`: prefer intervals whose rule waits for no point.
  bool fill_stack(bool current_estimates_only);
  void split(std::int32_t i);
  void anchor_below(std::int32_t i, std::int32_t anchor);
  [[nodiscard]] double variation_share(std::int32_t anchor, double lo, double hi) const;
  [[nodiscard]] bool at_steep_end(std::int32_t i) const;
  [[nodiscard]] double pending_error(std::int32_t i) const;
  [[nodiscard]] bool before(std::int32_t lhs, std::int32_t rhs) const;
  [[nodiscard]] bool ranks_below(std::int32_t lhs, std::int32_t rhs) const;
  void refresh_sums() const;
  void load_payload(const nlohmann::json& saved);

  // Nodes are looked up by their exact bits; std::hash<double> runs a byte
  // hash, this a single multiply. -0.0 and 0.0 are equal, so hash alike.
  struct ExactHash {
    std::size_t operator()(double x) const noexcept {
      const std::uint64_t bits = x == 0 ? 0 : std::bit_cast<std::uint64_t>(x);
      return static_cast<std::size_t>((bits * 0x9E3779B97F4A7C15ULL) >> 17);
    }
  };

  double a_;
  double b_;
  double tol_;
  std::size_t max_intervals_ = 1000;
  std::vector<Interval> intervals_;
  std::vector<std::int32_t> active_;          // python-adaptive's `ivals`
  std::vector<std::int32_t> priority_split_;  // used as a stack
  std::deque<std::int32_t> stack_;            // node indices to propose
  std::vector<Node> nodes_;
  std::unordered_map<double, std::int32_t, ExactHash> node_of_x_;
  std::size_t told_ = 0;
  std::size_t outstanding_ = 0;      // nodes handed out and not yet told
  std::vector<char> scratch_marks_;  // per interval, for promote_leaves

  mutable bool sums_stale_ = true;
  mutable double igral_sum_ = 0;
  mutable double err_sum_ = 0;
  mutable double err_excess_ = 0;
};

}  // namespace taskmaster
