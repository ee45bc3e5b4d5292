// `taskmaster simulate`, run as a user would.

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "helpers/cli_tool.hpp"

namespace {

using taskmaster::test_support::cli_source_dir;
using taskmaster::test_support::Outcome;

class CliSimulate : public taskmaster::test_support::CliTest {
 protected:
  nlohmann::json simulate_json(std::vector<std::string> args) {
    // Before the arguments: anything after "--" belongs to the program.
    args.insert(args.begin(), {"simulate", "--json"});
    const Outcome o = run(args);
    EXPECT_EQ(o.status, 0) << o.err;
    return nlohmann::json::parse(o.out);
  }
};

TEST_F(CliSimulate, IntegratesAKnownIntegrandOnManyWorkersAndSaysHowFarFromExact) {
  const auto j = simulate_json(
      {"--function", "1/sqrt", "--learner-param", "tol=1e-8", "-j", "2", "--efficiency"});
  EXPECT_EQ(j["learner"], "integrator");
  EXPECT_EQ(j["workers"], 2);
  // The exact integral is 2; the learner's tolerance is relative.
  EXPECT_LT(j["error"].get<double>(), 1e-6);
  EXPECT_NEAR(j["estimate"].get<double>(), 2.0, 1e-6);
  // One worker takes 1 s per point (fixed:1 by default): its time is its points.
  EXPECT_DOUBLE_EQ(j["one_worker"]["virtual_seconds"].get<double>(),
                   j["one_worker"]["points"].get<double>());
  const double t1 = j["one_worker"]["virtual_seconds"];
  const double t2 = j["virtual_seconds"];
  EXPECT_LT(t2, t1);  // two workers finish sooner
  EXPECT_DOUBLE_EQ(j["efficiency"].get<double>(), t1 / (2 * t2));
  EXPECT_GT(j["utilization"].get<double>(), 0.5);
  EXPECT_LE(j["utilization"].get<double>(), 1.0);
}

TEST_F(CliSimulate, TheSameSeedGivesTheSameRunAndAnotherSeedAnother) {
  const std::vector<std::string> args = {"--function", "peak", "--goal",     "npoints=300",
                                         "-j",         "50",   "--duration", "lognormal:0,1"};
  auto with_seed = [&](const std::string& seed) {
    auto a = args;
    a.insert(a.end(), {"--seed", seed});
    return simulate_json(a);
  };
  const auto a = with_seed("4");
  const auto b = with_seed("4");
  const auto c = with_seed("5");
  EXPECT_EQ(a["virtual_seconds"], b["virtual_seconds"]);
  EXPECT_EQ(a["loss"], b["loss"]);
  EXPECT_NE(a["virtual_seconds"], c["virtual_seconds"]);
  EXPECT_EQ(a["points"], 300);  // the goal is 300 results; what is in flight then is cancelled
  EXPECT_EQ(a["cancelled"], 49);
}

TEST_F(CliSimulate, PrintsAReadableReport) {
  const Outcome o = run({"simulate", "--function", "ring", "--goal", "npoints=200", "-j", "16",
                         "--duration", "uniform:0.5,1.5"});
  ASSERT_EQ(o.status, 0) << o.err;
  for (const char* line : {"simulated 16 workers (2d learner, durations uniform:0.5,1.5",
                           "virtual wall time: ", "points: ", "utilization: ", "real time: "}) {
    EXPECT_NE(o.out.find(line), std::string::npos) << line << " missing from:\n" << o.out;
  }
}

TEST_F(CliSimulate, WritesAHistoryThatReplaysAndWhoseDurationsDriveAnotherSimulation) {
  const auto history = path("sim.jsonl");
  const auto j = simulate_json({"--function", "peak", "--goal", "npoints=200", "-j", "8",
                                "--duration", "pareto:1,1.5", "--join", "5:8", "--leave", "20:4",
                                "--retries", "2", "--history", history});
  EXPECT_GT(j["points"].get<int>(), 150);
  const Outcome replayed = run({"replay", history});
  EXPECT_EQ(replayed.status, 0) << replayed.err << replayed.out;
  // Its tasks took >= 1 s (Pareto of scale 1): so does every task drawn from them.
  const auto again = simulate_json({"--function", "peak", "--goal", "npoints=40", "-j", "1",
                                    "--duration", "history:" + history});
  EXPECT_GE(again["virtual_seconds"].get<double>(), 40.0 - 1.0);
}

TEST_F(CliSimulate, RunsAProgramOncePerPoint) {
  const std::string peak = cli_source_dir + "/tests/helpers/cli_peak.sh";
  const auto j = simulate_json({"--bounds", "-1,1", "--goal", "npoints=30", "-j", "1000",
                                "--duration", "fixed:60", "--", peak, "{x}"});
  EXPECT_EQ(j["points"], 30);
  EXPECT_DOUBLE_EQ(j["virtual_seconds"].get<double>(), 60.0);  // one round of 60 s
  EXPECT_EQ(j["function"], nullptr);
}

TEST_F(CliSimulate, NamesWhatIsWrong) {
  const auto error = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "simulate");
    const Outcome o = run(args);
    EXPECT_EQ(o.status, 2) << o.err;
    return o.err;
  };
  EXPECT_NE(error({"--function", "nope"}).find("--function: unknown function 'nope' (known: peak"),
            std::string::npos);
  EXPECT_NE(error({"--function", "peak", "--duration", "gamma:1"})
                .find("--duration: 'gamma:1': unknown distribution 'gamma'"),
            std::string::npos);
  EXPECT_NE(error({"--function", "peak", "--join", "5"}).find("--join: '5' must be TIME:WORKERS"),
            std::string::npos);
  EXPECT_NE(error({"--function", "peak", "-j", "0"}).find("--workers"), std::string::npos);
  EXPECT_NE(error({}).find("give --function NAME, a program after '--', or --worker"),
            std::string::npos);
}

}  // namespace
