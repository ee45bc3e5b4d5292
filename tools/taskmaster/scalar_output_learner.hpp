#pragma once
// Puts a learner of scalar outputs behind the tool's vector outputs.

#include <cstddef>
#include <optional>
#include <vector>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/core/learner.hpp"

namespace taskmaster::cli {

/// The tool reads every program output as a vector of numbers; learners of
/// one number per point (IntegratorLearner, AverageLearner,
/// AverageLearner1D) see its single component. The tool's master fails any
/// output with more components before it gets here (the run is told the
/// output has one component). Whatever the inner learner offers beyond the
/// Learner concept (batches, loss, done) is offered too.
///
/// @code
/// taskmaster::cli::ScalarOutputLearner<taskmaster::IntegratorLearner> learner(
///     taskmaster::IntegratorLearner(0.0, 1.0, 1e-8));
/// learner.tell(0.5, std::vector<double>{1.25});
/// @endcode
template <Learner L>
class ScalarOutputLearner {
 public:
  using input_type = typename L::input_type;
  using output_type = std::vector<double>;

  explicit ScalarOutputLearner(L inner) : inner_(std::move(inner)) {}

  std::optional<input_type> ask(Entropy e) { return inner_.ask(e); }
  std::vector<input_type> ask(std::size_t n, Entropy e) requires BatchLearner<L> {
    return inner_.ask(n, e);
  }
  void tell(const input_type& x, const output_type& y) { inner_.tell(x, y.at(0)); }
  void fail(const input_type& x) { inner_.fail(x); }
  [[nodiscard]] double loss() const requires LossLearner<L> { return inner_.loss(); }
  [[nodiscard]] bool done() const requires FinishingLearner<L> { return inner_.done(); }

  [[nodiscard]] std::size_t size() const { return inner_.size(); }
  [[nodiscard]] const L& inner() const noexcept { return inner_; }

 private:
  L inner_;
};

template <class L>
inline constexpr bool is_scalar_output = false;
template <class L>
inline constexpr bool is_scalar_output<ScalarOutputLearner<L>> = true;

}  // namespace taskmaster::cli
