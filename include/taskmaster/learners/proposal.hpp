#pragma once
// What an adaptive learner proposes when asked for several points at once.

#include <concepts>
#include <cstddef>
#include <vector>

#include "taskmaster/core/learner.hpp"

namespace taskmaster {

/// Points proposed in one call, each with the loss improvement the learner
/// expects from evaluating it (as python-adaptive's `ask(n)` returns them).
///
/// @code
/// auto proposal = learner.propose(10);
/// for (std::size_t i = 0; i < proposal.points.size(); ++i)
///   fmt::print("{} would improve the loss by {}\n", proposal.points[i],
///              proposal.loss_improvements[i]);
/// @endcode
template <class X>
struct Proposal {
  std::vector<X> points;
  std::vector<double> loss_improvements;

  [[nodiscard]] std::size_t size() const noexcept { return points.size(); }
};

/// A learner that can say, without changing, which point it would ask next
/// and how much that point would improve its loss: what BalancingLearner
/// needs of its children.
template <class L>
concept AdaptiveLearner = Learner<L> && requires(L& l, const L& cl, const input_of<L>& x) {
  { l.propose(std::size_t{1}, false) } -> std::same_as<Proposal<input_of<L>>>;
  l.tell_pending(x);
  { cl.loss() } -> std::convertible_to<double>;
  { cl.pending_loss() } -> std::convertible_to<double>;
  { cl.size() } -> std::convertible_to<std::size_t>;
};

}  // namespace taskmaster
