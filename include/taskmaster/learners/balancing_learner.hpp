#pragma once
// BalancingLearner: many learners at once, each point going to the learner
// that needs it most.

#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <typeinfo>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "taskmaster/core/entropy.hpp"
#include "taskmaster/core/learner.hpp"
#include "taskmaster/learners/proposal.hpp"
#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster {

/// How BalancingLearner picks the learner that gets the next point
/// (python-adaptive's strategies).
enum class BalancingStrategy {
  loss_improvements,  ///< the largest expected loss improvement of its next point
  loss,               ///< the largest loss (counting pending points)
  npoints,            ///< the fewest points (evaluated and pending)
  cycle,              ///< each learner in turn
};

/// Runs several learners with the same input and output types as one; the
/// input is (index of the learner, its x). Unlike python-adaptive's, the
/// children may be of different kinds, and picking the next learner costs
/// O(log n) in the number of learners: each learner's next proposal is kept
/// and only the learner that changed is asked again. Ties go to the learner
/// with fewer points, then to the lower index, as in python-adaptive.
///
/// @code
/// using namespace taskmaster;
/// BalancingLearner<double, double> all;
/// all.add(Learner1D<double>(-1.0, 1.0));
/// all.add(Learner1D<double>(0.0, 5.0, losses_1d::curvature()));
/// evaluate([](const std::pair<std::size_t, double>& p) { return p.first == 0 ? std::sin(p.second)
///                                                                           : std::exp(p.second);
///                                                                           },
///          all, stop::points(1000));
/// auto& first = all.learner<Learner1D<double>>(0);
/// @endcode
template <class X, class Y>
class BalancingLearner {
 public:
  using input_type = std::pair<std::size_t, X>;
  using output_type = Y;
  using Parameters = std::map<std::string, double>;

  explicit BalancingLearner(BalancingStrategy strategy = BalancingStrategy::loss_improvements)
      : strategy_(strategy) {}

  /// One learner per combination of the parameter values (the cartesian
  /// product of `grid`), made by `make(parameters)`; `parameters(i)` tells
  /// which combination learner i has. python-adaptive's `from_product`.
  template <class Factory>
  static BalancingLearner from_product(
      const std::map<std::string, std::vector<double>>& grid, Factory make,
      BalancingStrategy strategy = BalancingStrategy::loss_improvements) {
    BalancingLearner balancing(strategy);
    std::vector<Parameters> combinations{Parameters{}};
    for (const auto& [name, values] : grid) {
      if (values.empty()) {
        throw std::invalid_argument(
            fmt::format("from_product: no values for parameter \"{}\"", name));
      }
      std::vector<Parameters> longer;
      for (const auto& partial : combinations) {
        for (double v : values) {
          Parameters p = partial;
          p[name] = v;
          longer.push_back(std::move(p));
        }
      }
      combinations = std::move(longer);
    }
    for (const auto& p : combinations) balancing.add(make(p), p);
    return balancing;
  }

  /// Adds a learner; returns its index.
  template <AdaptiveLearner L>
  requires std::same_as<input_of<L>, X> && std::same_as<output_of<L>, Y> std::size_t add(
      L learner, Parameters parameters = {}) {
    const std::size_t index = children_.size();
    children_.push_back(std::make_unique<Child<L>>(std::move(learner)));
    parameters_.push_back(std::move(parameters));
    pending_.push_back(0);
    keys_.emplace_back();
    refresh(index);
    return index;
  }

  [[nodiscard]] std::size_t learners() const noexcept { return children_.size(); }
  [[nodiscard]] const Parameters& parameters(std::size_t i) const { return parameters_.at(i); }

  /// The i-th learner, as the type it was added with.
  template <class L>
  L& learner(std::size_t i) {
    auto* child = dynamic_cast<Child<L>*>(children_.at(i).get());
    if (child == nullptr) {
      throw std::invalid_argument(
          fmt::format("BalancingLearner: learner {} is not a {}", i, typeid(L).name()));
    }
    return child->learner;
  }

  // --- the Learner interface ---------------------------------------------

  std::optional<input_type> ask(Entropy) {
    auto proposal = propose(1);
    if (proposal.points.empty()) return std::nullopt;
    return proposal.points.front();
  }
  std::vector<input_type> ask(std::size_t n, Entropy) { return propose(n).points; }

  /// Picks `n` points one by one by the strategy. With `mark_pending` false
  /// nothing changes; for more than one point that needs learners that can
  /// take a pending mark back (`forget_pending`, as Learner1D has).
  Proposal<input_type> propose(std::size_t n, bool mark_pending = true) {
    Proposal<input_type> out;
    const bool mark = mark_pending || n > 1;
    for (std::size_t k = 0; k < n && !children_.empty(); ++k) {
      const std::size_t i = choose();
      if (i == none) break;
      out.points.emplace_back(i, keys_[i].next->first);
      out.loss_improvements.push_back(keys_[i].next->second);
      if (mark) tell_pending(out.points.back());
    }
    if (mark && !mark_pending) {
      for (auto it = out.points.rbegin(); it != out.points.rend(); ++it) forget_pending(*it);
    }
    return out;
  }

  void tell(const input_type& p, const Y& y) {
    Base& child = at(p.first);
    child.tell(p.second, y);
    if (pending_[p.first] > 0) --pending_[p.first];
    refresh(p.first);
  }
  void tell_pending(const input_type& p) {
    at(p.first).tell_pending(p.second);
    ++pending_[p.first];
    refresh(p.first);
  }
  void fail(const input_type& p) {
    at(p.first).fail(p.second);
    if (pending_[p.first] > 0) --pending_[p.first];
    refresh(p.first);
  }
  void remove_unfinished() {
    for (std::size_t i = 0; i < children_.size(); ++i) {
      children_[i]->remove_unfinished();
      pending_[i] = 0;
      refresh(i);
    }
  }

  /// The largest loss of any learner.
  [[nodiscard]] double loss() const {
    return by_loss_.empty() ? std::numeric_limits<double>::infinity()
                            : std::get<0>(*by_loss_.begin());
  }
  /// The largest loss of any learner, counting pending points.
  [[nodiscard]] double pending_loss() const {
    return by_pending_loss_.empty() ? std::numeric_limits<double>::infinity()
                                    : std::get<0>(*by_pending_loss_.begin());
  }
  [[nodiscard]] std::size_t size() const {
    std::size_t n = 0;
    for (const auto& c : children_) n += c->size();
    return n;
  }

  /// Every learner's saved state, in order (all of them must be
  /// SavableLearners, else std::logic_error).
  [[nodiscard]] nlohmann::json save() const {
    nlohmann::json states = nlohmann::json::array();
    for (const auto& c : children_) states.push_back(c->save());
    return seal_state(state_kind, state_version, {{"learners", std::move(states)}});
  }
  /// Loads what save() wrote into new learners of the same kinds and
  /// parameters, in the same order (else StateError).
  void load(const nlohmann::json& state) {
    bool empty = true;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      empty = empty && pending_[i] == 0 && children_[i]->size() == 0;
    }
    load_state(state, state_kind, state_version, empty, [this](const nlohmann::json& saved, int) {
      const auto& states = saved.at("learners");
      if (!states.is_array() || states.size() != children_.size()) {
        throw std::invalid_argument(fmt::format(
            "{} saved learners, {} here", states.is_array() ? states.size() : 0, children_.size()));
      }
      for (std::size_t i = 0; i < children_.size(); ++i) {
        children_[i]->load(states[i]);
        pending_[i] = 0;
        refresh(i);
      }
    });
  }

  /// The kind and version of the state `save` writes.
  static constexpr std::string_view state_kind = "BalancingLearner";
  static constexpr int state_version = 1;

 private:
  static constexpr std::size_t none = std::numeric_limits<std::size_t>::max();

  struct Base {
    virtual ~Base() = default;
    virtual std::optional<std::pair<X, double>> next() = 0;  // not marked pending
    virtual void tell(const X&, const Y&) = 0;
    virtual void tell_pending(const X&) = 0;
    virtual void fail(const X&) = 0;
    virtual void remove_unfinished() = 0;
    virtual void forget_pending(const X&) = 0;
    virtual double loss() const = 0;
    virtual double pending_loss() const = 0;
    virtual std::size_t size() const = 0;
    virtual nlohmann::json save() const = 0;
    virtual void load(const nlohmann::json&) = 0;
  };

  template <class L>
  struct Child final : Base {
    explicit Child(L l) : learner(std::move(l)) {}
    std::optional<std::pair<X, double>> next() override {
      auto p = learner.propose(1, false);
      if (p.points.empty()) return std::nullopt;
      return std::pair<X, double>{p.points.front(), p.loss_improvements.front()};
    }
    void tell(const X& x, const Y& y) override { learner.tell(x, y); }
    void tell_pending(const X& x) override { learner.tell_pending(x); }
    void fail(const X& x) override { learner.fail(x); }
    void remove_unfinished() override {
      if constexpr (requires { learner.remove_unfinished(); }) learner.remove_unfinished();
    }
    void forget_pending(const X& x) override {
      if constexpr (requires { learner.forget_pending(x); }) {
        learner.forget_pending(x);
      } else {
        throw std::logic_error(fmt::format(
            "BalancingLearner: proposing several points without marking them needs learners with "
            "forget_pending; {} has none",
            typeid(L).name()));
      }
    }
    double loss() const override { return static_cast<double>(learner.loss()); }
    double pending_loss() const override { return static_cast<double>(learner.pending_loss()); }
    std::size_t size() const override { return learner.size(); }
    nlohmann::json save() const override {
      if constexpr (SavableLearner<L>) {
        return learner.save();
      } else {
        throw std::logic_error(fmt::format("BalancingLearner: {} cannot save", typeid(L).name()));
      }
    }
    void load(const nlohmann::json& state) override {
      if constexpr (SavableLearner<L>) {
        learner.load(state);
      } else {
        throw std::logic_error(fmt::format("BalancingLearner: {} cannot load", typeid(L).name()));
      }
    }
    L learner;
  };

  /// What orders a learner for the strategy, kept so it can be found and
  /// replaced in the ordered sets when the learner changes.
  struct Keys {
    std::optional<std::pair<X, double>> next;
    double loss = 0.0;
    double pending_loss = 0.0;
    double priority = 0.0;
    std::size_t points = 0;
  };
  // Ordered best first: larger priority, then fewer points, then lower index.
  struct Best {
    bool operator()(const std::tuple<double, std::size_t, std::size_t>& a,
                    const std::tuple<double, std::size_t, std::size_t>& b) const {
      if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
      if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
      return std::get<2>(a) < std::get<2>(b);
    }
  };
  struct Largest {
    bool operator()(const std::tuple<double, std::size_t>& a,
                    const std::tuple<double, std::size_t>& b) const {
      if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
      return std::get<1>(a) < std::get<1>(b);
    }
  };

  Base& at(std::size_t i) {
    if (i >= children_.size()) {
      throw std::invalid_argument(
          fmt::format("BalancingLearner: no learner {} (there are {})", i, children_.size()));
    }
    return *children_[i];
  }

  /// Orders NaN below everything, as a loss that says nothing.
  static double orderable(double v) {
    return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
  }

  /// Recomputes what learner i offers and re-files it.
  void refresh(std::size_t i) {
    Keys& k = keys_[i];
    ranking_.erase({k.priority, k.points, i});
    by_loss_.erase({k.loss, i});
    by_pending_loss_.erase({k.pending_loss, i});
    Base& child = *children_[i];
    k.next = child.next();
    k.loss = orderable(child.loss());
    k.pending_loss = orderable(child.pending_loss());
    k.points = child.size() + pending_[i];
    switch (strategy_) {
      case BalancingStrategy::loss_improvements:
        k.priority = k.next ? orderable(k.next->second) : -std::numeric_limits<double>::infinity();
        break;
      case BalancingStrategy::loss: k.priority = k.pending_loss; break;
      case BalancingStrategy::npoints:
      case BalancingStrategy::cycle: k.priority = 0.0; break;
    }
    if (k.next) ranking_.insert({k.priority, k.points, i});
    by_loss_.insert({k.loss, i});
    by_pending_loss_.insert({k.pending_loss, i});
  }

  std::size_t choose() {
    if (strategy_ == BalancingStrategy::cycle) {
      for (std::size_t tries = 0; tries < children_.size(); ++tries) {
        const std::size_t i = cycle_++ % children_.size();
        if (keys_[i].next) return i;
      }
      return none;
    }
    if (ranking_.empty()) return none;
    return std::get<2>(*ranking_.begin());
  }

  void forget_pending(const input_type& p) {
    children_[p.first]->forget_pending(p.second);
    if (pending_[p.first] > 0) --pending_[p.first];
    refresh(p.first);
  }

  BalancingStrategy strategy_;
  std::vector<std::unique_ptr<Base>> children_;
  std::vector<Parameters> parameters_;
  std::vector<std::size_t> pending_;
  std::vector<Keys> keys_;
  std::set<std::tuple<double, std::size_t, std::size_t>, Best> ranking_;
  std::set<std::tuple<double, std::size_t>, Largest> by_loss_;
  std::set<std::tuple<double, std::size_t>, Largest> by_pending_loss_;
  std::size_t cycle_ = 0;
};

}  // namespace taskmaster
