// CQUAD as a learner. The structure follows python-adaptive's
// IntegratorLearner (itself a port of P. Gonnet's algorithm), with intervals
// kept in one array and addressed by index.

#include "taskmaster/learners/integrator_learner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "taskmaster/history/codec.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {
namespace {

using cquad::depths;
using cquad::max_nodes;
using cquad::rule_size;
using cquad::Rules;

constexpr double eps = std::numeric_limits<double>::epsilon();
// A relative change of the coefficients above this means the error estimate
// of a refinement is not trusted: split instead (Gonnet's thesis, 6.2).
constexpr double refinement_hint = 0.1;
// An interval whose nodes are this close (relative to |x|) is not refined
// further. python-adaptive compares with the signed x, which never holds for
// negative x.
constexpr double min_separation = 16 * eps;
// Divergence is declared after this many doublings of the leading coefficient.
constexpr int max_divergences = 20;

constexpr std::uint64_t rule_mask(std::size_t depth) {
  std::uint64_t mask = 0;
  for (std::size_t k = 0; k < max_nodes; k += Rules::stride(depth)) mask |= std::uint64_t{1} << k;
  return mask;
}
constexpr std::array<std::uint64_t, depths> rule_masks{rule_mask(0), rule_mask(1), rule_mask(2),
                                                       rule_mask(3)};

double norm(const cquad::Vector& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

/// out = M v for a 33 x 33 matrix, using only the first n columns and rows.
cquad::Vector apply(const cquad::Matrix& m, const cquad::Vector& v, std::size_t rows,
                    std::size_t cols) {
  cquad::Vector out{};
  for (std::size_t i = 0; i < rows; ++i) {
    double s = 0;
    const double* row = &m[i * max_nodes];
    for (std::size_t j = 0; j < cols; ++j) s += row[j] * v[j];
    out[i] = s;
  }
  return out;
}

/// Removes the nodes at `dropped` from the interpolant with coefficients c of
/// the rule at `depth`: Gonnet's Algorithm 5 (down-dating by dividing the
/// nodal polynomial by (x - x_i) and projecting it out).
void downdate(cquad::Vector& c, const std::vector<std::size_t>& dropped, std::size_t depth) {
  const Rules& r = cquad::rules();
  const std::size_t n = rule_size[depth];
  if (dropped.size() >= n) {
    c.fill(0.0);
    return;
  }
  std::array<double, max_nodes + 1> storage = r.newton[depth];
  double* b = storage.data();
  std::size_t m = n - 1;
  for (std::size_t node : dropped) {
    const double xi = r.nodes[node * Rules::stride(depth)];
    b[m + 1] /= r.alpha[m];
    b[m] = (b[m] + xi * b[m + 1]) / r.alpha[m - 1];
    for (std::size_t j = m - 1; j >= 1; --j) {
      b[j] = (b[j] + xi * b[j + 1] - r.gamma[j + 1] * b[j + 2]) / r.alpha[j - 1];
    }
    ++b;  // the quotient has one degree less
    const double factor = c[m] / b[m];
    for (std::size_t k = 0; k < m; ++k) c[k] -= factor * b[k];
    c[m] = 0;
    --m;
  }
}

/// Coefficients of the interpolant through fx at the nodes of the rule at
/// `depth`; non-finite values are left out of the fit.
cquad::Vector coefficients(cquad::Vector fx, std::size_t depth) {
  const std::size_t n = rule_size[depth];
  std::vector<std::size_t> dropped;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(fx[i])) {
      dropped.push_back(i);
      fx[i] = 0.0;
    }
  }
  cquad::Vector c = apply(cquad::rules().values_to_coefficients[depth], fx, n, n);
  if (!dropped.empty()) downdate(c, dropped, depth);
  return c;
}

}  // namespace

IntegratorLearner::IntegratorLearner(double a, double b, double tol) : a_(a), b_(b), tol_(tol) {
  if (!std::isfinite(a) || !std::isfinite(b) || !(a < b)) {
    throw std::invalid_argument(
        fmt::format("IntegratorLearner: bounds must be finite with a < b, got [{}, {}]", a, b));
  }
  if (!(tol > 0)) {
    throw std::invalid_argument(
        fmt::format("IntegratorLearner: tolerance must be positive, got {}", tol));
  }
  (void)cquad::rules();  // compute the tables now, not in the middle of a run
  intervals_.reserve(256);
  nodes_.reserve(4096);
  node_of_x_.reserve(4096);
  const std::int32_t root = new_interval(a, b, 2, 1);
  intervals_[root].err = std::numeric_limits<double>::max();  // not inf: halved at splits
  activate(root);
  add_nodes(root, false);
}

void IntegratorLearner::set_max_intervals(std::size_t n) {
  if (n == 0) throw std::invalid_argument("IntegratorLearner: max_intervals must be at least 1");
  max_intervals_ = n;
}

double IntegratorLearner::node_x(const Interval& interval, std::size_t grid_index) const {
  // The same arithmetic for every interval, so that shared nodes coincide.
  return (interval.a + interval.b) / 2 +
         (interval.b - interval.a) * cquad::rules().nodes[grid_index] / 2;
}

std::int32_t IntegratorLearner::new_interval(double a, double b, int depth, int rdepth) {
  Interval interval;
  interval.a = a;
  interval.b = b;
  interval.depth = depth;
  interval.rdepth = rdepth;
  intervals_.push_back(std::move(interval));
  scratch_marks_.push_back(0);
  return static_cast<std::int32_t>(intervals_.size() - 1);
}

void IntegratorLearner::activate(std::int32_t i) {
  Interval& interval = intervals_[i];
  if (interval.active_slot != none) return;
  interval.active_slot = static_cast<std::int32_t>(active_.size());
  active_.push_back(i);
}

void IntegratorLearner::deactivate(std::int32_t i) {
  Interval& interval = intervals_[i];
  if (interval.active_slot == none) return;
  const std::int32_t last = active_.back();
  active_[interval.active_slot] = last;
  intervals_[last].active_slot = interval.active_slot;
  active_.pop_back();
  interval.active_slot = none;
}

void IntegratorLearner::add_nodes(std::int32_t i, bool only_new) {
  const int depth = intervals_[i].depth;
  const std::size_t stride = Rules::stride(depth);
  const std::size_t coarser = depth > 0 ? Rules::stride(depth - 1) : 0;
  for (std::size_t k = 0; k < max_nodes; k += stride) {
    if (only_new && k % coarser == 0) continue;
    const double x = node_x(intervals_[i], k);
    auto [it, inserted] = node_of_x_.try_emplace(x, static_cast<std::int32_t>(nodes_.size()));
    if (inserted) {
      Node node;
      node.x = x;
      nodes_.push_back(std::move(node));
      stack_.push_back(it->second);
    }
    Node& node = nodes_[it->second];
    // Keep the references ordered by rdepth (ties in insertion order), the
    // order in which a told value is processed.
    const int rdepth = intervals_[i].rdepth;
    auto at = std::find_if(node.refs.begin(), node.refs.end(), [&](const NodeRef& ref) {
      return intervals_[ref.interval].rdepth > rdepth;
    });
    node.refs.insert(at, NodeRef{i, static_cast<std::int32_t>(k)});
    if (node.known) {
      intervals_[i].values[k] = node.y;
      intervals_[i].known |= std::uint64_t{1} << k;
    }
  }
  advance(i);
}

std::optional<double> IntegratorLearner::ask(Entropy) {
  while (true) {
    if (stack_.empty() && !fill_stack(outstanding_ > 0)) return std::nullopt;
    while (!stack_.empty()) {
      Node& node = nodes_[stack_.front()];
      stack_.pop_front();
      if (node.known || node.handed_out) continue;  // told before it was asked
      node.handed_out = true;
      ++outstanding_;
      return node.x;
    }
  }
}

std::vector<double> IntegratorLearner::ask(std::size_t n, Entropy) {
  return std::move(propose(n).points);
}

Proposal<double> IntegratorLearner::propose(std::size_t n, bool mark_pending) {
  if (!mark_pending) {
    IntegratorLearner scratch(*this);
    return scratch.propose(n, true);
  }
  Proposal<double> out;
  // One point at a time is the parallel loop's way (and ask(entropy)'s):
  // with points out it prefers intervals whose estimate is current. A batch
  // keeps python-adaptive's choice.
  const bool current_estimates_only = n == 1 && outstanding_ > 0;
  while (out.size() < n) {
    if (stack_.empty() && !fill_stack(current_estimates_only)) break;
    while (out.size() < n && !stack_.empty()) {
      Node& node = nodes_[stack_.front()];
      stack_.pop_front();
      if (node.known || node.handed_out) continue;  // told before it was asked
      node.handed_out = true;
      ++outstanding_;
      double worst = 0;
      for (const NodeRef& ref : node.refs) worst = std::max(worst, intervals_[ref.interval].err);
      out.points.push_back(node.x);
      out.loss_improvements.push_back(worst);
    }
  }
  return out;
}

bool IntegratorLearner::before(std::int32_t lhs, std::int32_t rhs) const {
  // Order by (err, a); a NaN error counts as the largest.
  auto key = [](double e) { return std::isnan(e) ? std::numeric_limits<double>::infinity() : e; };
  const Interval& l = intervals_[lhs];
  const Interval& r = intervals_[rhs];
  const double le = key(l.err);
  const double re = key(r.err);
  if (le != re) return le < re;
  return l.a < r.a;
}

bool IntegratorLearner::ranks_below(std::int32_t lhs, std::int32_t rhs) const {
  // As `before`, by the likely error of intervals waiting for points.
  auto key = [this](std::int32_t i) {
    const double e = pending_error(i);
    return std::isnan(e) ? std::numeric_limits<double>::infinity() : e;
  };
  const double le = key(lhs);
  const double re = key(rhs);
  if (le != re) return le < re;
  return intervals_[lhs].a < intervals_[rhs].a;
}

bool IntegratorLearner::fill_stack(bool current_estimates_only) {
  std::int32_t chosen = none;
  bool forced = false;
  bool split_ahead = false;
  // An interval may have been queued twice, or split or dropped since it was
  // queued (python-adaptive asserts here): take the first still splittable.
  while (!priority_split_.empty()) {
    const std::int32_t i = priority_split_.back();
    priority_split_.pop_back();
    intervals_[i].queued = false;
    if (intervals_[i].active_slot != none && !intervals_[i].has_children()) {
      chosen = i;
      forced = true;
      break;
    }
  }
  if (chosen == none) {
    if (active_.empty()) return false;
    if (!current_estimates_only) {
      chosen = *std::max_element(active_.begin(), active_.end(),
                                 [this](std::int32_t l, std::int32_t r) { return before(l, r); });
    } else {
      // Points are out (a parallel run). An interval whose rule still waits
      // for some of them has a stale error estimate, and refining it again
      // would mostly waste points: refine the worst interval whose estimate
      // is current, and only when there is none the worst waiting one
      // (waiting instead would leave workers idle). Waiting intervals are
      // ranked by the error they are likely to carry: a new half by its
      // share of the variation its nearest measured ancestor saw, not by
      // half that ancestor's error. One exception: the worst waiting
      // interval is split at once when it lies at the steep end of that
      // ancestor and outranks every current estimate. The error then sits
      // in a chain of ever smaller intervals at a singularity, which
      // refinement reaches one link per round trip (two, counting the rule
      // whose result asks for the split); splitting ahead lets idle workers
      // descend several links per round. A sequential run never gets here:
      // it asks only when every point is back.
      std::int32_t waiting = none;
      for (const std::int32_t i : active_) {
        if (intervals_[i].depth_complete != intervals_[i].depth) {
          if (waiting == none || ranks_below(waiting, i)) waiting = i;
        } else if (chosen == none || before(chosen, i)) {
          chosen = i;
        }
      }
      if (waiting != none && (chosen == none || pending_error(waiting) > intervals_[chosen].err)) {
        split_ahead = at_steep_end(waiting);
        if (split_ahead || chosen == none) chosen = waiting;
      }
    }
  }

  Interval& interval = intervals_[chosen];
  const std::size_t stride = Rules::stride(interval.depth);
  const double x0 = node_x(interval, 0);
  const double x1 = node_x(interval, stride);
  const double xn1 = node_x(interval, max_nodes - 1 - stride);
  const double xn = node_x(interval, max_nodes - 1);
  if (x1 - x0 < std::fabs(x0) * min_separation || xn - xn1 < std::fabs(xn1) * min_separation) {
    deactivate(chosen);  // nodes at machine precision: nothing to gain here
  } else if (interval.depth == static_cast<int>(depths) - 1 || forced || split_ahead) {
    deactivate(chosen);
    split(chosen);
  } else {
    ++interval.depth;
    add_nodes(chosen, true);
  }

  if (active_.size() > max_intervals_) {
    deactivate(*std::min_element(active_.begin(), active_.end(),
                                 [this](std::int32_t l, std::int32_t r) { return before(l, r); }));
  }
  return true;
}

void IntegratorLearner::split(std::int32_t i) {
  const double a = intervals_[i].a;
  const double b = intervals_[i].b;
  const double middle = node_x(intervals_[i], max_nodes / 2);
  const int rdepth = intervals_[i].rdepth + 1;
  const std::int32_t left = new_interval(a, middle, 0, rdepth);
  const std::int32_t right = new_interval(middle, b, 0, rdepth);
  Interval& parent = intervals_[i];  // after the push_backs
  parent.children[0] = left;
  parent.children[1] = right;
  for (std::int32_t child : {left, right}) {
    intervals_[child].parent = i;
    intervals_[child].ndiv = intervals_[i].ndiv;
    intervals_[child].err = intervals_[i].err / 2;
  }
  const std::int32_t anchor = parent.depth_complete >= 0 ? i : parent.anchor;
  if (anchor != none) anchor_below(i, anchor);
  for (std::int32_t child : {left, right}) {
    activate(child);
    add_nodes(child, false);
  }
}

void IntegratorLearner::anchor_below(std::int32_t i, std::int32_t anchor) {
  for (std::int32_t child : intervals_[i].children) {
    if (child == none || intervals_[child].depth_complete >= 0) continue;
    Interval& c = intervals_[child];
    c.anchor = anchor;
    c.share = variation_share(anchor, c.a, c.b);
    anchor_below(child, anchor);
  }
}

double IntegratorLearner::variation_share(std::int32_t anchor, double lo, double hi) const {
  // The variation |f(x_k+1) - f(x_k)| between successive nodes of the
  // anchor's last complete rule, spread evenly over each gap; a gap next to
  // a non-finite value outweighs every finite one.
  const Interval& a = intervals_[anchor];
  const std::size_t stride = Rules::stride(static_cast<std::size_t>(a.depth_complete));
  double finite_total = 0, finite_inside = 0, infinite_total = 0, infinite_inside = 0;
  for (std::size_t k = 0; k + stride < max_nodes; k += stride) {
    const double x0 = node_x(a, k);
    const double x1 = node_x(a, k + stride);
    const double overlap = std::max(0.0, std::min(hi, x1) - std::max(lo, x0)) / (x1 - x0);
    const double jump = std::fabs(a.values[k + stride] - a.values[k]);
    if (std::isfinite(jump)) {
      finite_total += jump;
      finite_inside += jump * overlap;
    } else {
      infinite_total += 1;
      infinite_inside += overlap;
    }
  }
  if (infinite_total > 0) return infinite_inside / infinite_total;
  if (finite_total > 0) return finite_inside / finite_total;
  return (hi - lo) / (a.b - a.a);
}

bool IntegratorLearner::at_steep_end(std::int32_t i) const {
  // f varies steeply at an end of the anchor when the gap next to it holds
  // most of the variation (or a non-finite value): a singularity there.
  constexpr double steep = 0.9;
  const Interval& iv = intervals_[i];
  const std::int32_t anchor = iv.depth_complete >= 0 ? i : iv.anchor;
  if (anchor == none) return false;
  const Interval& a = intervals_[anchor];
  const std::size_t stride = Rules::stride(static_cast<std::size_t>(a.depth_complete));
  return (iv.a == a.a && variation_share(anchor, a.a, node_x(a, stride)) >= steep) ||
         (iv.b == a.b && variation_share(anchor, node_x(a, max_nodes - 1 - stride), a.b) >= steep);
}

double IntegratorLearner::pending_error(std::int32_t i) const {
  const Interval& iv = intervals_[i];
  if (iv.depth_complete >= 0 || iv.anchor == none) return iv.err;
  return iv.share * intervals_[iv.anchor].err;
}

void IntegratorLearner::tell(const double& x, const double& y) {
  auto it = node_of_x_.find(x);
  if (it == node_of_x_.end()) {
    throw std::invalid_argument(
        fmt::format("IntegratorLearner: x = {} is not a node of any interval", x));
  }
  Node& node = nodes_[it->second];
  if (node.known) return;
  node.known = true;
  if (node.handed_out) --outstanding_;
  node.handed_out = false;
  node.y = y;
  ++told_;
  // Processing a value completes rules but adds no nodes, so the references
  // stay put; indices keep it safe anyway.
  const std::int32_t index = it->second;
  for (std::size_t r = 0; r < nodes_[index].refs.size(); ++r) {
    const NodeRef ref = nodes_[index].refs[r];
    record(ref.interval, static_cast<std::size_t>(ref.grid_index), y);
  }
}

void IntegratorLearner::tell_many(const std::vector<double>& xs, const std::vector<double>& ys) {
  if (xs.size() != ys.size()) {
    throw std::invalid_argument(
        fmt::format("IntegratorLearner::tell_many: {} points but {} values", xs.size(), ys.size()));
  }
  for (std::size_t i = 0; i < xs.size(); ++i) tell(xs[i], ys[i]);
}

void IntegratorLearner::fail(const double& x) { tell(x, std::numeric_limits<double>::quiet_NaN()); }

void IntegratorLearner::remove_unfinished() {
  std::vector<std::int32_t> again;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].handed_out && !nodes_[i].known) {
      nodes_[i].handed_out = false;
      again.push_back(static_cast<std::int32_t>(i));
    }
  }
  outstanding_ = 0;
  stack_.insert(stack_.begin(), again.begin(), again.end());
}

void IntegratorLearner::record(std::int32_t i, std::size_t grid_index, double y) {
  Interval& interval = intervals_[i];
  interval.values[grid_index] = y;
  interval.known |= std::uint64_t{1} << grid_index;
  advance(i);
}

void IntegratorLearner::advance(std::int32_t i) {
  const Interval& interval = intervals_[i];
  // A removed interval is final: its estimate, precise to numerical accuracy,
  // is not replaced by the coarser ones of halves that were asked for before
  // it was known to be precise (python-adaptive lets them replace it, which
  // spoils the integral when points are asked in large batches).
  if (interval.removed) return;
  int from =
      interval.depth_complete < 0 ? (interval.parent == none ? 2 : 0) : interval.depth_complete + 1;
  for (int depth = from; depth <= intervals_[i].depth; ++depth) {
    const std::uint64_t mask = rule_masks[depth];
    if ((intervals_[i].known & mask) != mask) break;  // rules are nested
    sums_stale_ = true;
    const auto [force_split, remove] = complete(i, depth);
    Interval& done = intervals_[i];
    if (remove) {
      // Precise to numerical accuracy (or too narrow): keep its estimate,
      // stop refining it and everything below it.
      mark_removed(i);
      represent_subtree(i);
    } else if (force_split && !done.has_children() && done.active_slot != none && !done.queued) {
      done.queued = true;
      priority_split_.push_back(i);
    }
  }
}

std::pair<bool, bool> IntegratorLearner::complete(std::int32_t i, int depth) {
  const Rules& r = cquad::rules();
  Interval& iv = intervals_[i];
  iv.depth_complete = depth;
  if (iv.has_children()) anchor_below(i, i);  // its halves were split ahead of it
  cquad::Vector fx{};
  const std::size_t stride = Rules::stride(depth);
  for (std::size_t j = 0; j < rule_size[depth]; ++j) fx[j] = iv.values[j * stride];

  const bool first = iv.parent == none && depth == 2;
  const cquad::Vector c_old = iv.c;
  iv.c = coefficients(fx, depth);
  if (first) {
    iv.c00 = 0;
    return {false, false};
  }
  iv.igral = (iv.b - iv.a) * iv.c[0] / std::numbers::sqrt2;

  bool force_split = false;
  if (depth > 0) {
    const double difference = update_error(i, c_old);
    force_split = difference > refinement_hint * norm(intervals_[i].c);
  } else {
    iv.c00 = iv.c[0];
    const Interval& parent = intervals_[iv.parent];
    if (parent.depth_complete >= 0) {
      const bool is_left = iv.a == parent.a;
      const cquad::Vector from_parent = apply(is_left ? r.shift_left : r.shift_right, parent.c,
                                              max_nodes, rule_size[parent.depth_complete]);
      update_error(i, from_parent);
      count_divergence(i);
    }
    for (std::int32_t child : intervals_[i].children) {
      if (child == none) continue;
      if (intervals_[child].depth_complete >= 0) count_divergence(child);
      if (intervals_[child].depth_complete == 0) {
        const bool is_left = intervals_[child].a == intervals_[i].a;
        const cquad::Vector from_here =
            apply(is_left ? r.shift_left : r.shift_right, intervals_[i].c, max_nodes,
                  rule_size[intervals_[i].depth_complete]);
        update_error(child, from_here);
      }
    }
  }

  promote_leaves(i);
  const Interval& done = intervals_[i];
  const bool remove = done.err < std::fabs(done.igral) * eps * r.condition[depth];
  return {force_split, remove};
}

double IntegratorLearner::update_error(std::int32_t i, const cquad::Vector& c_old) {
  Interval& iv = intervals_[i];
  cquad::Vector difference{};
  for (std::size_t k = 0; k < max_nodes; ++k) difference[k] = c_old[k] - iv.c[k];
  const double size = norm(difference);
  iv.err = (iv.b - iv.a) * size;
  for (std::int32_t child : iv.children) {
    if (child != none && intervals_[child].depth_complete < 0) {
      spread_heuristic_error(child, iv.err / 2);
    }
  }
  return size;
}

void IntegratorLearner::spread_heuristic_error(std::int32_t i, double err) {
  // Until its own error is known, an interval is assumed to carry half of
  // its parent's.
  Interval& iv = intervals_[i];
  iv.err = err;
  for (std::int32_t child : iv.children) {
    if (child == none) continue;
    const int child_depth = intervals_[child].depth_complete;
    if (child_depth > 0 || (child_depth == 0 && iv.depth_complete >= 0)) continue;
    spread_heuristic_error(child, err / 2);
  }
}

void IntegratorLearner::check_divergence(const Interval& iv) const {
  if (iv.ndiv > max_divergences && 2 * iv.ndiv > iv.rdepth) {
    throw DivergentIntegralError(fmt::format(
        "IntegratorLearner: the integral diverges near [{}, {}] (its leading coefficient "
        "doubled at {} of {} splits)",
        iv.a, iv.b, iv.ndiv, iv.rdepth - 1));
  }
}

void IntegratorLearner::count_divergence(std::int32_t i) {
  Interval& iv = intervals_[i];
  const double parent_c00 = intervals_[iv.parent].c00;
  const bool diverging = parent_c00 != 0 && iv.c00 / parent_c00 > 2;
  iv.ndiv += diverging ? 1 : 0;
  check_divergence(iv);
  if (diverging) {
    for (std::int32_t child : iv.children) {
      if (child != none) count_divergence_below(child);
    }
  }
}

void IntegratorLearner::count_divergence_below(std::int32_t i) {
  Interval& iv = intervals_[i];
  ++iv.ndiv;
  check_divergence(iv);
  for (std::int32_t child : iv.children) {
    if (child != none) count_divergence_below(child);
  }
}

void IntegratorLearner::promote_leaves(std::int32_t i) {
  Interval& iv = intervals_[i];
  if (iv.leaves_given_up || !iv.leaves.empty()) return;
  // The interval now has an estimate of its own: it stands for itself, and
  // replaces its ancestors in their estimates as far up as every sibling on
  // the way has an estimate too.
  iv.leaves = {i};
  std::vector<std::int32_t> replaced;
  for (std::int32_t j = iv.parent; j != none; j = intervals_[j].parent) {
    Interval& up = intervals_[j];
    bool all_ready = true;
    for (std::int32_t child : up.children) {
      const Interval& c = intervals_[child];
      if (!c.leaves_given_up && c.leaves.empty()) all_ready = false;
    }
    if (!all_ready) break;
    if (up.leaves_given_up) {
      up.leaves_given_up = false;
      up.leaves.clear();
    }
    replaced.push_back(j);
    for (std::int32_t child : up.children) {
      Interval& c = intervals_[child];
      if (c.leaves_given_up) continue;
      up.leaves.insert(up.leaves.end(), c.leaves.begin(), c.leaves.end());
      c.leaves.clear();
      c.leaves.shrink_to_fit();
      c.leaves_given_up = true;
    }
    for (std::int32_t r : replaced) scratch_marks_[r] = 1;
    std::erase_if(up.leaves, [this](std::int32_t leaf) { return scratch_marks_[leaf] != 0; });
    for (std::int32_t r : replaced) scratch_marks_[r] = 0;
  }
}

void IntegratorLearner::represent_subtree(std::int32_t i) {
  // The interval is precise: it replaces in the integral estimate whatever
  // halves of it were used so far (with results told in any order, those may
  // have completed before it, with coarser rules).
  Interval& iv = intervals_[i];
  if (!iv.leaves_given_up) {
    iv.leaves = {i};
    return;
  }
  std::int32_t holder = iv.parent;
  while (intervals_[holder].leaves_given_up) holder = intervals_[holder].parent;
  auto within = [&](std::int32_t leaf) {
    while (leaf != none && intervals_[leaf].rdepth > iv.rdepth) leaf = intervals_[leaf].parent;
    return leaf == i;
  };
  auto& leaves = intervals_[holder].leaves;
  const auto erased = std::erase_if(leaves, within);
  if (erased > 0) leaves.push_back(i);
}

void IntegratorLearner::mark_removed(std::int32_t i) {
  Interval& iv = intervals_[i];
  iv.removed = true;
  deactivate(i);
  for (std::int32_t child : iv.children) {
    if (child != none) mark_removed(child);
  }
}

void IntegratorLearner::refresh_sums() const {
  if (!sums_stale_) return;
  const Interval& root = intervals_[0];
  double igral = 0, err = 0, excess = 0;
  for (std::int32_t leaf : root.leaves) {
    const Interval& iv = intervals_[leaf];
    igral += iv.igral;
    err += iv.err;
    if (iv.removed) excess += iv.err;
  }
  if (root.leaves.empty() || err > std::numeric_limits<double>::max()) {
    err = std::numeric_limits<double>::infinity();
  }
  igral_sum_ = igral;
  err_sum_ = err;
  err_excess_ = excess;
  sums_stale_ = false;
}

double IntegratorLearner::igral() const {
  refresh_sums();
  return igral_sum_;
}

double IntegratorLearner::err() const {
  refresh_sums();
  return err_sum_;
}

bool IntegratorLearner::done() const {
  refresh_sums();
  const double goal = std::fabs(igral_sum_) * tol_;
  return err_sum_ == 0 || err_sum_ < goal ||
         (err_sum_ - err_excess_ < goal && goal < err_excess_) || active_.empty();
}

double IntegratorLearner::loss() const {
  refresh_sums();
  return std::fabs(std::fabs(igral_sum_) * tol_ - err_sum_);
}

std::vector<std::pair<double, double>> IntegratorLearner::data() const {
  std::vector<std::pair<double, double>> out;
  out.reserve(told_);
  for (const Node& node : nodes_) {
    if (node.known) out.emplace_back(node.x, node.y);
  }
  std::sort(out.begin(), out.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
  return out;
}

nlohmann::json IntegratorLearner::save() const {
  using nlohmann::json;
  json intervals = json::array();
  for (const Interval& iv : intervals_) {
    json c = json::array();
    for (double v : iv.c) c.push_back(saved_number(v));
    intervals.push_back({{"a", saved_number(iv.a)},
                         {"b", saved_number(iv.b)},
                         {"depth", iv.depth},
                         {"rdepth", iv.rdepth},
                         {"ndiv", iv.ndiv},
                         {"depth_complete", iv.depth_complete},
                         {"parent", iv.parent},
                         {"children", {iv.children[0], iv.children[1]}},
                         {"removed", iv.removed},
                         {"queued", iv.queued},
                         {"c00", saved_number(iv.c00)},
                         {"igral", saved_number(iv.igral)},
                         {"err", saved_number(iv.err)},
                         {"c", std::move(c)},
                         {"leaves", iv.leaves_given_up ? json(nullptr) : json(iv.leaves)}});
  }
  json nodes = json::array();
  for (const Node& node : nodes_) {
    json refs = json::array();
    for (const NodeRef& ref : node.refs) refs.push_back({ref.interval, ref.grid_index});
    nodes.push_back(
        {saved_number(node.x), node.known, saved_number(node.y), node.handed_out, std::move(refs)});
  }
  return seal_state(state_kind, state_version,
                    {{"bounds", {saved_number(a_), saved_number(b_)}},
                     {"tol", saved_number(tol_)},
                     {"max_intervals", max_intervals_},
                     {"intervals", std::move(intervals)},
                     {"active", active_},
                     {"priority_split", priority_split_},
                     {"stack", json(std::vector<std::int32_t>(stack_.begin(), stack_.end()))},
                     {"nodes", std::move(nodes)}});
}

void IntegratorLearner::load(const nlohmann::json& state) {
  load_state(state, state_kind, state_version, told_ == 0 && outstanding_ == 0,
             [this](const nlohmann::json& saved, int) { load_payload(saved); });
}

void IntegratorLearner::load_payload(const nlohmann::json& saved) {
  const double a = read_saved_number(saved.at("bounds").at(0));
  const double b = read_saved_number(saved.at("bounds").at(1));
  const double tol = read_saved_number(saved.at("tol"));
  if (a != a_ || b != b_ || tol != tol_) {
    throw std::invalid_argument(
        fmt::format("saved for [{}, {}] with tol {}, but this learner has "
                    "[{}, {}] with tol {}",
                    a, b, tol, a_, b_, tol_));
  }
  IntegratorLearner fresh(a_, b_, tol_);
  fresh.intervals_.clear();
  fresh.scratch_marks_.clear();
  fresh.active_.clear();
  fresh.nodes_.clear();
  fresh.node_of_x_.clear();
  fresh.stack_.clear();
  fresh.max_intervals_ = saved.at("max_intervals").get<std::size_t>();
  for (const auto& j : saved.at("intervals")) {
    Interval iv;
    iv.a = read_saved_number(j.at("a"));
    iv.b = read_saved_number(j.at("b"));
    iv.depth = j.at("depth").get<int>();
    iv.rdepth = j.at("rdepth").get<int>();
    iv.ndiv = j.at("ndiv").get<int>();
    iv.depth_complete = j.at("depth_complete").get<int>();
    iv.parent = j.at("parent").get<std::int32_t>();
    iv.children[0] = j.at("children").at(0).get<std::int32_t>();
    iv.children[1] = j.at("children").at(1).get<std::int32_t>();
    iv.removed = j.at("removed").get<bool>();
    iv.queued = j.at("queued").get<bool>();
    iv.c00 = read_saved_number(j.at("c00"));
    iv.igral = read_saved_number(j.at("igral"));
    iv.err = read_saved_number(j.at("err"));
    const auto& c = j.at("c");
    for (std::size_t k = 0; k < max_nodes; ++k) iv.c[k] = read_saved_number(c.at(k));
    const auto& leaves = j.at("leaves");
    iv.leaves_given_up = leaves.is_null();
    if (!leaves.is_null()) iv.leaves = leaves.get<std::vector<std::int32_t>>();
    fresh.intervals_.push_back(std::move(iv));
    fresh.scratch_marks_.push_back(0);
  }
  const auto count = static_cast<std::int32_t>(fresh.intervals_.size());
  auto check_index = [](std::int32_t i, std::int32_t size, const char* what) {
    if (i < 0 || i >= size) {
      throw std::invalid_argument(fmt::format("{} index {} out of range", what, i));
    }
  };
  for (const auto& j : saved.at("active")) {
    const auto i = j.get<std::int32_t>();
    check_index(i, count, "interval");
    fresh.activate(i);
  }
  for (const auto& j : saved.at("priority_split")) {
    const auto i = j.get<std::int32_t>();
    check_index(i, count, "interval");
    fresh.priority_split_.push_back(i);
  }
  for (const auto& j : saved.at("nodes")) {
    Node node;
    node.x = read_saved_number(j.at(0));
    node.known = j.at(1).get<bool>();
    node.y = read_saved_number(j.at(2));
    node.handed_out = j.at(3).get<bool>();
    for (const auto& ref : j.at(4)) {
      NodeRef r{ref.at(0).get<std::int32_t>(), ref.at(1).get<std::int32_t>()};
      check_index(r.interval, count, "interval");
      check_index(r.grid_index, static_cast<std::int32_t>(max_nodes), "grid");
      if (node.known) {
        Interval& iv = fresh.intervals_[r.interval];
        iv.values[r.grid_index] = node.y;
        iv.known |= std::uint64_t{1} << r.grid_index;
      }
      node.refs.push_back(r);
    }
    if (node.known) ++fresh.told_;
    if (node.handed_out && !node.known) ++fresh.outstanding_;
    fresh.node_of_x_.emplace(node.x, static_cast<std::int32_t>(fresh.nodes_.size()));
    fresh.nodes_.push_back(std::move(node));
  }
  // Rankings of intervals still waiting for points, from the values now known.
  for (std::int32_t i = 0; i < count; ++i) {
    const Interval& iv = fresh.intervals_[i];
    if (iv.parent < 0 || iv.parent >= i) continue;  // halves come after their parent
    const Interval& parent = fresh.intervals_[iv.parent];
    const std::int32_t anchor = parent.depth_complete >= 0 ? iv.parent : parent.anchor;
    if (iv.depth_complete < 0 && anchor != none) {
      fresh.intervals_[i].anchor = anchor;
      fresh.intervals_[i].share = fresh.variation_share(anchor, iv.a, iv.b);
    }
  }
  const auto node_count = static_cast<std::int32_t>(fresh.nodes_.size());
  for (const auto& j : saved.at("stack")) {
    const auto i = j.get<std::int32_t>();
    check_index(i, node_count, "node");
    fresh.stack_.push_back(i);
  }
  fresh.sums_stale_ = true;
  *this = std::move(fresh);
}

}  // namespace taskmaster
