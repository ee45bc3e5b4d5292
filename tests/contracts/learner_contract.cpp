// The contract every learner keeps, checked over every learner: a parallel
// run replays exactly, a saved state loads into a learner that asks what the
// original would have asked, pending points are not asked again, failed
// points and NaN results do not stop a run, and batches of 1 to 100 points
// are served. A new learner gets the whole suite from one case below (how to
// build it, what to evaluate) and one line in `LearnerCases`.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;

// --- the learners under contract ---------------------------------------------

struct Learner1DCase {
  using L = Learner1D<double>;
  static L make() { return L(-1.0, 1.0); }
  static double f(const double& x) { return std::tanh(10 * x) + 0.1 * x; }
  /// Left out of "the loss stays a number": as python-adaptive's Learner1D
  /// (checked: tell(-1, 0.5), tell(1, nan) gives loss() nan in both), loss()
  /// is the raw loss of the interval that ranks first, and a NaN value makes
  /// that loss NaN, although the interval is ranked by a finite stand-in.
  static constexpr bool loss_may_be_nan = true;
};

struct Learner1DVectorCase {
  using L = Learner1D<std::vector<double>>;
  static L make() { return L(-1.0, 1.0); }
  static std::vector<double> f(const double& x) { return {std::sin(5 * x), x * x}; }
};

struct Learner2DCase {
  using L = Learner2D<double>;
  static L make() { return L({{{-1.0, 1.0}, {-1.0, 1.0}}}); }
  static double f(const Point2& p) { return std::exp(-(p[0] * p[0] + 4 * p[1] * p[1]) * 4); }
};

struct LearnerNDCase {
  using L = LearnerND<double>;
  static L make() { return L({{-1.0, 1.0}, {-1.0, 1.0}, {-1.0, 1.0}}); }
  static double f(const std::vector<double>& x) { return std::tanh(3 * (x[0] + x[1] - x[2])); }
};

struct AverageLearnerCase {
  using L = AverageLearner;
  static L make() { return L(/*atol=*/1e-6); }  // never done within a contract run
  static double f(const std::uint64_t& seed) {
    return static_cast<double>((seed * 2654435761U) % 1000) / 1000.0;
  }
};

struct AverageLearner1DCase {
  using L = AverageLearner1D;
  static L make() { return L(-1.0, 1.0, {.min_samples = 3}); }
  static double f(const std::pair<std::int64_t, double>& p) {
    const double noise = static_cast<double>((p.first * 2654435761U) % 1000) / 1e4;
    return std::tanh(5 * p.second) + noise;
  }
};

struct BalancingLearnerCase {
  using L = BalancingLearner<double, double>;
  static L make() {
    L all;
    all.add(Learner1D<double>(-1.0, 1.0));
    all.add(Learner1D<double>(0.0, 3.0, losses_1d::curvature()));
    return all;
  }
  static double f(const std::pair<std::size_t, double>& p) {
    return p.first == 0 ? std::tanh(10 * p.second) : std::sin(p.second);
  }
};

struct DataSaverCase {
  using L = DataSaver<Learner1D<double>, std::array<double, 2>>;
  static L make() {
    return L(Learner1D<double>(-1.0, 1.0), [](const std::array<double, 2>& y) { return y[0]; });
  }
  static std::array<double, 2> f(const double& x) { return {std::tanh(10 * x), x}; }
};

struct IntegratorLearnerCase {
  using L = IntegratorLearner;
  static L make() { return L(0.0, 1.0, 1e-12); }  // not done within a contract run
  static double f(const double& x) { return std::sqrt(x) * std::cos(7 * x); }
};

struct SequenceLearnerCase {
  using L = SequenceLearner<double, double>;
  static L make() {
    std::vector<double> points;
    for (int i = 0; i < 1000; ++i) points.push_back(i * 0.001);
    return L(std::move(points));
  }
  static double f(const double& x) { return x * x; }
};

struct IgnorantLearnerCase {
  using L = IgnorantLearner<double, double>;
  static L make() {
    return L([x = 0.0]() mutable -> std::optional<double> { return x += 0.5; });
  }
  static double f(const double& x) { return -x; }
};

// The whole suite runs for each of these.
using LearnerCases =
    ::testing::Types<Learner1DCase, Learner1DVectorCase, Learner2DCase, LearnerNDCase,
                     AverageLearnerCase, AverageLearner1DCase, BalancingLearnerCase, DataSaverCase,
                     IntegratorLearnerCase, SequenceLearnerCase, IgnorantLearnerCase>;

// --- helpers -------------------------------------------------------------------

double nan() { return std::numeric_limits<double>::quiet_NaN(); }
void make_nan(double& y) { y = nan(); }
template <std::size_t N>
void make_nan(std::array<double, N>& y) {
  for (double& v : y) v = nan();
}
void make_nan(std::vector<double>& y) {
  for (double& v : y) v = nan();
}

/// A fixed, pseudo-random choice of inputs (from their encoding): the same
/// input is always chosen or never, whichever thread evaluates it.
template <class X>
bool chosen(const X& x, std::size_t one_in) {
  return std::hash<std::string>{}(encode(x)) % one_in == 0;
}

template <class Case>
constexpr bool loss_may_be_nan = requires {
  requires Case::loss_may_be_nan;
};

template <class L>
constexpr bool saves = requires(const L& l, L& m, const nlohmann::json& j) {
  { l.save() } -> std::convertible_to<nlohmann::json>;
  m.load(j);
};

template <class Case>
class LearnerContract : public ::testing::Test {
 protected:
  using L = typename Case::L;
  using X = input_of<L>;
  using Y = output_of<L>;

  static constexpr std::uint64_t points = 150;

  /// Evaluates `count` points one by one in this thread.
  static void feed(L& learner, std::uint64_t count) {
    evaluate(SerialMaster<X, Y>(Case::f), learner, stop::points(count), {.keep_history = false});
  }
};

TYPED_TEST_SUITE(LearnerContract, LearnerCases);

TYPED_TEST(LearnerContract, AParallelRunReplaysExactly) {
  using L = typename TestFixture::L;
  using X = typename TestFixture::X;
  using Y = typename TestFixture::Y;
  L learner = TypeParam::make();
  ThreadMaster<X, Y> master(TypeParam::f, 4);
  const auto summary =
      evaluate(master, learner, stop::points(TestFixture::points), {.seed = 11, .ask_batch = 3});
  ASSERT_EQ(summary.progress.asked, TestFixture::points);

  L fresh = TypeParam::make();
  const Progress replayed = replay(summary.history, fresh);  // checks every ask
  EXPECT_EQ(replayed.told, summary.progress.told);
  if constexpr (saves<L>) {
    EXPECT_EQ(fresh.save(), learner.save());
  }
}

TYPED_TEST(LearnerContract, ASavedStateLoadsAndAsksWhatTheOriginalWould) {
  using L = typename TestFixture::L;
  if constexpr (!saves<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    L original = TypeParam::make();
    TestFixture::feed(original, TestFixture::points / 2);
    const nlohmann::json state = original.save();

    L loaded = TypeParam::make();
    loaded.load(nlohmann::json::parse(state.dump()));  // as from a file
    EXPECT_EQ(loaded.save(), state);
    for (Entropy step = 0; step < 50; ++step) {
      const auto a = original.ask(step);
      const auto b = loaded.ask(step);
      ASSERT_EQ(a, b) << "ask " << step << " after loading";
      if (!a) break;
      original.tell(*a, TypeParam::f(*a));
      loaded.tell(*b, TypeParam::f(*b));
    }
    EXPECT_EQ(loaded.save(), original.save());
  }
}

TYPED_TEST(LearnerContract, APendingPointIsNotAskedAgain) {
  using L = typename TestFixture::L;
  using X = typename TestFixture::X;
  L learner = TypeParam::make();
  TestFixture::feed(learner, 20);
  std::set<X> pending;
  std::vector<X> order;
  for (Entropy step = 0; step < 60; ++step) {
    const auto x = learner.ask(step);
    ASSERT_TRUE(x.has_value()) << "ask " << step;
    EXPECT_TRUE(pending.insert(*x).second) << "ask " << step << " repeats a pending point";
    order.push_back(*x);
  }
  // Resolve the first half (every third one fails), keep the rest pending.
  for (std::size_t i = 0; i < order.size() / 2; ++i) {
    if (i % 3 == 0) {
      learner.fail(order[i]);
    } else {
      learner.tell(order[i], TypeParam::f(order[i]));
    }
    pending.erase(order[i]);
  }
  for (Entropy step = 60; step < 100; ++step) {
    const auto x = learner.ask(step);
    ASSERT_TRUE(x.has_value()) << "ask " << step;
    EXPECT_TRUE(pending.insert(*x).second) << "ask " << step << " repeats a pending point";
  }
}

TYPED_TEST(LearnerContract, FailedEvaluationsDoNotStopTheRun) {
  using L = typename TestFixture::L;
  using X = typename TestFixture::X;
  using Y = typename TestFixture::Y;
  L learner = TypeParam::make();
  ThreadMaster<X, Y> master(
      [](const X& x) -> Y {
        if (chosen(x, 4)) throw std::runtime_error("no value here");
        return TypeParam::f(x);
      },
      3);
  const auto summary = evaluate(master, learner, stop::points(TestFixture::points));
  EXPECT_EQ(summary.progress.asked, TestFixture::points) << summary.reason;
  EXPECT_GT(summary.progress.failed, 0U);
  EXPECT_EQ(summary.progress.told + summary.progress.failed, summary.progress.asked);
  EXPECT_TRUE(summary.unresolved.empty());
}

TYPED_TEST(LearnerContract, NaNResultsDoNotStopTheRun) {
  using L = typename TestFixture::L;
  using X = typename TestFixture::X;
  using Y = typename TestFixture::Y;
  L learner = TypeParam::make();
  std::size_t nans = 0;
  const auto summary = evaluate(SerialMaster<X, Y>([&nans](const X& x) {
                                  Y y = TypeParam::f(x);
                                  if (chosen(x, 5)) {
                                    make_nan(y);
                                    ++nans;
                                  }
                                  return y;
                                }),
                                learner, stop::points(TestFixture::points));
  EXPECT_EQ(summary.progress.told, TestFixture::points) << summary.reason;
  EXPECT_GT(nans, 0U);
  if constexpr (LossLearner<L> && !loss_may_be_nan<TypeParam>) {
    EXPECT_FALSE(std::isnan(learner.loss()));
  }
}

TYPED_TEST(LearnerContract, ServesBatchesOfOneToAHundred) {
  using L = typename TestFixture::L;
  using X = typename TestFixture::X;
  using Y = typename TestFixture::Y;
  for (std::size_t n : {1, 2, 3, 10, 37, 100}) {
    SCOPED_TRACE("batches of " + std::to_string(n));
    L learner = TypeParam::make();
    TestFixture::feed(learner, 10);
    if constexpr (BatchLearner<L>) {
      const std::vector<X> batch = learner.ask(n, 0);
      EXPECT_GE(batch.size(), 1U);
      EXPECT_LE(batch.size(), n);
      EXPECT_EQ(std::set<X>(batch.begin(), batch.end()).size(), batch.size())
          << "a batch holds the same point twice";
      for (const X& x : batch) learner.tell(x, TypeParam::f(x));
    }
    ThreadMaster<X, Y> master(TypeParam::f, 4);
    const auto summary = evaluate(master, learner, stop::points(10 + 2 * n + 20), {.ask_batch = n});
    EXPECT_EQ(summary.progress.asked, 10 + 2 * n + 20) << summary.reason;
  }
}

/// The case's name ("Learner1DCase"), from the type GoogleTest runs.
std::string case_name() {
  std::string type = ::testing::UnitTest::GetInstance()->current_test_info()->type_param();
  const auto colons = type.rfind("::");
  return colons == std::string::npos ? type : type.substr(colons + 2);
}

// A state saved by the library as it was, with the points the learner then
// asked (each told f(x)): the learner of today must load it and ask the
// same. TASKMASTER_WRITE_SAVED_STATES=1 writes the files instead, for a
// learner that has none yet.
TYPED_TEST(LearnerContract, AStateSavedEarlierStillLoadsAndAsksTheSame) {
  using L = typename TestFixture::L;
  if constexpr (!saves<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    const auto file =
        std::filesystem::path(TEST_DATA_DIR) / "saved_states" / (case_name() + ".json");
    if (std::getenv("TASKMASTER_WRITE_SAVED_STATES") != nullptr) {
      L learner = TypeParam::make();
      TestFixture::feed(learner, 60);
      nlohmann::json saved{{"state", learner.save()}, {"then_asked", nlohmann::json::array()}};
      for (Entropy step = 0; step < 20; ++step) {
        const auto x = learner.ask(step);
        if (!x) break;
        saved["then_asked"].push_back(nlohmann::json::parse(encode(*x)));
        learner.tell(*x, TypeParam::f(*x));
      }
      std::filesystem::create_directories(file.parent_path());
      std::ofstream(file) << saved.dump(1) << "\n";
    }
    std::ifstream in(file);
    ASSERT_TRUE(in) << "no saved state " << file;
    const nlohmann::json saved = nlohmann::json::parse(in);
    L learner = TypeParam::make();
    learner.load(saved.at("state"));
    const auto& then_asked = saved.at("then_asked");
    ASSERT_FALSE(then_asked.empty());
    for (std::size_t step = 0; step < then_asked.size(); ++step) {
      const auto x = learner.ask(step);
      ASSERT_TRUE(x.has_value()) << "ask " << step;
      EXPECT_EQ(nlohmann::json::parse(encode(*x)), then_asked[step]) << "ask " << step;
      learner.tell(*x, TypeParam::f(*x));
    }
  }
}

}  // namespace
