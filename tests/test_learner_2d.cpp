#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "learners/cache_aligned_heap.hpp"
#include "learners/point_table_2d.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using Point = std::array<double, 2>;

constexpr Bounds2D square{{{-1, 1}, {-1, 1}}};

/// The ring of python-adaptive's documentation: a sharp circular ridge of
/// radius 0.75 and width a = 0.2 on a linear slope.
double ring(const Point& p) {
  const double r = p[0] * p[0] + p[1] * p[1] - 0.75 * 0.75;
  return p[0] + std::exp(-r * r / std::pow(0.2, 4));
}

template <class L, class F>
void run_sequentially(L& learner, F f, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    auto x = learner.ask(0);
    ASSERT_TRUE(x.has_value()) << "at point " << i;
    learner.tell(*x, f(*x));
  }
}

/// Mean absolute error of the learner's linear interpolation against f on a
/// 401 x 401 grid over the square, as python-adaptive's figure was measured.
template <class L, class F>
double mean_error(const L& learner, F f) {
  double total = 0;
  std::size_t count = 0;
  for (int i = 0; i <= 400; ++i) {
    for (int j = 0; j <= 400; ++j) {
      const Point p{-1 + 2.0 * i / 400, -1 + 2.0 * j / 400};
      const auto v = learner.interpolate(p);
      EXPECT_TRUE(v.has_value());
      total += std::abs(*v - f(p));
      ++count;
    }
  }
  return total / static_cast<double>(count);
}

double uniform_grid_error(int side) {
  Learner2D<double> grid(square, losses_2d::uniform());
  std::vector<Point> xs;
  std::vector<double> ys;
  for (int i = 0; i < side; ++i) {
    for (int j = 0; j < side; ++j) {
      const Point p{-1 + 2.0 * i / (side - 1), -1 + 2.0 * j / (side - 1)};
      xs.push_back(p);
      ys.push_back(ring(p));
    }
  }
  grid.tell_many(xs, ys);
  return mean_error(grid, ring);
}

std::size_t near_ring(const std::vector<Point>& points, auto&& keep) {
  return static_cast<std::size_t>(std::count_if(points.begin(), points.end(), [&](const Point& p) {
    return keep(p) && std::abs(std::hypot(p[0], p[1]) - 0.75) < 0.1;
  }));
}

TEST(Learner2D, SatisfiesTheLearnerConcepts) {
  static_assert(Learner<Learner2D<double>>);
  static_assert(BatchLearner<Learner2D<double>>);
  static_assert(LossLearner<Learner2D<double>>);
  static_assert(BatchLearner<Learner2D<std::vector<double>>>);
}

TEST(Learner2D, AsksTheCornersFirstThenPointsInsideTheBounds) {
  Learner2D<double> learner({{{0, 2}, {10, 11}}});
  std::set<Point> corners;
  for (int i = 0; i < 4; ++i) corners.insert(*learner.ask(0));
  EXPECT_EQ(corners, (std::set<Point>{{0, 10}, {0, 11}, {2, 10}, {2, 11}}));
  EXPECT_EQ(learner.loss(), std::numeric_limits<double>::infinity());
  for (const auto& c : corners) learner.tell(c, c[0] * c[1]);
  std::set<Point> seen = corners;
  for (int i = 0; i < 200; ++i) {
    const auto x = *learner.ask(0);
    EXPECT_GE(x[0], 0);
    EXPECT_LE(x[0], 2);
    EXPECT_GE(x[1], 10);
    EXPECT_LE(x[1], 11);
    EXPECT_TRUE(seen.insert(x).second) << "asked twice: " << x[0] << ", " << x[1];
    learner.tell(x, std::sin(3 * x[0]) * x[1]);
  }
  EXPECT_EQ(learner.size(), 204u);
  EXPECT_TRUE(std::isfinite(learner.loss()));
}

TEST(Learner2D, SameCallsGiveTheSamePoints) {
  Learner2D<double> a(square), b(square);
  for (int i = 0; i < 300; ++i) {
    auto batch_a = a.ask(3, 0);
    auto batch_b = b.ask(3, 12345);  // the entropy is not used
    ASSERT_EQ(batch_a, batch_b);
    for (const auto& x : batch_a) a.tell(x, ring(x));
    for (const auto& x : batch_b) b.tell(x, ring(x));
  }
  EXPECT_EQ(a.points(), b.points());
}

TEST(Learner2D, SamplesTheRingWithinTenPercentOfPythonAdaptive) {
  // python-adaptive 1.5.2 reaches 1.07e-2 at 1000 points and 1.38e-3 at 5000.
  Learner2D<double> learner(square);
  run_sequentially(learner, ring, 1000);
  const double error_1000 = mean_error(learner, ring);
  EXPECT_LE(error_1000, 1.1 * 1.07e-2);
  run_sequentially(learner, ring, 4000);
  const double error_5000 = mean_error(learner, ring);
  EXPECT_LE(error_5000, 1.1 * 1.38e-3);
  // A uniform grid of as many points (71 x 71 = 5041) is at least 5x worse.
  EXPECT_GE(uniform_grid_error(71), 5 * error_5000);
  std::printf("mean |error|: %.4g at 1000 points, %.4g at 5000\n", error_1000, error_5000);
}

TEST(Learner2D, NanOnAQuarterStillRefinesTheRingElsewhere) {
  auto in_nan_quarter = [](const Point& p) { return p[0] > 0.3 && p[1] > 0.3; };
  auto holey = [&](const Point& p) {
    return in_nan_quarter(p) ? std::numeric_limits<double>::quiet_NaN() : ring(p);
  };
  Learner2D<double> with_nan(square), without(square);
  run_sequentially(with_nan, holey, 600);
  run_sequentially(without, ring, 600);
  EXPECT_TRUE(std::isfinite(with_nan.loss()));
  EXPECT_TRUE(std::isfinite(with_nan.pending_loss()));
  auto outside_quarter = [&](const Point& p) { return !in_nan_quarter(p); };
  const auto ring_with_nan = near_ring(with_nan.points(), outside_quarter);
  const auto ring_without = near_ring(without.points(), outside_quarter);
  // python-adaptive: 57 instead of 157 near the ring after 300 points. Here
  // the ring outside the NaN quarter gets at least as many points as
  // without NaN (the budget not spent in the quarter goes elsewhere).
  EXPECT_GE(ring_with_nan, ring_without * 9 / 10);
  // And the NaN quarter is not abandoned entirely: it is filled by area.
  EXPECT_GT(std::count_if(with_nan.points().begin(), with_nan.points().end(), in_nan_quarter), 5);
}

TEST(Learner2D, InfiniteValuesAreTreatedLikeNan) {
  Learner2D<double> learner(square);
  run_sequentially(
      learner,
      [](const Point& p) {
        return p[0] < -0.5 ? std::numeric_limits<double>::infinity() : ring(p);
      },
      300);
  EXPECT_TRUE(std::isfinite(learner.loss()));
  EXPECT_GT(near_ring(learner.points(), [](const Point& p) { return p[0] > -0.4; }), 60u);
}

TEST(Learner2D, EveryBuiltInLossRefinesWithoutDuplicates) {
  const std::vector<TriangleLoss> losses{losses_2d::default_loss(),
                                         losses_2d::uniform(),
                                         losses_2d::resolution(0.01, 0.5),
                                         losses_2d::minimize_triangle_surface(),
                                         losses_2d::thresholded(0.0, 1.2, 0.1),
                                         losses_2d::triangle()};
  for (const auto& loss : losses) {
    SCOPED_TRACE(loss.name);
    Learner2D<double> learner(square, loss);
    run_sequentially(learner, ring, 400);
    std::set<Point> unique(learner.points().begin(), learner.points().end());
    EXPECT_EQ(unique.size(), 400u);
    EXPECT_TRUE(std::isfinite(learner.loss()));
    EXPECT_GT(learner.loss(), 0);
  }
}

TEST(Learner2D, LossesFocusOnWhatTheyMeasure) {
  // The default loss concentrates points near the ring, the uniform one does not.
  Learner2D<double> adaptive(square), uniform(square, losses_2d::uniform());
  run_sequentially(adaptive, ring, 800);
  run_sequentially(uniform, ring, 800);
  auto everywhere = [](const Point&) { return true; };
  const auto ring_fraction = [&](const Learner2D<double>& l) {
    return static_cast<double>(near_ring(l.points(), everywhere)) / 800;
  };
  // The band |r - 0.75| < 0.1 covers about 24% of the square.
  EXPECT_NEAR(ring_fraction(uniform), 0.24, 0.06);
  EXPECT_GT(ring_fraction(adaptive), 0.45);

  // Uniform: the largest triangle is at most a few times the smallest.
  auto triangles = uniform.triangles();
  double smallest = 1e9, largest = 0;
  for (const auto& t : triangles) {
    const double a = std::abs((t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) -
                              (t[2][0] - t[0][0]) * (t[1][1] - t[0][1]));
    smallest = std::min(smallest, a), largest = std::max(largest, a);
  }
  EXPECT_LT(largest / smallest, 20);

  // Thresholded: on a steeper slope the ring's left part (x < -0.5) has
  // values below -0.5 everywhere; deprioritised, it gets fewer points.
  auto sloped = [](const Point& p) { return ring(p) - p[0] + 3 * p[0]; };
  Learner2D<double> plain(square),
      thresholded(square, losses_2d::thresholded(-0.5, std::nullopt, 0.01));
  run_sequentially(plain, sloped, 800);
  run_sequentially(thresholded, sloped, 800);
  auto left_ring = [](const Learner2D<double>& l) {
    return near_ring(l.points(), [](const Point& p) { return p[0] < -0.5; });
  };
  EXPECT_LT(left_ring(thresholded), left_ring(plain) / 2);
}

TEST(Learner2D, ResolutionLossBoundsTriangleSizes) {
  // max_distance 0.2: every triangle larger than 0.04 (scaled units) comes first.
  Learner2D<double> learner(square, losses_2d::resolution(0.0, 0.2));
  run_sequentially(
      learner, [](const Point& p) { return p[0]; }, 200);
  for (const auto& t : learner.triangles()) {
    // In original units the square is 2 x 2: scaled area = area / 4.
    const double scaled_area = std::abs((t[1][0] - t[0][0]) * (t[2][1] - t[0][1]) -
                                        (t[2][0] - t[0][0]) * (t[1][1] - t[0][1])) /
                               2 / 4;
    EXPECT_LE(scaled_area, 0.04 + 1e-12);
  }
  // min_distance: triangles below 0.05² get loss 0, so a sharp step does not
  // pull points in forever.
  Learner2D<double> coarse(square, losses_2d::resolution(0.05, 1.0));
  run_sequentially(
      coarse, [](const Point& p) { return p[0] > 0.1 ? 1.0 : 0.0; }, 3000);
  EXPECT_EQ(coarse.loss(), 0.0);
}

TEST(Learner2D, AUserLossIsUsed) {
  std::size_t calls = 0;
  TriangleLoss left_first{[&](const TriangleSample& t) {
                            ++calls;
                            const double cx =
                                (t.points[0][0] + t.points[1][0] + t.points[2][0]) / 3;
                            return t.area() * (cx < 0 ? 10.0 : 1.0);
                          },
                          "left first"};
  Learner2D<double> learner(square, left_first);
  run_sequentially(learner, ring, 300);
  EXPECT_GT(calls, 300u);
  const auto left = std::count_if(learner.points().begin(), learner.points().end(),
                                  [](const Point& p) { return p[0] < 0; });
  EXPECT_GT(left, 200);
}

TEST(Learner2D, VectorOutputs) {
  auto f = [](const Point& p) { return std::vector<double>{ring(p), 10 * p[1]}; };
  Learner2D<std::vector<double>> learner(square);
  for (int i = 0; i < 300; ++i) {
    const auto x = *learner.ask(0);
    learner.tell(x, f(x));
  }
  EXPECT_EQ(learner.vdim(), 2u);
  const auto v = *learner.interpolate({0.2, -0.3});
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NEAR(v[1], -3.0, 1e-9);  // the linear component is interpolated exactly
  EXPECT_EQ(learner.value(0).size(), 2u);
  const auto x = *learner.ask(0);
  EXPECT_THROW(learner.tell(x, {1.0}), std::invalid_argument);
  EXPECT_THROW(learner.tell(x, {1.0, 2.0, 3.0}), std::invalid_argument);
  const auto grid = learner.interpolated_on_grid(11);
  EXPECT_EQ(grid.vdim, 2u);
  EXPECT_NEAR(grid.at(5, 10, 1), 10.0, 1e-9);
}

TEST(Learner2D, InterpolatesALinearFunctionExactly) {
  Learner2D<double> learner({{{0, 4}, {-2, 2}}});
  auto plane = [](const Point& p) { return 3 * p[0] - 2 * p[1] + 1; };
  run_sequentially(learner, plane, 50);
  const auto grid = learner.interpolated_on_grid(9);
  ASSERT_EQ(grid.xs.size(), 9u);
  EXPECT_EQ(grid.xs.front(), 0);
  EXPECT_EQ(grid.xs.back(), 4);
  for (std::size_t i = 0; i < 9; ++i)
    for (std::size_t j = 0; j < 9; ++j)
      EXPECT_NEAR(grid.at(i, j), plane({grid.xs[i], grid.ys[j]}), 1e-9);
  EXPECT_FALSE(learner.interpolate({5, 0}).has_value());
}

TEST(Learner2D, PendingPointsSpreadABatch) {
  Learner2D<double> learner(square);
  run_sequentially(learner, ring, 100);
  const auto batch = learner.ask(20, 0);
  ASSERT_EQ(batch.size(), 20u);
  EXPECT_EQ(learner.pending_size(), 20u);
  EXPECT_EQ(std::set<Point>(batch.begin(), batch.end()).size(), 20u);
  // The real loss ignores pending points; the pending loss counts them, and
  // 20 points in the worst triangles lower it.
  EXPECT_LT(learner.pending_loss(), learner.loss());
  for (const auto& x : batch) learner.tell(x, ring(x));
  EXPECT_EQ(learner.pending_size(), 0u);
  EXPECT_EQ(learner.loss(), learner.pending_loss());
}

TEST(Learner2D, ProposeWithoutMarkingLeavesTheLearnerUnchanged) {
  Learner2D<double> learner(square);
  run_sequentially(learner, ring, 60);
  learner.ask(3, 0);  // with pending points too
  const auto look = learner.propose(5, false);
  ASSERT_EQ(look.size(), 5u);
  EXPECT_EQ(learner.pending_size(), 3u);
  // The losses come sorted, largest first.
  EXPECT_TRUE(std::is_sorted(look.loss_improvements.rbegin(), look.loss_improvements.rend()));
  EXPECT_EQ(learner.propose(5, false).points, look.points);
  const auto taken = learner.propose(1, true);
  EXPECT_EQ(taken.points.front(), look.points.front());
  EXPECT_EQ(taken.loss_improvements.front(), look.loss_improvements.front());
}

TEST(Learner2D, RemoveUnfinishedDropsPendingPointsAndReasksCorners) {
  Learner2D<double> learner(square);
  const auto corners = learner.ask(4, 0);
  learner.tell(corners[0], 1.0);
  learner.remove_unfinished();
  EXPECT_EQ(learner.pending_size(), 0u);
  std::set<Point> again;
  for (int i = 0; i < 3; ++i) again.insert(*learner.ask(0));
  EXPECT_EQ(again, std::set<Point>(corners.begin() + 1, corners.end()));

  for (const auto& c : again) learner.tell(c, 1.0);
  run_sequentially(learner, ring, 100);
  const double loss = learner.loss();
  const auto next = learner.propose(1, false).points;
  learner.ask(30, 0);
  learner.remove_unfinished();
  EXPECT_EQ(learner.pending_size(), 0u);
  EXPECT_EQ(learner.loss(), loss);
  EXPECT_EQ(learner.pending_loss(), loss);
  EXPECT_EQ(learner.propose(1, false).points, next);
}

TEST(Learner2D, AFailedPointIsNotAskedAgain) {
  Learner2D<double> learner(square);
  run_sequentially(learner, ring, 50);
  const auto x = *learner.ask(0);
  learner.fail(x);
  EXPECT_EQ(learner.pending_size(), 0u);
  for (int i = 0; i < 100; ++i) {
    const auto y = *learner.ask(0);
    ASSERT_NE(y, x);
    learner.tell(y, ring(y));
  }
  EXPECT_THROW(learner.fail({0.123, 0.456}), std::invalid_argument);
  EXPECT_TRUE(std::isfinite(learner.loss()));
}

TEST(Learner2D, FailedCornersDoNotBlockTheRun) {
  Learner2D<double> learner(square);
  for (int i = 0; i < 200; ++i) {
    const auto x = *learner.ask(0);
    if (x[0] == 1 && x[1] == 1) {
      learner.fail(x);
    } else {
      learner.tell(x, ring(x));
    }
  }
  EXPECT_TRUE(learner.bounds_are_done());
  EXPECT_TRUE(std::isfinite(learner.loss()));
}

TEST(Learner2D, SaveAndLoadGiveAnIdenticalLearner) {
  Learner2D<double> learner(square);
  run_sequentially(learner, ring, 150);
  const auto pending = learner.ask(7, 0);
  learner.tell(pending[2], ring(pending[2]));
  learner.fail(pending[3]);
  learner.tell_pending({0.1, 0.2});

  const nlohmann::json state = nlohmann::json::parse(learner.save().dump());
  Learner2D<double> loaded(square);
  loaded.load(state);
  EXPECT_EQ(loaded.points(), learner.points());
  EXPECT_EQ(loaded.pending_points(), learner.pending_points());
  EXPECT_EQ(loaded.loss(), learner.loss());
  EXPECT_EQ(loaded.pending_loss(), learner.pending_loss());
  for (int i = 0; i < 100; ++i) {
    const auto a = *learner.ask(0), b = *loaded.ask(0);
    ASSERT_EQ(a, b) << "at ask " << i;
    learner.tell(a, ring(a));
    loaded.tell(b, ring(b));
  }

  // NaN values survive the round trip.
  Learner2D<double> with_nan(square);
  run_sequentially(
      with_nan, [](const Point& p) { return p[0] > 0 ? NAN : ring(p); }, 40);
  Learner2D<double> reloaded(square);
  reloaded.load(nlohmann::json::parse(with_nan.save().dump()));
  EXPECT_EQ(reloaded.propose(5, false).points, with_nan.propose(5, false).points);
  EXPECT_TRUE(std::isnan(reloaded.value(39)) == std::isnan(with_nan.value(39)));

  // A learner built differently, or not new, refuses the state.
  Learner2D<double> other_bounds({{{0, 1}, {-1, 1}}});
  EXPECT_THROW(other_bounds.load(state), std::invalid_argument);
  Learner2D<double> other_loss(square, losses_2d::uniform());
  EXPECT_THROW(other_loss.load(state), std::invalid_argument);
  EXPECT_THROW(loaded.load(state), std::invalid_argument);
  Learner2D<double> fresh(square);
  EXPECT_THROW(fresh.load(nlohmann::json{{"learner", "Learner1D"}}), std::invalid_argument);
}

TEST(Learner2D, TellManyMatchesTellingOneByOne) {
  std::vector<Point> xs;
  std::vector<double> ys;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int i = 0; i < 500; ++i) {
    xs.push_back({u(rng), u(rng)});
    ys.push_back(ring(xs.back()));
  }
  for (const auto& c : std::vector<Point>{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}}) {
    xs.push_back(c);
    ys.push_back(ring(c));
  }
  Learner2D<double> bulk(square), single(square);
  bulk.tell_many(xs, ys);
  for (std::size_t i = 0; i < xs.size(); ++i) single.tell(xs[i], ys[i]);
  EXPECT_EQ(bulk.size(), single.size());
  // The same Delaunay triangulation (random points: no ties)...
  auto sorted_triangles = [](const Learner2D<double>& l) {
    auto triangles = l.triangles();
    for (auto& t : triangles) std::sort(t.begin(), t.end());
    std::sort(triangles.begin(), triangles.end());
    return triangles;
  };
  EXPECT_EQ(sorted_triangles(bulk), sorted_triangles(single));
  // ... and the same losses up to the value scale, which one by one is
  // refreshed only when the value range grows by 10%.
  EXPECT_NEAR(bulk.loss(), single.loss(), 0.1 * single.loss());
  // And a bulk-told learner reloads.
  Learner2D<double> loaded(square);
  loaded.load(bulk.save());
  EXPECT_EQ(loaded.propose(3, false).points, bulk.propose(3, false).points);
}

TEST(Learner2D, AspectRatioStretchesTrianglesAlongX) {
  auto mean_ratio = [](const Learner2D<double>& l) {
    double sum = 0;
    const auto triangles = l.triangles();
    for (const auto& t : triangles) {
      const auto [xmin, xmax] = std::minmax({t[0][0], t[1][0], t[2][0]});
      const auto [ymin, ymax] = std::minmax({t[0][1], t[1][1], t[2][1]});
      sum += std::log((xmax - xmin) / (ymax - ymin));
    }
    return sum / static_cast<double>(triangles.size());
  };
  auto plane = [](const Point& p) { return p[0] + p[1]; };
  Learner2D<double> square_cells(square, losses_2d::uniform());
  Learner2D<double> wide_cells(square, losses_2d::uniform(), 4.0);
  run_sequentially(square_cells, plane, 300);
  run_sequentially(wide_cells, plane, 300);
  EXPECT_NEAR(mean_ratio(square_cells), 0.0, 0.3);
  EXPECT_GT(mean_ratio(wide_cells), 0.8);
}

TEST(Learner2D, RejectsBadInput) {
  EXPECT_THROW(Learner2D<double>({{{1, 1}, {0, 1}}}), std::invalid_argument);
  EXPECT_THROW(Learner2D<double>({{{0, 1}, {2, -2}}}), std::invalid_argument);
  EXPECT_THROW(Learner2D<double>({{{0, NAN}, {0, 1}}}), std::invalid_argument);
  EXPECT_THROW(Learner2D<double>(square, losses_2d::default_loss(), 0.0), std::invalid_argument);
  EXPECT_THROW(losses_2d::resolution(0.5, 0.1), std::invalid_argument);
  Learner2D<double> learner(square);
  EXPECT_THROW(learner.tell({2, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(learner.tell({NAN, 0}, 1.0), std::invalid_argument);
  EXPECT_THROW(learner.tell_pending({0, -1.5}), std::invalid_argument);
  EXPECT_THROW(learner.tell_many({{0, 0}}, {1.0, 2.0}), std::invalid_argument);
  try {
    learner.tell({2, 0}, 1.0);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("(2, 0)"), std::string::npos) << e.what();
  }
  // A point told twice keeps its last value, as in python-adaptive.
  learner.tell({0, 0}, 1.0);
  learner.tell({0, 0}, 5.0);
  EXPECT_EQ(learner.size(), 1u);
  EXPECT_EQ(learner.value(0), 5.0);
  // tell_pending of a known point does nothing.
  learner.tell_pending({0, 0});
  EXPECT_EQ(learner.pending_size(), 0u);
}

double random_sleep_then_ring(const Point& p) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, 500)(rng)));
  return ring(p);
}

TEST(Learner2D, AParallelRunReplaysExactly) {
  Learner2D<double> learner(square);
  ThreadMaster<Point, double> master(random_sleep_then_ring, 4);
  auto summary = evaluate(master, learner, stop::points(300), {.seed = 5, .ask_batch = 2});
  ASSERT_EQ(summary.progress.told, 300u);
  std::vector<TaskId> tell_order;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) tell_order.push_back(e.id);
  }
  EXPECT_FALSE(std::is_sorted(tell_order.begin(), tell_order.end()));

  Learner2D<double> fresh(square);
  std::vector<Point> asks;
  replay(summary.history, fresh, [&](const HistoryEvent<Point, double>& e, const Progress&) {
    if (e.kind == EventKind::ask) asks.push_back(*e.x);
  });
  EXPECT_EQ(asks, summary.history.asked());
  EXPECT_EQ(fresh.points(), learner.points());
  EXPECT_EQ(fresh.loss(), learner.loss());
}

}  // namespace

namespace {

TEST(Learner2D, TellingRecordedResultsWithoutAskingGivesTheRunsLoss) {
  // Told one by one with no ask in between, the losses wait in a backlog;
  // they must still end up those of the run that produced the data.
  const Bounds2D bounds{{{-1.0, 1.0}, {-1.0, 1.0}}};
  Learner2D<double> run(bounds);
  std::vector<Point> xs;
  std::vector<double> ys;
  for (int i = 0; i < 1500; ++i) {
    const Point x = *run.ask(0);
    xs.push_back(x);
    ys.push_back(ring(x));
    run.tell(x, ys.back());
  }
  Learner2D<double> told(bounds);
  for (std::size_t i = 0; i < xs.size(); ++i) told.tell(xs[i], ys[i]);
  EXPECT_DOUBLE_EQ(told.loss(), run.loss());
}

}  // namespace

namespace {

TEST(Learner2D, PointsToldOnTheBoundaryLeaveNoStaleLoss) {
  // A point told on an edge of the hull splits the triangle there; in a
  // third of the cases the split turns that very triangle into a flat sliver
  // that the triangulation flips out of the domain. Its old loss must not
  // stay in the queue (it did whenever the point had not been asked for, so
  // that the triangle was still queued): the learner's loss is that of the
  // live triangles, the same as for the same points told at once.
  std::vector<Point> xs{{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  // Points in the middle first, so that the triangles along the boundary
  // are the largest, then points on the boundary.
  for (int i = 0; i < 50; ++i) xs.push_back({u(rng), u(rng)});
  for (const double t : {-0.5, 0.0, 0.5}) {
    for (const Point& p : {Point{t, -1}, Point{1, t}, Point{-t, 1}, Point{-1, -t}}) xs.push_back(p);
  }
  std::vector<double> ys;
  for (const auto& x : xs) ys.push_back(ring(x));
  Learner2D<double> single(square), bulk(square);
  for (std::size_t i = 0; i < xs.size(); ++i) single.tell(xs[i], ys[i]);
  bulk.tell_many(xs, ys);
  ASSERT_EQ(single.size(), xs.size());
  // Equal up to the value scale, which one by one is refreshed only when the
  // value range grows by 10%; the stale loss was three times larger.
  EXPECT_NEAR(single.loss(), bulk.loss(), 0.1 * bulk.loss());
  // And what it asks next lies in live triangles, none of them told.
  for (const auto& p : single.propose(20, false).points) {
    EXPECT_EQ(std::find(xs.begin(), xs.end(), p), xs.end());
  }
}

}  // namespace

namespace {

TEST(Learner2D, ALongRunKeepsItsDataThroughMemoryReorders) {
  // The triangulation moves its storage into space-filling-curve order each
  // time it doubles (first at 512 points); after several such moves every
  // told point must still carry its value, the triangulation must still be
  // whole, and the loss must still be that of the live triangles.
  Learner2D<double> learner(square);
  run_sequentially(learner, ring, 3000);
  const auto& xs = learner.points();
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const auto v = learner.interpolate(xs[i]);
    ASSERT_TRUE(v.has_value()) << "at told point " << i;
    EXPECT_EQ(*v, learner.value(i)) << "at told point " << i;
  }
  // Euler: a triangulation of n points, h of them on the hull, has 2n - h - 2
  // triangles; here the hull is the square's boundary.
  const auto on_hull =
      static_cast<std::size_t>(std::count_if(xs.begin(), xs.end(), [](const Point& p) {
        return std::abs(p[0]) == 1 || std::abs(p[1]) == 1;
      }));
  EXPECT_EQ(learner.triangles().size(), 2 * xs.size() - on_hull - 2);
  std::vector<double> ys;
  for (std::size_t i = 0; i < xs.size(); ++i) ys.push_back(learner.value(i));
  Learner2D<double> bulk(square);
  bulk.tell_many(xs, ys);
  EXPECT_NEAR(learner.loss(), bulk.loss(), 0.1 * bulk.loss());

  // Values of several components live apart from the triangulation: they
  // must move with it.
  Learner2D<std::vector<double>> vector_learner(square);
  run_sequentially(
      vector_learner,
      [](const Point& p) {
        return std::vector{ring(p), p[1]};
      },
      1500);
  for (std::size_t i = 0; i < vector_learner.size(); ++i) {
    EXPECT_EQ(vector_learner.interpolate(vector_learner.points()[i]), vector_learner.value(i));
  }
}

}  // namespace

namespace {

// The private containers the triangulation relies on, against the standard
// library's.

struct HeapItem {
  double loss;
  std::uint64_t key;
  std::uint64_t stamp;
  std::uint64_t payload;
  bool operator==(const HeapItem&) const = default;
};
struct HeapLower {
  bool operator()(const HeapItem& a, const HeapItem& b) const noexcept {
    if (a.loss != b.loss) return a.loss < b.loss;
    if (a.key != b.key) return a.key > b.key;
    return a.stamp > b.stamp;
  }
};

TEST(Learner2D, TheLossHeapPopsInTheOrderOfAPriorityQueue) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> coarse(0, 50);  // many equal losses
  std::uint64_t stamp = 0;
  auto item = [&] {
    ++stamp;
    return HeapItem{coarse(rng) / 10.0, static_cast<std::uint64_t>(coarse(rng)), stamp, stamp};
  };
  detail::CacheAlignedHeap<HeapItem, HeapLower> heap;
  std::priority_queue<HeapItem, std::vector<HeapItem>, HeapLower> reference;
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 1 + round % 7; ++i) {
      const HeapItem x = item();
      heap.push(x);
      reference.push(x);
    }
    for (int i = 0; i < round % 5 && !reference.empty(); ++i) {
      ASSERT_EQ(heap.top(), reference.top());
      heap.pop();
      reference.pop();
    }
    ASSERT_EQ(heap.size(), reference.size());
  }
  // Rebuilt from unordered items, as after dropping superseded entries, at
  // every size up to a few levels.
  std::vector<HeapItem> rest;
  while (!reference.empty()) rest.push_back(reference.top()), reference.pop();
  for (std::size_t n = 0; n <= 200 && n <= rest.size(); ++n) {
    std::shuffle(rest.begin(), rest.end(), rng);
    heap.clear();
    for (std::size_t i = 0; i < n; ++i) heap.push_unordered(rest[i]), reference.push(rest[i]);
    heap.restore();
    while (!reference.empty()) {
      ASSERT_EQ(heap.top(), reference.top()) << "rebuilt from " << n;
      heap.pop();
      reference.pop();
    }
  }
  EXPECT_TRUE(heap.empty());
}

TEST(Learner2D, ThePointTableFindsWhatItHolds) {
  detail::PointTable2D<std::uint32_t> table;
  std::map<Point, std::uint32_t> reference;
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> grid(-300, 300);  // repeats, and exact zeros
  for (std::uint32_t i = 0; i < 20000; ++i) {
    const Point p{grid(rng) / 300.0, grid(rng) / 300.0};
    const auto [value, inserted] = table.try_emplace(p, i);
    const bool reference_inserted = reference.emplace(p, i).second;
    ASSERT_EQ(inserted, reference_inserted);
    ASSERT_EQ(*value, reference.at(p));
  }
  EXPECT_EQ(table.size(), reference.size());
  EXPECT_FALSE(table.contains({2.0, 2.0}));
  table.erase_if([](const Point& p, std::uint32_t) { return p[0] < 0; });
  std::erase_if(reference, [](const auto& entry) { return entry.first[0] < 0; });
  std::size_t seen = 0;
  table.for_each([&](const Point& p, std::uint32_t v) {
    ++seen;
    EXPECT_EQ(reference.at(p), v);
  });
  EXPECT_EQ(seen, reference.size());
  for (const auto& [p, v] : reference)
    ASSERT_EQ(table.find(p) != nullptr ? *table.find(p) : ~0u, v);
  EXPECT_EQ(table.find({-0.5, 0.5}), nullptr);
}

}  // namespace
