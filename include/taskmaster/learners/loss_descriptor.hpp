#pragma once
// What the loss descriptors of every learner have in common.

#include <concepts>
#include <string>

namespace taskmaster {

/// A loss descriptor: a named loss function over one piece of a learner's
/// partition of its domain, as that learner shows the piece to it
/// (`sample_type`): Learner1D's IntervalLoss sees an IntervalNeighborhood,
/// Learner2D's TriangleLoss a TriangleSample, LearnerND's SimplexLoss a
/// SimplexSample. Every descriptor has a `name` (written into saved state)
/// and is called on a sample for the loss; what else a learner must know to
/// prepare the sample (neighbouring intervals, gradients, neighbouring
/// vertices) differs by learner and stays in that descriptor's own fields.
/// The built-in descriptors are in `losses_1d`, `losses_2d` and `losses_nd`.
///
/// @code
/// template <taskmaster::LossDescriptor Loss>
/// double loss_of(const Loss& loss, const typename Loss::sample_type& piece) {
///   return loss(piece);
/// }
/// @endcode
template <class L>
concept LossDescriptor = requires(const L& loss, const typename L::sample_type& sample) {
  { loss.name } -> std::convertible_to<std::string>;
  { loss(sample) } -> std::convertible_to<double>;
};

}  // namespace taskmaster
