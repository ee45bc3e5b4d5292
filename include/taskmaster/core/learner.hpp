#pragma once
// The Learner concept: the part of a feedback loop that decides what to evaluate.

#include <concepts>
#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <vector>

#include "taskmaster/core/entropy.hpp"

namespace taskmaster {

/// A learner proposes inputs (`ask`) and learns from outputs (`tell`).
///
/// Learners must be deterministic: what `ask` returns may depend only on the
/// calls the learner received so far and on the `Entropy` argument. That is
/// what makes a recorded parallel run replayable.
///
/// - `ask(entropy)` returns the next input, or `std::nullopt` when it has
///   nothing to propose right now (it may have more once results arrive).
/// - `tell(x, y)` feeds back the output for an input it proposed.
/// - `fail(x)` says the point will never get an output, so the learner stops
///   treating it as pending.
///
/// @code
/// struct Halving {
///   using input_type = double;
///   using output_type = double;
///   double next = 1.0;
///   std::optional<double> ask(taskmaster::Entropy) { return next /= 2; }
///   void tell(const double&, const double&) {}
///   void fail(const double&) {}
/// };
/// static_assert(taskmaster::Learner<Halving>);
/// @endcode
template <class L>
concept Learner = requires(L& learner, Entropy entropy, const typename L::input_type& x,
                           const typename L::output_type& y) {
  typename L::input_type;
  typename L::output_type;
  { learner.ask(entropy) } -> std::same_as<std::optional<typename L::input_type>>;
  learner.tell(x, y);
  learner.fail(x);
};

/// A learner that can propose several points in one call, so it can spread
/// them well instead of asking greedily one at a time.
template <class L>
concept BatchLearner = Learner<L> && requires(L& learner, std::size_t n, Entropy entropy) {
  { learner.ask(n, entropy) } -> std::same_as<std::vector<typename L::input_type>>;
};

/// A learner that can say how far from its goal it is (smaller is better).
template <class L>
concept LossLearner = Learner<L> && requires(const L& learner) {
  { learner.loss() } -> std::convertible_to<double>;
};

/// A learner that can say it has reached its goal.
template <class L>
concept FinishingLearner = Learner<L> && requires(const L& learner) {
  { learner.done() } -> std::convertible_to<bool>;
};

/// A learner whose state can be saved and loaded into a new learner made
/// with the same parameters, which then asks what the original would have
/// asked. `save()` returns the envelope `seal_state` writes (kind, version,
/// payload) and `load(state)` checks it with `load_state`, throwing
/// StateError for a state of another kind, a newer version, a malformed
/// one, or when the learner already holds data (learners/saved_state.hpp).
///
/// @code
/// static_assert(taskmaster::SavableLearner<taskmaster::Learner1D<double>>);
/// @endcode
template <class L>
concept SavableLearner = Learner<L> &&
    requires(const L& saved, L& target, const nlohmann::json& state) {
  { saved.save() } -> std::same_as<nlohmann::json>;
  target.load(state);
};

template <Learner L>
using input_of = typename L::input_type;
template <Learner L>
using output_of = typename L::output_type;

}  // namespace taskmaster
