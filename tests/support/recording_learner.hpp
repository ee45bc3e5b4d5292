#pragma once
// Wraps a learner and keeps every call it receives, so tests can check what
// the loop did to it.

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "taskmaster/core/learner.hpp"

namespace taskmaster::test_support {

template <Learner L>
class RecordingLearner {
 public:
  using input_type = input_of<L>;
  using output_type = output_of<L>;

  explicit RecordingLearner(L inner) : inner_(std::move(inner)) {}

  std::optional<input_type> ask(Entropy e) {
    auto x = inner_.ask(e);
    if (x) asked.push_back(*x);
    return x;
  }
  void tell(const input_type& x, const output_type& y) {
    inner_.tell(x, y);
    told.emplace_back(x, y);
  }
  void fail(const input_type& x) {
    inner_.fail(x);
    failed.push_back(x);
  }

  L& inner() { return inner_; }

  std::vector<input_type> asked;
  std::vector<std::pair<input_type, output_type>> told;
  std::vector<input_type> failed;

 private:
  L inner_;
};

}  // namespace taskmaster::test_support
