#pragma once
// A learner that walks through its inputs and ignores the results.

#include <cstddef>
#include <functional>
#include <optional>
#include <ranges>
#include <utility>
#include <vector>

#include "taskmaster/core/entropy.hpp"

namespace taskmaster {

/// Proposes the values of a range or a generator one after the other and
/// ignores what it is told, as TaskMaster.jl's IgnorantLearner does: the loop
/// then is a plain parallel map with a history. A generator returns
/// `std::nullopt` when it has nothing more.
///
/// @code
/// taskmaster::IgnorantLearner<int, double> grid(std::views::iota(0, 100));
/// taskmaster::IgnorantLearner<double, double> walk(
///     [x = 0.0]() mutable -> std::optional<double> { return x += 0.1; });
/// @endcode
template <class X, class Y>
class IgnorantLearner {
 public:
  using input_type = X;
  using output_type = Y;
  using Generator = std::function<std::optional<X>()>;

  explicit IgnorantLearner(Generator generator) : generator_(std::move(generator)) {}

  template <std::ranges::input_range R>
  requires std::convertible_to<std::ranges::range_reference_t<R>, X>
  explicit IgnorantLearner(R&& range)
      : generator_([values = to_vector(std::forward<R>(range)),
                    i = std::size_t{0}]() mutable -> std::optional<X> {
          if (i == values.size()) return std::nullopt;
          return values[i++];
        }) {}

  std::optional<X> ask(Entropy) {
    if (exhausted_) return std::nullopt;
    auto x = generator_();
    if (!x) exhausted_ = true;
    return x;
  }
  void tell(const X&, const Y&) { ++told_; }
  void fail(const X&) { ++failed_; }

  [[nodiscard]] std::size_t told() const noexcept { return told_; }
  [[nodiscard]] std::size_t failed() const noexcept { return failed_; }

 private:
  template <class R>
  static std::vector<X> to_vector(R&& range) {
    std::vector<X> values;
    for (auto&& v : range) values.push_back(static_cast<X>(v));
    return values;
  }

  Generator generator_;
  bool exhausted_ = false;
  std::size_t told_ = 0;
  std::size_t failed_ = 0;
};

}  // namespace taskmaster
