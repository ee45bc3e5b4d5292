// The contract every learner keeps, checked over every learner: a parallel
// run replays exactly, a saved state loads into a learner that asks what the
// original would have asked (and a state of another kind, of a newer
// version, cut short, or loaded into a learner that holds data is refused
// with a StateError), pending points are not asked again, failed points and
// NaN results do not stop a run, and batches of 1 to 100 points are served. A new learner gets the
// whole suite from one case below (how to build it, what to evaluate) and one line in
// `LearnerCases`.
#include <gtest/gtest.h>

#include <array>
#include <bit>
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

  /// A state saved halfway through a run, through text as from a file.
  static nlohmann::json saved_halfway() {
    L learner = Case::make();
    feed(learner, points / 2);
    return nlohmann::json::parse(learner.save().dump());
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
  if constexpr (SavableLearner<L>) {
    EXPECT_EQ(fresh.save(), learner.save());
  }
}

TYPED_TEST(LearnerContract, ASavedStateLoadsAndAsksWhatTheOriginalWould) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
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

// States saved by the library as it was, with the points the learner then
// asked (each told f(x)): the learner of today must load them and ask the
// same. saved_states/ holds states written before they had an envelope,
// saved_states/sealed/ states with one. TASKMASTER_WRITE_SAVED_STATES=1
// writes the file of the newest layout for a learner that has none yet
// (never over an existing one).
TYPED_TEST(LearnerContract, AStateSavedEarlierStillLoadsAndAsksTheSame) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    const auto root = std::filesystem::path(TEST_DATA_DIR) / "saved_states";
    const auto newest = root / "sealed" / (case_name() + ".json");
    if (std::getenv("TASKMASTER_WRITE_SAVED_STATES") != nullptr && !exists(newest)) {
      L learner = TypeParam::make();
      TestFixture::feed(learner, 60);
      nlohmann::json saved{{"state", learner.save()}, {"then_asked", nlohmann::json::array()}};
      for (Entropy step = 0; step < 20; ++step) {
        const auto x = learner.ask(step);
        if (!x) break;
        saved["then_asked"].push_back(nlohmann::json::parse(encode(*x)));
        learner.tell(*x, TypeParam::f(*x));
      }
      std::filesystem::create_directories(newest.parent_path());
      std::ofstream(newest) << saved.dump(1) << "\n";
    }
    std::size_t files = 0;
    for (const auto& file : {root / (case_name() + ".json"), newest}) {
      if (!exists(file)) continue;  // a learner that saved nothing then
      SCOPED_TRACE(file.string());
      ++files;
      std::ifstream in(file);
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
    EXPECT_GT(files, 0U) << "no saved state for " << case_name() << " in " << root;
  }
}

// --- what a load refuses ------------------------------------------------------

/// `text` cut at its middle, as a file whose writing stopped there, then
/// closed so that it still parses: it ends after the last complete value
/// before the middle.
nlohmann::json cut_short(const std::string& text) {
  std::vector<char> open;
  std::size_t last_complete = 0;
  std::vector<char> open_at_last;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size() / 2; ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      open.push_back(c);
    } else if (c == ']' || c == '}') {
      open.pop_back();
    } else if (c == ',') {
      last_complete = i;
      open_at_last = open;
    }
  }
  std::string cut = text.substr(0, last_complete);
  for (auto it = open_at_last.rbegin(); it != open_at_last.rend(); ++it)
    cut += *it == '[' ? ']' : '}';
  return nlohmann::json::parse(cut);
}

/// Whether a message says `part`, with the message when it does not.
::testing::AssertionResult mentions(const std::string& message, const std::string& part) {
  if (message.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << message << "\" does not say \"" << part << "\"";
}

/// Runs `load` and returns the StateError it throws (fails the test if it
/// throws none or another).
template <class Load>
std::optional<StateError> refusal(Load&& load) {
  try {
    load();
  } catch (const StateError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a StateError: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE() << "the state was loaded";
  return std::nullopt;
}

TYPED_TEST(LearnerContract, SaveWritesTheEnvelope) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    const nlohmann::json state = TestFixture::saved_halfway();
    EXPECT_EQ(state.at("kind"), L::state_kind);
    EXPECT_EQ(state.at("version"), L::state_version);
    EXPECT_TRUE(state.at("payload").is_object());
    EXPECT_EQ(state.size(), 3U);
  }
}

TYPED_TEST(LearnerContract, ALoadRefusesAStateOfAnotherKind) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    nlohmann::json state = TestFixture::saved_halfway();
    state["kind"] = "HalvingLearner";
    L target = TypeParam::make();
    const auto e = refusal([&] { target.load(state); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->expected_kind(), L::state_kind);
    EXPECT_EQ(e->found_kind(), "HalvingLearner");
    EXPECT_TRUE(mentions(e->what(), "HalvingLearner"));
    EXPECT_TRUE(mentions(e->what(), std::string(L::state_kind)));
  }
}

TYPED_TEST(LearnerContract, ALoadRefusesANewerVersion) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    nlohmann::json state = TestFixture::saved_halfway();
    const int newer = L::state_version + 1;
    state["version"] = newer;
    L target = TypeParam::make();
    const auto e = refusal([&] { target.load(state); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->version(), newer);
    EXPECT_EQ(e->found_kind(), L::state_kind);
    EXPECT_TRUE(mentions(e->what(), "version " + std::to_string(newer)));
    EXPECT_TRUE(mentions(e->what(), "newer"));
  }
}

TYPED_TEST(LearnerContract, ALoadRefusesAStateCutShort) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    const nlohmann::json state = TestFixture::saved_halfway();
    {
      SCOPED_TRACE("the whole state cut short (its version lost)");
      L target = TypeParam::make();
      const auto e = refusal([&] { target.load(cut_short(state.dump())); });
      ASSERT_TRUE(e);
      EXPECT_TRUE(mentions(e->what(), std::string(L::state_kind)));
    }
    {
      SCOPED_TRACE("the payload cut short");
      nlohmann::json cut = state;
      cut["payload"] = cut_short(state.at("payload").dump());
      L target = TypeParam::make();
      const auto e = refusal([&] { target.load(cut); });
      ASSERT_TRUE(e);
      EXPECT_EQ(e->found_kind(), L::state_kind);
      EXPECT_EQ(e->version(), L::state_version);
      EXPECT_TRUE(mentions(e->what(), std::string(L::state_kind)));
      EXPECT_TRUE(mentions(e->what(), "version " + std::to_string(L::state_version)));
    }
    for (const nlohmann::json& not_a_state :
         {nlohmann::json(), nlohmann::json::array(), nlohmann::json::object()}) {
      L target = TypeParam::make();
      SCOPED_TRACE(not_a_state.dump());
      EXPECT_TRUE(refusal([&] { target.load(not_a_state); }));
    }
  }
}

TYPED_TEST(LearnerContract, ALoadIntoALearnerThatHoldsDataIsRefusedAndChangesNothing) {
  using L = typename TestFixture::L;
  if constexpr (!SavableLearner<L>) {
    GTEST_SKIP() << "this learner does not save its state";
  } else {
    const nlohmann::json state = TestFixture::saved_halfway();
    L target = TypeParam::make();
    TestFixture::feed(target, 5);
    const nlohmann::json before = target.save();
    const auto e = refusal([&] { target.load(state); });
    ASSERT_TRUE(e);
    EXPECT_TRUE(mentions(e->what(), "already holds data"));
    EXPECT_TRUE(mentions(e->what(), std::string(L::state_kind)));
    EXPECT_EQ(target.save(), before);
  }
}

// --- numbers in saved states ---------------------------------------------------

TEST(SavedNumber, EveryDoubleReadsBackBitForBitThroughText) {
  std::vector<double> values = {0.0,
                                -0.0,
                                0.1,
                                -1.0 / 3.0,
                                1e308,
                                -1e-308,
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::epsilon(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity()};
  std::uint64_t bits = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 2000; ++i) {
    bits = bits * 6364136223846793005ULL + 1442695040888963407ULL;
    const double v = std::bit_cast<double>(bits);
    if (!std::isnan(v)) values.push_back(v);
  }
  for (double v : values) {
    const auto text = nlohmann::json{{"v", saved_number(v)}}.dump();
    const double back = read_saved_number(nlohmann::json::parse(text).at("v"));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(v)) << text;
  }
  EXPECT_TRUE(std::isnan(read_saved_number(nlohmann::json::parse(saved_number(nan()).dump()))));
  EXPECT_EQ(saved_number(nan()), "nan");
  EXPECT_EQ(saved_number(-std::numeric_limits<double>::infinity()), "-inf");
}

TEST(SavedNumber, ValuesKeepTheCodecLayout) {
  const std::vector<std::pair<double, std::optional<double>>> value = {{0.5, std::nullopt},
                                                                       {nan(), 2.0}};
  const nlohmann::json j = saved_value(value);
  EXPECT_EQ(j, nlohmann::json::parse(encode(value)));
  const auto back = decode<std::vector<std::pair<double, std::optional<double>>>>(j);
  EXPECT_EQ(back[0], value[0]);
  EXPECT_TRUE(std::isnan(back[1].first));
  EXPECT_EQ(back[1].second, 2.0);
}

}  // namespace
