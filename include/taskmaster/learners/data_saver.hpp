#pragma once
// A learner wrapper that keeps every full result while the learner sees one
// value extracted from it.

#include <fmt/format.h>

#include <cstddef>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/core/learner.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// Wraps a learner whose function returns more than the learner needs (as
/// python-adaptive's DataSaver): the full result of type Y is kept in
/// extra_data(), and the wrapped learner is told `extract(result)`.
/// Asking, failing, the loss and done() are the wrapped learner's.
///
/// The inputs must be ordered (operator<) to index the results; save() and
/// load() need a SavableLearner and Y encodable (history/codec.hpp), as the
/// history of a run needs anyway.
///
/// @code
/// struct Measurement { double value; double seconds; };
/// taskmaster::DataSaver<taskmaster::IntegratorLearner, Measurement> saver(
///     taskmaster::IntegratorLearner(0, 1, 1e-8),
///     [](const Measurement& m) { return m.value; });
/// // ... evaluate(master, saver, stop::learner_done());
/// double seconds_at_half = saver.extra_data().at(0.5).seconds;
/// @endcode
template <Learner L, class Y>
class DataSaver {
 public:
  using input_type = input_of<L>;
  using output_type = Y;
  using Extract = std::function<output_of<L>(const Y&)>;

  DataSaver(L learner, Extract extract)
      : learner_(std::move(learner)), extract_(std::move(extract)) {
    if (!extract_) throw std::invalid_argument("DataSaver: the extracting function is empty");
  }

  std::optional<input_type> ask(Entropy entropy) { return learner_.ask(entropy); }

  std::vector<input_type> ask(std::size_t n, Entropy entropy) requires BatchLearner<L> {
    return learner_.ask(n, entropy);
  }

  Proposal<input_type> propose(std::size_t n, bool mark_pending = true) requires
      requires(L& l, std::size_t k, bool mark) {
    l.propose(k, mark);
  }
  { return learner_.propose(n, mark_pending); }

  /// Keeps the full result (a later one for the same x replaces it) and
  /// tells the wrapped learner the extracted value.
  void tell(const input_type& x, const Y& y) {
    auto value = extract_(y);
    extra_data_.insert_or_assign(x, y);
    learner_.tell(x, value);
  }

  void tell_many(const std::vector<input_type>& xs, const std::vector<Y>& ys) {
    if (xs.size() != ys.size()) {
      throw std::invalid_argument(
          fmt::format("DataSaver::tell_many: {} points but {} results", xs.size(), ys.size()));
    }
    for (std::size_t i = 0; i < xs.size(); ++i) tell(xs[i], ys[i]);
  }

  void tell_pending(const input_type& x) requires requires(L& l, const input_type& p) {
    l.tell_pending(p);
  }
  { learner_.tell_pending(x); }

  void fail(const input_type& x) { learner_.fail(x); }

  void remove_unfinished() requires requires(L& l) { l.remove_unfinished(); }
  { learner_.remove_unfinished(); }

  [[nodiscard]] double loss() const requires LossLearner<L> { return learner_.loss(); }
  [[nodiscard]] double pending_loss() const requires requires(const L& l) { l.pending_loss(); }
  { return learner_.pending_loss(); }
  [[nodiscard]] bool done() const requires FinishingLearner<L> { return learner_.done(); }
  [[nodiscard]] std::size_t size() const requires requires(const L& l) { l.size(); }
  { return learner_.size(); }

  /// The wrapped learner.
  [[nodiscard]] const L& learner() const noexcept { return learner_; }
  [[nodiscard]] L& learner() noexcept { return learner_; }
  /// Every full result, by input.
  [[nodiscard]] const std::map<input_type, Y>& extra_data() const noexcept { return extra_data_; }

  /// The wrapped learner's state and the full results.
  [[nodiscard]] nlohmann::json save() const requires SavableLearner<L> {
    nlohmann::json extra = nlohmann::json::array();
    for (const auto& [x, y] : extra_data_) extra.push_back({saved_value(x), saved_value(y)});
    return seal_state(state_kind, state_version,
                      {{"learner", learner_.save()}, {"extra_data", std::move(extra)}});
  }

  /// Restores what save() wrote, into a new DataSaver around a learner made
  /// with the same parameters (else StateError).
  void load(const nlohmann::json& state) requires SavableLearner<L> {
    load_state(state, state_kind, state_version, extra_data_.empty(),
               [this](const nlohmann::json& saved, int) {
                 std::map<input_type, Y> extra;
                 for (const auto& entry : saved.at("extra_data")) {
                   extra.insert_or_assign(decode<input_type>(entry.at(0)), decode<Y>(entry.at(1)));
                 }
                 learner_.load(saved.at("learner"));
                 extra_data_ = std::move(extra);
               });
  }

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "DataSaver";
  static constexpr int state_version = 1;

 private:
  L learner_;
  Extract extract_;
  std::map<input_type, Y> extra_data_;
};

}  // namespace taskmaster
