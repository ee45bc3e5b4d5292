#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;

constexpr double inf = std::numeric_limits<double>::infinity();
const double nan = std::numeric_limits<double>::quiet_NaN();

static_assert(BatchLearner<Learner1D<double>>);
static_assert(LossLearner<Learner1D<std::vector<double>>>);

double peak(double x) {
  const double a = 0.01;
  return x + a * a / (a * a + x * x);
}

/// Runs ask(1)/tell sequentially for n points.
template <class L, class F>
void sample(L& learner, F f, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double x = *learner.ask(0);
    learner.tell(x, f(x));
  }
}

/// Mean |f - linear interpolation of the samples| on a uniform grid.
double interpolation_error(const std::vector<std::pair<double, double>>& data, double (*f)(double),
                           std::size_t grid = 100001) {
  double total = 0.0;
  std::size_t j = 0;
  for (std::size_t i = 0; i < grid; ++i) {
    const double x = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(grid - 1);
    while (j + 2 < data.size() && data[j + 1].first < x) ++j;
    const auto& [x0, y0] = data[j];
    const auto& [x1, y1] = data[j + 1];
    const double y = y0 + (y1 - y0) * (x - x0) / (x1 - x0);
    total += std::fabs(f(x) - y);
  }
  return total / static_cast<double>(grid);
}

TEST(Learner1D, ReproducesPythonAdaptivesTraceExactly) {
  std::ifstream in(TEST_DATA_DIR "/adaptive-trace-learner1d-peak-N200.json");
  ASSERT_TRUE(in) << "missing test data";
  const auto trace = nlohmann::json::parse(in);
  Learner1D<double> learner(-1.0, 1.0);
  const auto& points = trace.at("points");
  ASSERT_EQ(points.size(), 200u);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto proposal = learner.propose(1);
    ASSERT_EQ(proposal.size(), 1u);
    const double x = proposal.points[0];
    const double expected_x = points[i][0].get<double>();
    ASSERT_LE(std::fabs(x - expected_x), 1e-12 * std::max(1.0, std::fabs(expected_x)))
        << "point " << i;
    const double expected_improvement = decode<double>(points[i][2]);
    if (std::isinf(expected_improvement)) {
      EXPECT_TRUE(std::isinf(proposal.loss_improvements[0])) << "point " << i;
    } else {
      EXPECT_NEAR(proposal.loss_improvements[0], expected_improvement, 1e-12 * expected_improvement)
          << "point " << i;
    }
    const double y = peak(x);
    EXPECT_NEAR(y, points[i][1].get<double>(), 1e-12 * std::max(1.0, std::fabs(y)));
    learner.tell(x, y);
  }
  const double expected_loss = trace.at("loss_after_n").get<double>();
  EXPECT_NEAR(learner.loss(), expected_loss, 1e-12 * expected_loss);
}

TEST(Learner1D, SamplesThePeakBetterThanAGridAsPythonAdaptiveDoes) {
  for (const auto& [n, reference] : {std::pair{200u, 5.90e-5}, std::pair{2000u, 8.22e-7}}) {
    Learner1D<double> learner(-1.0, 1.0);
    sample(learner, peak, n);
    const double adaptive = interpolation_error(learner.data(), peak);
    std::vector<std::pair<double, double>> grid;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n - 1);
      grid.emplace_back(x, peak(x));
    }
    const double uniform = interpolation_error(grid, peak);
    EXPECT_LE(adaptive, reference * 1.05) << n << " points";
    EXPECT_LE(adaptive * 10.0, uniform) << n << " points";
  }
}

TEST(Learner1D, BadBoundsAreRejected) {
  EXPECT_THROW(Learner1D<double>(1.0, -1.0), std::invalid_argument);
  EXPECT_THROW(Learner1D<double>(1.0, 1.0), std::invalid_argument);
  EXPECT_THROW(Learner1D<double>(nan, 1.0), std::invalid_argument);
  EXPECT_THROW(Learner1D<double>(0.0, inf), std::invalid_argument);
  try {
    Learner1D<double>(2.0, -3.0);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[2, -3]"), std::string::npos) << e.what();
  }
}

TEST(Learner1D, FirstAsksAreTheBoundsThenALinspace) {
  Learner1D<double> learner(-2.0, 3.0);
  EXPECT_EQ(learner.propose(2, false).points, (std::vector<double>{-2.0, 3.0}));
  EXPECT_EQ(learner.propose(1, false).points, (std::vector<double>{-2.0}));
  const auto five = learner.propose(5, false);
  EXPECT_EQ(five.points, (std::vector<double>{-2.0, -0.75, 0.5, 1.75, 3.0}));
  EXPECT_TRUE(std::isinf(five.loss_improvements[2]));
  EXPECT_EQ(learner.pending_count(), 0u);  // mark_pending = false changed nothing
  EXPECT_EQ(learner.loss(), inf);
}

TEST(Learner1D, ProposingWithoutMarkingLeavesTheStateUnchanged) {
  Learner1D<double> learner(-1.0, 1.0);
  sample(learner, peak, 50);
  learner.tell_pending(0.123);
  const auto before = learner.propose(7, false);
  const auto again = learner.propose(7, false);
  EXPECT_EQ(before.points, again.points);
  EXPECT_EQ(before.loss_improvements, again.loss_improvements);
  const double pending_loss = learner.pending_loss();
  const auto marked = learner.propose(7, true);
  EXPECT_EQ(marked.points, before.points);
  EXPECT_EQ(learner.pending_count(), 8u);
  EXPECT_LE(learner.pending_loss(), pending_loss);
}

TEST(Learner1D, PendingPointsShareTheirIntervalsLossByLength) {
  Learner1D<double> learner(0.0, 1.0, losses_1d::uniform());
  learner.tell(0.0, 0.0);
  learner.tell(1.0, 1.0);
  EXPECT_DOUBLE_EQ(learner.loss(), 1.0);
  learner.tell_pending(0.25);
  EXPECT_DOUBLE_EQ(learner.loss(), 1.0);           // the real loss ignores pending points
  EXPECT_DOUBLE_EQ(learner.pending_loss(), 0.75);  // (1 - 0.25) * 1 / 1
  // The next point goes into the larger part.
  EXPECT_DOUBLE_EQ(*learner.ask(0), 0.625);
}

TEST(Learner1D, BatchesSpreadGreedilyOverIntervals) {
  Learner1D<double> learner(0.0, 1.0, losses_1d::uniform());
  learner.tell_many({0.0, 0.5, 1.0}, {0.0, 0.0, 0.0});
  // Two intervals of equal loss 0.5: both get split, then the third point
  // goes to the one further left (ties go left), which gets three parts.
  const auto p = learner.propose(3);
  ASSERT_EQ(p.points.size(), 3u);
  EXPECT_DOUBLE_EQ(p.points[0], 0.75);  // the group with the larger loss per part first
  EXPECT_DOUBLE_EQ(p.loss_improvements[0], 0.25);
  EXPECT_DOUBLE_EQ(p.points[1], 0.5 / 3);
  EXPECT_DOUBLE_EQ(p.points[2], 1.0 / 3);
  EXPECT_DOUBLE_EQ(p.loss_improvements[2], 0.5 / 3);
}

TEST(Learner1D, ToldPointsOutsideTheBoundsAreKeptButNotUsed) {
  Learner1D<double> learner(0.0, 1.0);
  learner.tell(0.0, 1.0);
  learner.tell(1.0, 2.0);
  const double loss = learner.loss();
  learner.tell(5.0, 100.0);
  EXPECT_EQ(learner.size(), 3u);
  EXPECT_EQ(learner.data().back(), (std::pair{5.0, 100.0}));
  EXPECT_EQ(learner.loss(), loss);
  EXPECT_EQ(*learner.ask(0), 0.5);
}

TEST(Learner1D, DuplicateTellsKeepTheFirstValue) {
  Learner1D<double> learner(0.0, 1.0);
  learner.tell(0.5, 1.0);
  learner.tell(0.5, 7.0);
  EXPECT_EQ(learner.size(), 1u);
  EXPECT_EQ(learner.data().front().second, 1.0);
}

TEST(Learner1D, VectorOutputsOfAFixedOrRunTimeSize) {
  Learner1D<std::array<double, 2>> fixed(-1.0, 1.0);
  sample(
      fixed,
      [](double x) {
        return std::array<double, 2>{std::sin(3 * x), peak(x)};
      },
      300);
  EXPECT_EQ(fixed.components(), 2u);
  EXPECT_LT(fixed.loss(), 0.05);

  Learner1D<std::vector<double>> dynamic(-1.0, 1.0);
  EXPECT_EQ(dynamic.components(), 0u);
  dynamic.tell(0.0, {1.0, 2.0, 3.0});
  EXPECT_EQ(dynamic.components(), 3u);
  try {
    dynamic.tell(0.5, {1.0, 2.0});
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("has 2 components, but earlier values had 3"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(dynamic.tell(0.5, {}), std::invalid_argument);
}

TEST(Learner1D, NaNAndInfinityNeitherCrashNorStallTheRefinement) {
  // NaN on (0.3, 0.5): the peak is refined as if it were not there.
  auto holed = [](double x) { return x > 0.3 && x < 0.5 ? std::nan("") : peak(x); };
  Learner1D<double> with_hole(-1.0, 1.0);
  Learner1D<double> without(-1.0, 1.0);
  sample(with_hole, holed, 300);
  sample(without, peak, 300);
  EXPECT_TRUE(std::isfinite(with_hole.loss()));
  std::size_t near_peak_with = 0;
  std::size_t near_peak_without = 0;
  for (const auto& [x, y] : with_hole.data()) near_peak_with += std::fabs(x) < 0.05 ? 1 : 0;
  for (const auto& [x, y] : without.data()) near_peak_without += std::fabs(x) < 0.05 ? 1 : 0;
  EXPECT_GE(static_cast<double>(near_peak_with), 0.8 * static_cast<double>(near_peak_without));

  // Vector outputs with a component that is always NaN (python-adaptive's
  // issue #339 looped forever there): asks go on and spread over the domain.
  Learner1D<std::vector<double>> vector(0.0, 1.0);
  std::set<double> xs;
  for (int i = 0; i < 200; ++i) {
    const double x = *vector.ask(0);
    xs.insert(x);
    vector.tell(x, {std::sin(x), std::nan(""), x > 0.5 ? inf : 1.0});
  }
  EXPECT_EQ(xs.size(), 200u);
}

TEST(Learner1D, EveryLossFunctionRefines) {
  const std::vector<IntervalLoss> losses{
      losses_1d::uniform(),  losses_1d::distance(),  losses_1d::abs_min_log(),
      losses_1d::triangle(), losses_1d::curvature(), losses_1d::resolution(0.001, 0.05),
  };
  for (const auto& loss : losses) {
    Learner1D<double> learner(-1.0, 1.0, loss);
    sample(learner, peak, 400);
    EXPECT_EQ(learner.size(), 400u) << loss.name;
    EXPECT_TRUE(std::isfinite(learner.loss())) << loss.name;
    const auto data = learner.data();
    double largest_gap = 0.0;
    for (std::size_t i = 1; i < data.size(); ++i) {
      largest_gap = std::max(largest_gap, data[i].first - data[i - 1].first);
    }
    EXPECT_LT(largest_gap, 0.25) << loss.name;
    if (loss.name == "uniform") {
      EXPECT_LT(largest_gap, 0.0079) << loss.name;
    }
  }
  // The resolution loss caps the largest and smallest interval (domain length 1 after scaling).
  Learner1D<double> capped(-1.0, 1.0, losses_1d::resolution(0.01, 0.02));
  sample(capped, peak, 300);
  const auto data = capped.data();
  for (std::size_t i = 1; i < data.size(); ++i)
    EXPECT_LE(data[i].first - data[i - 1].first, 0.04 + 1e-12);
}

TEST(Learner1D, UserLossesSeeTheirNeighbours) {
  std::size_t calls = 0;
  IntervalLoss curvature_like{"second difference", 1, [&](const IntervalNeighborhood& n) {
                                ++calls;
                                EXPECT_EQ(n.size(), 4u);
                                EXPECT_TRUE(n.has(n.left()) && n.has(n.right()));
                                if (!n.has(0) || !n.has(3)) return n.dx();
                                const double d = n.y0(3) - n.y0(2) - (n.y0(1) - n.y0(0));
                                return n.dx() * (1.0 + 100.0 * std::fabs(d));
                              }};
  Learner1D<double> learner(-1.0, 1.0, curvature_like);
  sample(learner, peak, 200);
  EXPECT_GT(calls, 400u);
  std::size_t near_peak = 0;
  for (const auto& [x, y] : learner.data()) near_peak += std::fabs(x) < 0.1 ? 1 : 0;
  EXPECT_GT(near_peak, 40u);
}

TEST(Learner1D, ResolutionLossRejectsBadLimits) {
  EXPECT_THROW(losses_1d::resolution(0.5, 0.1), std::invalid_argument);
  EXPECT_THROW(losses_1d::resolution(-1.0, 0.1), std::invalid_argument);
}

TEST(Learner1D, ALargerYScaleRecomputesEveryLoss) {
  Learner1D<double> learner(0.0, 1.0);
  learner.tell_many({0.0, 0.25, 0.5, 0.75}, {0.0, 0.1, 0.0, 0.1});
  learner.tell(1.0, 100.0);  // the y range grows 1000-fold
  // After the recomputation the losses are those of a fresh learner told the same.
  Learner1D<double> fresh(0.0, 1.0);
  fresh.tell_many({0.0, 0.25, 0.5, 0.75, 1.0}, {0.0, 0.1, 0.0, 0.1, 100.0});
  EXPECT_DOUBLE_EQ(learner.loss(), fresh.loss());
  EXPECT_EQ(learner.propose(4, false).points, fresh.propose(4, false).points);
}

TEST(Learner1D, IntervalsBelowTheFloatResolutionHaveNoLoss) {
  Learner1D<double> learner(0.0, 1.0);
  learner.tell(0.0, 0.0);
  learner.tell(1.0, 1.0);
  learner.tell(0.5, 1e6);
  learner.tell(std::nextafter(0.5, 1.0), -1e6);
  // The steep jump sits in an interval one ulp wide: it gets loss 0 and the
  // learner does not ask inside it again.
  for (int i = 0; i < 20; ++i) {
    const double x = *learner.ask(0);
    EXPECT_FALSE(x > 0.5 && x < std::nextafter(0.5, 1.0));
    learner.tell(x, 0.0);
  }
}

TEST(Learner1D, TellManyGivesTheSameStateAsTellingOneByOne) {
  Learner1D<double> source(-1.0, 1.0);
  sample(source, peak, 300);
  std::vector<double> xs;
  std::vector<double> ys;
  for (const auto& [x, y] : source.data()) {
    xs.push_back(x);
    ys.push_back(y);
  }
  Learner1D<double> bulk(-1.0, 1.0);
  bulk.tell_many(xs, ys);  // rebuilt in one pass
  Learner1D<double> one_by_one(-1.0, 1.0);
  for (std::size_t i = 0; i < xs.size(); ++i) one_by_one.tell(xs[i], ys[i]);
  one_by_one.tell_many({}, {}, true);  // a rebuild makes the losses current
  EXPECT_EQ(bulk.data(), one_by_one.data());
  EXPECT_EQ(bulk.loss(), one_by_one.loss());
  EXPECT_EQ(bulk.propose(20, false).points, one_by_one.propose(20, false).points);
  EXPECT_THROW(bulk.tell_many({0.1}, {}), std::invalid_argument);
}

TEST(Learner1D, RemoveUnfinishedAndFailedPoints) {
  Learner1D<double> learner(-1.0, 1.0);
  sample(learner, peak, 30);
  const auto before = learner.propose(5, false).points;
  learner.propose(5);
  EXPECT_EQ(learner.pending_count(), 5u);
  learner.remove_unfinished();
  EXPECT_EQ(learner.pending_count(), 0u);
  EXPECT_EQ(learner.pending_loss(), learner.loss());
  EXPECT_EQ(learner.propose(5, false).points, before);

  // A failed point leaves the pending set but is not asked again.
  const double x = *learner.ask(0);
  learner.fail(x);
  EXPECT_EQ(learner.pending_count(), 0u);
  EXPECT_EQ(learner.failed_points(), std::vector<double>{x});
  for (int i = 0; i < 50; ++i) {
    const double next = *learner.ask(0);
    EXPECT_NE(next, x);
    learner.tell(next, peak(next));
  }
}

TEST(Learner1D, AForgottenPendingPointLeavesNoTrace) {
  Learner1D<double> learner(-1.0, 1.0);
  sample(learner, peak, 40);
  const auto before = learner.propose(6, false);
  const double loss = learner.pending_loss();
  const auto marked = learner.propose(6);
  for (double x : marked.points) learner.forget_pending(x);
  EXPECT_EQ(learner.pending_count(), 0u);
  EXPECT_EQ(learner.pending_loss(), loss);
  EXPECT_EQ(learner.propose(6, false).points, before.points);
}

TEST(Learner1D, SaveAndLoadGiveTheSameFutureAsks) {
  Learner1D<double> original(-1.0, 1.0);
  sample(original, peak, 150);
  original.tell(3.0, 1.0);  // outside: kept in the data
  const double failed = *original.ask(0);
  original.fail(failed);
  const auto state = original.save();
  Learner1D<double> loaded(-1.0, 1.0);
  loaded.load(nlohmann::json::parse(state.dump()));
  EXPECT_EQ(loaded.data(), original.data());
  EXPECT_EQ(loaded.failed_points(), original.failed_points());
  EXPECT_EQ(loaded.loss(), original.loss());
  for (int i = 0; i < 100; ++i) {
    const double a = *original.ask(0);
    const double b = *loaded.ask(0);
    ASSERT_EQ(a, b) << "ask " << i;
    original.tell(a, peak(a));
    loaded.tell(b, peak(b));
  }
  Learner1D<double> other_bounds(0.0, 1.0);
  EXPECT_THROW(other_bounds.load(state), std::invalid_argument);
  EXPECT_THROW(loaded.load(state), std::logic_error);
  Learner1D<double> fresh(-1.0, 1.0);
  EXPECT_THROW(fresh.load(nlohmann::json::parse(R"({"bounds":[-1,1]})")), std::invalid_argument);
}

TEST(Learner1D, AParallelRunReplaysExactly) {
  auto slow_peak = [](double x) {
    thread_local std::mt19937 rng(std::random_device{}());
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution(0, 300)(rng)));
    return peak(x);
  };
  Learner1D<double> learner(-1.0, 1.0);
  ThreadMaster<double, double> master(slow_peak, 4);
  auto summary = evaluate(master, learner, stop::points(300), {.ask_batch = 2});
  Learner1D<double> fresh(-1.0, 1.0);
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.data(), learner.data());
  EXPECT_EQ(fresh.loss(), learner.loss());
}

TEST(Learner1D, LossGoalEndsARun) {
  Learner1D<double> learner(-1.0, 1.0);
  auto summary = evaluate(SerialMaster<double, double>(peak), learner, stop::loss_below(0.01));
  EXPECT_LE(learner.loss(), 0.01);
  EXPECT_GT(summary.progress.told, 100u);
}

}  // namespace
