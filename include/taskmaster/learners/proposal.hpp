#pragma once
// What an adaptive learner proposes when asked for several points at once.

#include <cstddef>
#include <vector>

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

}  // namespace taskmaster
