#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <numbers>
#include <random>
#include <thread>

#include "taskmaster/learners/integrator_learner.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;

constexpr double e_minus_1 = std::numbers::e - 1;

double floor_exp(double x) { return std::floor(std::exp(x)); }
// floor(e^x) = k on [ln k, ln(k+1)): the integral over [0, 3] is 60 - ln(20!).
const double floor_exp_integral = 60 - std::lgamma(21.0);

/// Runs the plain loop: ask a batch, tell every value, until done. Returns
/// the number of points told.
template <class F>
std::size_t run_batches(IntegratorLearner& learner, F f, std::size_t batch,
                        std::size_t max_points = 200000, std::mt19937* shuffle = nullptr) {
  while (!learner.done() && learner.size() < max_points) {
    auto xs = learner.ask(batch, 0);
    if (xs.empty()) break;
    if (shuffle) std::shuffle(xs.begin(), xs.end(), *shuffle);
    for (double x : xs) learner.tell(x, f(x));
  }
  return learner.size();
}

// ---- the rule tables --------------------------------------------------------

/// Integral over [-1, 1] by the rule at `depth`: sqrt(2) times the constant
/// orthonormal coefficient.
double rule_integral(std::size_t depth, double (*f)(double)) {
  const auto& r = cquad::rules();
  const std::size_t n = cquad::rule_size[depth];
  double c0 = 0;
  for (std::size_t j = 0; j < n; ++j) {
    c0 += r.values_to_coefficients[depth][j] * f(r.nodes[j * cquad::Rules::stride(depth)]);
  }
  return c0 * std::numbers::sqrt2;
}

TEST(CquadRules, EachRuleIntegratesPolynomialsOfItsDegreeExactly) {
  EXPECT_NEAR(rule_integral(0, [](double x) { return std::pow(x, 4) + x; }), 0.4, 1e-14);
  EXPECT_NEAR(rule_integral(1, [](double x) { return std::pow(x, 8); }), 2.0 / 9, 1e-14);
  EXPECT_NEAR(rule_integral(2, [](double x) { return std::pow(x, 16); }), 2.0 / 17, 1e-14);
  EXPECT_NEAR(rule_integral(3, [](double x) { return std::pow(x, 32) - 3 * x * x; }),
              2.0 / 33 - 2.0, 1e-13);
  // A smooth non-polynomial function: the 33-point rule is accurate.
  EXPECT_NEAR(rule_integral(3, [](double x) { return std::exp(x); }),
              std::exp(1.0) - std::exp(-1.0), 1e-14);
}

TEST(CquadRules, NodesAreNestedAntisymmetricChebyshevPoints) {
  const auto& r = cquad::rules();
  EXPECT_EQ(r.nodes[0], -1.0);
  EXPECT_EQ(r.nodes[32], 1.0);
  EXPECT_EQ(r.nodes[16], 0.0);
  for (std::size_t k = 0; k < 33; ++k) {
    EXPECT_EQ(r.nodes[k], -r.nodes[32 - k]);
    EXPECT_NEAR(r.nodes[k], -std::cos(static_cast<double>(k) * std::numbers::pi / 32), 1e-15);
  }
}

TEST(CquadRules, NewtonPolynomialsVanishAtTheirNodes) {
  const auto& r = cquad::rules();
  for (std::size_t d = 0; d < cquad::depths; ++d) {
    const std::size_t n = cquad::rule_size[d];
    for (std::size_t j = 0; j < n; ++j) {
      const double x = r.nodes[j * cquad::Rules::stride(d)];
      // sum_k newton[k] p_k(x) with the orthonormal recurrence.
      double previous = 0, current = 1 / std::numbers::sqrt2, sum = 0;
      for (std::size_t k = 0; k <= n; ++k) {
        sum += r.newton[d][k] * current;
        const double next = (x * current - (k > 0 ? r.alpha[k - 1] * previous : 0.0)) / r.alpha[k];
        previous = current;
        current = next;
      }
      EXPECT_NEAR(sum, 0.0, 1e-12) << "depth " << d << " node " << j;
    }
    // Monic of degree n: the leading orthonormal coefficient is nonzero.
    EXPECT_NE(r.newton[d][n], 0.0);
    // The nodes are symmetric and n is odd: the polynomial is odd, so its
    // even coefficients vanish (to far below the odd ones: they are tiny).
    for (std::size_t k = 0; k <= n; k += 2) {
      EXPECT_LT(std::fabs(r.newton[d][k]), 1e-12 * std::fabs(r.newton[d][n])) << d << " " << k;
    }
    EXPECT_GE(r.condition[d], 1.0);
    EXPECT_LT(r.condition[d], 100.0);
  }
}

TEST(CquadRules, ShiftMatricesMapAPolynomialToItsHalves) {
  const auto& r = cquad::rules();
  // Coefficients of f(x) = x^3 on the 33 nodes; the left half is
  // f((x - 1) / 2) and the right half f((x + 1) / 2).
  auto coefficients_of = [&](auto f) {
    cquad::Vector c{};
    for (std::size_t i = 0; i < 33; ++i) {
      for (std::size_t j = 0; j < 33; ++j)
        c[i] += r.values_to_coefficients[3][i * 33 + j] * f(r.nodes[j]);
    }
    return c;
  };
  const auto whole = coefficients_of([](double x) { return x * x * x - x; });
  const auto left =
      coefficients_of([](double x) { return std::pow((x - 1) / 2, 3) - (x - 1) / 2; });
  const auto right =
      coefficients_of([](double x) { return std::pow((x + 1) / 2, 3) - (x + 1) / 2; });
  for (std::size_t i = 0; i < 33; ++i) {
    double l = 0, rr = 0;
    for (std::size_t j = 0; j < 33; ++j) {
      l += r.shift_left[i * 33 + j] * whole[j];
      rr += r.shift_right[i * 33 + j] * whole[j];
    }
    EXPECT_NEAR(l, left[i], 1e-13);
    EXPECT_NEAR(rr, right[i], 1e-13);
  }
}

// ---- known answers ------------------------------------------------------------

TEST(IntegratorLearner, IntegratesExpToTenDigits) {
  IntegratorLearner learner(0, 1, 1e-10);
  run_batches(
      learner, [](double x) { return std::exp(x); }, 1);
  ASSERT_TRUE(learner.done());
  EXPECT_NEAR(learner.igral(), e_minus_1, 1e-10 * e_minus_1);
  EXPECT_LT(learner.err(), 1e-10 * e_minus_1);
  EXPECT_LT(learner.size(), 200u);
}

TEST(IntegratorLearner, ANanValueIsDroppedFromTheFit) {
  IntegratorLearner learner(0, 1, 1e-10);
  const std::size_t n = run_batches(
      learner,
      [](double x) { return x == 0.5 ? std::numeric_limits<double>::quiet_NaN() : std::exp(x); },
      1);
  ASSERT_TRUE(learner.done());
  EXPECT_TRUE(std::isfinite(learner.igral()));
  EXPECT_NEAR(learner.igral(), e_minus_1, 1e-10 * e_minus_1);
  // 0.5 is the middle node of the first interval: it really was evaluated.
  const auto data = learner.data();
  EXPECT_TRUE(std::any_of(data.begin(), data.end(), [](auto p) { return p.first == 0.5; }));
  // python-adaptive is done after 33 points too: the 33-point rule without
  // the NaN node is still accurate to rounding.
  EXPECT_EQ(n, 33u);
}

TEST(IntegratorLearner, InfinitiesAndFailedPointsAreDroppedToo) {
  IntegratorLearner learner(0, 1, 1e-10);
  std::size_t asked = 0;
  while (!learner.done() && asked < 2000) {
    const double x = *learner.ask(0);
    ++asked;
    if (x == 0.25) {
      learner.fail(x);
    } else if (x == 0.75) {
      learner.tell(x, std::numeric_limits<double>::infinity());
    } else {
      learner.tell(x, std::exp(x));
    }
  }
  ASSERT_TRUE(learner.done());
  EXPECT_NEAR(learner.igral(), e_minus_1, 1e-9);
}

TEST(IntegratorLearner, FloorOfExpReachesItsToleranceOneAtATime) {
  IntegratorLearner learner(0, 3, 1e-8);
  const std::size_t n = run_batches(learner, floor_exp, 1);
  ASSERT_TRUE(learner.done()) << "after " << n << " points";
  // python-adaptive is done after 16,149 points; report ours.
  std::printf("floor(exp x) on [0, 3], tol 1e-8, ask(1): done after %zu points, igral %.15g\n", n,
              learner.igral());
  EXPECT_GT(n, 1000u);
  EXPECT_LT(n, 40000u);
  EXPECT_NEAR(learner.igral(), floor_exp_integral, 1e-6 * floor_exp_integral);
}

// ---- any batch size, any order --------------------------------------------------

TEST(IntegratorLearner, EveryBatchSizeFromOneToAHundredConverges) {
  for (std::size_t batch = 1; batch <= 100; ++batch) {
    IntegratorLearner learner(0, 1, 1e-10);
    std::mt19937 rng(static_cast<unsigned>(batch));
    run_batches(
        learner, [](double x) { return std::exp(x); }, batch, 100000, &rng);
    ASSERT_TRUE(learner.done()) << "batch " << batch;
    EXPECT_NEAR(learner.igral(), e_minus_1, 1e-10 * e_minus_1) << "batch " << batch;
  }
}

TEST(IntegratorLearner, TheBatchSizesThatBreakPythonAdaptiveWorkOnFloorOfExp) {
  // python-adaptive asserts after 69, 240, 14980 and 100 points for these.
  for (std::size_t batch : {3, 5, 10, 100}) {
    IntegratorLearner learner(0, 3, 1e-8);
    const std::size_t n = run_batches(learner, floor_exp, batch);
    ASSERT_TRUE(learner.done()) << "batch " << batch << " after " << n << " points";
    EXPECT_NEAR(learner.igral(), floor_exp_integral, 1e-6 * floor_exp_integral)
        << "batch " << batch;
  }
}

TEST(IntegratorLearner, ResultsToldInAnyOrderAndInterleavedWithAsks) {
  std::mt19937 rng(42);
  IntegratorLearner learner(0, 3, 1e-8);
  std::vector<double> pending;
  std::size_t steps = 0;
  while (!learner.done() && steps < 100000) {
    ++steps;
    const std::size_t want = std::uniform_int_distribution<std::size_t>(0, 40)(rng);
    for (double x : learner.ask(want, 0)) pending.push_back(x);
    if (pending.empty()) continue;
    std::shuffle(pending.begin(), pending.end(), rng);
    const std::size_t tell = std::uniform_int_distribution<std::size_t>(1, pending.size())(rng);
    for (std::size_t i = 0; i < tell; ++i) {
      learner.tell(pending.back(), floor_exp(pending.back()));
      pending.pop_back();
    }
  }
  ASSERT_TRUE(learner.done());
  EXPECT_NEAR(learner.igral(), floor_exp_integral, 1e-6 * floor_exp_integral);
}

/// An oscillating integrand with a closed-form integral, slow enough that
/// results come back out of order.
double sleepy_wave(double x) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 300)(rng)));
  return std::exp(x) * std::sin(20 * x);
}

double wave_antiderivative(double x) {
  return std::exp(x) * (std::sin(20 * x) - 20 * std::cos(20 * x)) / 401;
}

TEST(IntegratorLearner, AParallelRunIsReplayedExactly) {
  IntegratorLearner learner(0, 3, 1e-10);
  ThreadMaster<double, double> master(sleepy_wave, 4);
  auto summary = evaluate(master, learner, stop::learner_done(), {.seed = 5, .ask_batch = 3});
  EXPECT_EQ(summary.reason, "learner done");
  // The loop stopped asking once done() held, then told the points still in
  // flight: those may refine intervals and, for a while, raise the error
  // estimate (done() is not monotone). The estimate stays within its error.
  const double exact = wave_antiderivative(3) - wave_antiderivative(0);
  EXPECT_LE(std::fabs(learner.igral() - exact), std::max(learner.err(), 1e-10 * std::fabs(exact)));
  EXPECT_LT(learner.err(), 1e-2);
  std::vector<TaskId> tell_order;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) tell_order.push_back(e.id);
  }
  EXPECT_FALSE(std::is_sorted(tell_order.begin(), tell_order.end()));

  IntegratorLearner fresh(0, 3, 1e-10);
  replay(summary.history, fresh);  // throws at the first differing ask
  EXPECT_EQ(fresh.igral(), learner.igral());
  EXPECT_EQ(fresh.err(), learner.err());
  EXPECT_EQ(fresh.save(), learner.save());
}

// ---- state -----------------------------------------------------------------------

TEST(IntegratorLearner, SaveAndLoadGiveAnIdenticalLearner) {
  std::mt19937 rng(7);
  IntegratorLearner learner(0, 3, 1e-8);
  std::vector<double> pending;
  for (int round = 0; round < 60; ++round) {
    for (double x : learner.ask(7, 0)) pending.push_back(x);
    std::shuffle(pending.begin(), pending.end(), rng);
    for (int i = 0; i < 5 && !pending.empty(); ++i) {
      learner.tell(pending.back(), floor_exp(pending.back()));
      pending.pop_back();
    }
  }
  const auto saved = nlohmann::json::parse(learner.save().dump());  // through text
  IntegratorLearner loaded(0, 3, 1e-8);
  loaded.load(saved);
  EXPECT_EQ(loaded.save(), learner.save());
  EXPECT_EQ(loaded.size(), learner.size());
  EXPECT_EQ(loaded.igral(), learner.igral());
  // Both go on identically, pending points included.
  for (int round = 0; round < 50; ++round) {
    const auto a = learner.ask(9, 0);
    const auto b = loaded.ask(9, 0);
    ASSERT_EQ(a, b);
    for (double x : a) pending.push_back(x);
    std::shuffle(pending.begin(), pending.end(), rng);
    for (int i = 0; i < 8 && !pending.empty(); ++i) {
      learner.tell(pending.back(), floor_exp(pending.back()));
      loaded.tell(pending.back(), floor_exp(pending.back()));
      pending.pop_back();
    }
  }
  EXPECT_EQ(loaded.save(), learner.save());

  IntegratorLearner other(0, 2, 1e-8);
  EXPECT_THROW(other.load(saved), std::invalid_argument);
  EXPECT_THROW(loaded.load(nlohmann::json{{"bounds", 1}}), std::invalid_argument);
}

TEST(IntegratorLearner, ProposingWithoutMarkingLeavesTheStateUnchanged) {
  IntegratorLearner learner(0, 1, 1e-10);
  for (double x : learner.ask(20, 0)) learner.tell(x, std::exp(x));
  const auto before = learner.save();
  const auto peek = learner.propose(30, false);
  EXPECT_EQ(learner.save(), before);
  const auto real = learner.propose(30);
  EXPECT_EQ(peek.points, real.points);
  EXPECT_EQ(peek.loss_improvements, real.loss_improvements);
  for (double improvement : real.loss_improvements) EXPECT_GT(improvement, 0.0);
}

TEST(IntegratorLearner, RemoveUnfinishedProposesLostPointsAgain) {
  IntegratorLearner learner(0, 1, 1e-10);
  const auto lost = learner.ask(5, 0);
  learner.remove_unfinished();
  const auto again = learner.ask(5, 0);
  EXPECT_EQ(again, lost);
  for (double x : again) learner.tell(x, std::exp(x));
  run_batches(
      learner, [](double x) { return std::exp(x); }, 4);
  EXPECT_TRUE(learner.done());
  EXPECT_NEAR(learner.igral(), e_minus_1, 1e-10 * e_minus_1);
}

TEST(IntegratorLearner, RejectsBadInput) {
  EXPECT_THROW(IntegratorLearner(1, 0, 1e-5), std::invalid_argument);
  EXPECT_THROW(IntegratorLearner(0, INFINITY, 1e-5), std::invalid_argument);
  EXPECT_THROW(IntegratorLearner(0, 1, 0), std::invalid_argument);
  EXPECT_THROW(IntegratorLearner(0, 1, NAN), std::invalid_argument);
  IntegratorLearner learner(0, 1, 1e-5);
  try {
    learner.tell(0.123, 1.0);
    FAIL() << "0.123 is not a node";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("0.123"), std::string::npos) << e.what();
  }
}

TEST(IntegratorLearner, ADivergentIntegralIsDetected) {
  // |x - c|^-1.1 is not integrable at c (python-adaptive's divergence test).
  IntegratorLearner learner(0, 1, 1e-6);
  EXPECT_THROW(run_batches(
                   learner, [](double x) { return std::pow(std::fabs(x - 0.987654321), -1.1); }, 1),
               DivergentIntegralError);
}

TEST(IntegratorLearner, AnExactEstimateEndsTheRunWithNothingLeftToAsk) {
  // A constant is integrated exactly: the interval is precise to numerical
  // accuracy, is not refined further, and the learner has nothing to ask.
  IntegratorLearner learner(-2, 5, 1e-12);
  run_batches(
      learner, [](double) { return 3.0; }, 1);
  EXPECT_TRUE(learner.done());
  EXPECT_NEAR(learner.igral(), 21.0, 1e-13);
  EXPECT_EQ(learner.size(), 33u);
  EXPECT_EQ(learner.ask(0), std::nullopt);
  EXPECT_TRUE(learner.ask(10, 0).empty());
}

TEST(IntegratorLearner, WithFewIntervalsAllowedItStopsAndReportsItsLargerError) {
  // Beyond max_intervals the interval with the smallest error is given up;
  // the run ends when nothing is left to refine, with an honest error.
  IntegratorLearner learner(0, 3, 1e-8);
  learner.set_max_intervals(20);
  const std::size_t n = run_batches(learner, floor_exp, 1, 300000);
  EXPECT_TRUE(learner.done());
  EXPECT_LT(n, 300000u);
  EXPECT_EQ(learner.ask(0), std::nullopt);
  EXPECT_GT(learner.err(), 1e-8 * std::fabs(learner.igral()));
  EXPECT_LE(std::fabs(learner.igral() - floor_exp_integral), learner.err());
  EXPECT_THROW(learner.set_max_intervals(0), std::invalid_argument);
}

/// Points told until done, asking whenever fewer than `workers` are out and
/// telling the oldest first: what a loop on `workers` equal workers does.
std::size_t points_with_workers(double (*f)(double), std::size_t workers) {
  IntegratorLearner learner(0, 1, 1e-8);
  std::deque<double> out;
  while (!learner.done()) {
    while (out.size() < workers) {
      const auto x = learner.ask(0);
      if (!x) break;
      out.push_back(*x);
    }
    if (out.empty()) break;
    learner.tell(out.front(), f(out.front()));
    out.pop_front();
  }
  return learner.size();
}

TEST(IntegratorLearner, WithPointsOutItRefinesIntervalsWhoseEstimatesAreCurrentFirst) {
  // Before, refining intervals still waiting for their points, two workers
  // needed 2,125 points on 1/sqrt x and 723 on cos 100x.
  const auto inv_sqrt = [](double x) { return 1 / std::sqrt(x); };
  const auto cos100 = [](double x) { return std::cos(100 * x); };
  for (double (*f)(double) : {+inv_sqrt, +cos100}) {
    const std::size_t one = points_with_workers(f, 1);
    EXPECT_LE(points_with_workers(f, 2), one + 1);
    EXPECT_LE(points_with_workers(f, 8), 2 * one);
  }
  EXPECT_EQ(points_with_workers(inv_sqrt, 1), 1161u);  // python-adaptive's count
  EXPECT_EQ(points_with_workers(cos100, 1), 627u);
}

/// Rounds until done when each round asks one point at a time until
/// `workers` are out, then tells them all: tasks of equal length.
std::size_t rounds_with_workers(IntegratorLearner& learner, double (*f)(double),
                                std::size_t workers) {
  std::size_t rounds = 0;
  while (!learner.done()) {
    std::vector<double> out;
    while (out.size() < workers) {
      const auto x = learner.ask(0);
      if (!x) break;
      out.push_back(*x);
    }
    if (out.empty()) break;
    ++rounds;
    for (double x : out) learner.tell(x, f(x));
  }
  return rounds;
}

TEST(IntegratorLearner, OnManyWorkersItSplitsAheadDownTheChainAtAnEndpointSingularity) {
  // 1/sqrt x needs a chain of 57 ever smaller intervals at 0; sequential
  // refinement takes two rounds per link (a rule, then the split its result
  // asks for), which would cap 64 workers at 113 rounds. Splitting ahead at
  // the steep end descends several links per round (before: 68 rounds).
  const auto inv_sqrt = [](double x) { return 1 / std::sqrt(x); };
  IntegratorLearner learner(0, 1, 1e-8);
  EXPECT_LE(rounds_with_workers(learner, +inv_sqrt, 64), 25u);
  EXPECT_TRUE(learner.done());
  EXPECT_LT(learner.err(), 2e-8);
  EXPECT_NEAR(learner.igral(), 2.0, 2e-8);
}

TEST(IntegratorLearner, ALoadedLearnerSplitsAheadAsTheSavedOneWould) {
  // The rankings of waiting intervals are not saved but rebuilt from the
  // values: with points out, a loaded learner asks what the saved one asks.
  const auto inv_sqrt = [](double x) { return 1 / std::sqrt(x); };
  IntegratorLearner learner(0, 1, 1e-8);
  for (int round = 0; round < 5; ++round) {
    std::vector<double> out;
    while (out.size() < 64) out.push_back(*learner.ask(0));
    for (double x : out) learner.tell(x, inv_sqrt(x));
  }
  // Saved in the middle of a round, after it split ahead at 0.
  for (int i = 0; i < 12; ++i) (void)learner.ask(0);
  IntegratorLearner loaded(0, 1, 1e-8);
  loaded.load(nlohmann::json::parse(learner.save().dump()));
  for (int i = 0; i < 40; ++i) ASSERT_EQ(*loaded.ask(0), *learner.ask(0)) << "point " << i;
  EXPECT_EQ(loaded.save(), learner.save());
}

static_assert(BatchLearner<IntegratorLearner>);
static_assert(FinishingLearner<IntegratorLearner>);
static_assert(LossLearner<IntegratorLearner>);

}  // namespace
