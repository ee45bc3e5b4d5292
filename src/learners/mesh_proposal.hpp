#pragma once
// How Learner2D and LearnerND propose points from their triangulations.
// Private to the library.

#include <algorithm>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "taskmaster/learners/proposal.hpp"

namespace taskmaster::detail {

/// The `n` best points of a triangulation learner, as python-adaptive's
/// learners ask them: the domain's corners not yet known, then a point in
/// each simplex of highest loss. With `mark_pending` they are taken one by
/// one through `learner.ask_one()` (each becomes pending and changes the
/// next); otherwise the learner is only looked at: the simplices taken off
/// the queue are put back, and no point is offered twice.
///
/// `learner` has `corners`, `known` (with `contains`), `combined` (the loss
/// queue: `pop_best`, `push_back`), `choose_point(candidate)` and `ask_one()`.
///
/// @code
/// Proposal<Point2> propose(std::size_t n, bool mark_pending) {
///   return detail::propose_from_mesh<Point2>(*this, n, mark_pending);
/// }
/// @endcode
template <class Point, class MeshLearner>
Proposal<Point> propose_from_mesh(MeshLearner& learner, std::size_t n, bool mark_pending) {
  Proposal<Point> out;
  if (mark_pending) {
    while (out.size() < n) {
      auto next = learner.ask_one();
      if (!next) break;
      out.points.push_back(std::move(next->first));
      out.loss_improvements.push_back(next->second);
    }
    return out;
  }
  for (const auto& c : learner.corners) {
    if (out.size() < n && !learner.known.contains(c)) {
      out.points.push_back(c);
      out.loss_improvements.push_back(std::numeric_limits<double>::infinity());
    }
  }
  std::vector<std::remove_reference_t<decltype(*learner.combined.pop_best())>> taken;
  while (out.size() < n) {
    auto best = learner.combined.pop_best();
    if (!best) break;
    taken.push_back(*best);
    Point p = learner.choose_point(*best);
    if (learner.known.contains(p) ||
        std::find(out.points.begin(), out.points.end(), p) != out.points.end()) {
      continue;
    }
    out.points.push_back(std::move(p));
    out.loss_improvements.push_back(best->loss);
  }
  for (const auto& c : taken) learner.combined.push_back(c);
  return out;
}

}  // namespace taskmaster::detail
