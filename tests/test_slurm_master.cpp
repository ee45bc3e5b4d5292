#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "support/temp_files.hpp"
#include "taskmaster/masters/slurm_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace taskmaster;
using namespace std::chrono_literals;
using test_support::TempDir;

/// Needs the cluster of scripts/slurm-cluster.sh (SLURM_CONF pointing at its
/// configuration). scripts/test.sh starts one and sets TASKMASTER_REQUIRE_SLURM,
/// so that there a missing cluster fails instead of skipping.
class SlurmMasterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto sinfo = detail::run_to_end({"sinfo", "-h", "-o", "%t"});
    if (sinfo.status == 0 && !sinfo.out.empty()) return;
    if (std::getenv("TASKMASTER_REQUIRE_SLURM") != nullptr) {
      FAIL() << "no SLURM cluster answers (sinfo: " << sinfo.err << ")";
    }
    GTEST_SKIP()
        << "no SLURM cluster: run scripts/slurm-cluster.sh start DIR and export SLURM_CONF";
  }
  TempDir dir_;
};

std::vector<std::string> states_of(const std::vector<std::string>& ids) {
  std::string list;
  for (const auto& id : ids) {
    if (!list.empty()) list += ',';
    list.append(id, 0, id.find('_'));
  }
  const auto out =
      detail::run_to_end({"squeue", "-h", "-r", "-t", "all", "-o", "%i %T", "-j", list}).out;
  std::vector<std::string> states;
  std::istringstream lines(out);
  std::string id;
  std::string state;
  while (lines >> id >> state) {
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) states.push_back(state);
  }
  return states;
}

TEST_F(SlurmMasterTest, TwentyFourPointsGoThroughSbatchAsJobArrays) {
  std::vector<double> xs;
  for (int i = 0; i < 24; ++i) xs.push_back(0.25 * i);
  SequenceLearner<double, double> learner(xs);
  SlurmMaster<double, double> master({"awk", "BEGIN {{ x = {x}; print x * x }}"},
                                     {.max_jobs = 8, .work_directory = dir_.file("jobs")});
  auto summary = evaluate(master, learner, stop::exhausted());
  EXPECT_EQ(summary.progress.told, 24u);
  for (std::size_t i = 0; i < xs.size(); ++i) EXPECT_DOUBLE_EQ(*learner.result(i), xs[i] * xs[i]);
  std::size_t array_logs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.file("jobs"))) {
    const auto name = entry.path().filename().string();
    array_logs += name.starts_with("job-") && name.find('_') != std::string::npos ? 1 : 0;
  }
  EXPECT_GE(array_logs, 8u);
}

TEST_F(SlurmMasterTest, AJobThatExitsNonZeroIsRetriedThenRecordedAsFailed) {
  SequenceLearner<double, double> learner({1, 2, 3, 4});
  SlurmMaster<double, double> master(
      {"/bin/sh", "-c", "if [ \"$1\" = 3 ]; then echo broken >&2; exit 3; fi; echo \"$1\"", "sh",
       "{x}"},
      {.max_jobs = 4, .work_directory = dir_.file("jobs")});
  auto summary = evaluate(master, learner, stop::exhausted(), {.retry = {.retries = 1}});
  EXPECT_EQ(summary.progress.told, 3u);
  EXPECT_EQ(summary.progress.failed, 1u);
  EXPECT_EQ(summary.progress.retried, 1u);
  ASSERT_TRUE(learner.failed(2));
  std::size_t fails = 0;
  for (const auto& e : summary.history.events) {
    if (e.kind != EventKind::fail) continue;
    ++fails;
    EXPECT_NE(e.text.find("FAILED"), std::string::npos) << e.text;
    EXPECT_NE(e.text.find("exit code 3:0"), std::string::npos) << e.text;
    EXPECT_NE(e.text.find("broken"), std::string::npos) << e.text;
  }
  EXPECT_EQ(fails, 2u);
}

TEST_F(SlurmMasterTest, AJobCancelledFromOutsideIsAFailure) {
  const auto marker = dir_.file("sleeper-job-id");
  SequenceLearner<double, double> learner({1, 7});
  // The two points go out as one job array. The sleeper names itself as
  // ARRAY_TASK: the plain job id of an array's element may be the array's
  // own id, and cancelling that cancels every element.
  SlurmMaster<double, double> master(
      {"/bin/sh", "-c",
       "if [ \"$1\" = 7 ]; then id=\"$SLURM_JOB_ID\"; "
       "[ -n \"$SLURM_ARRAY_JOB_ID\" ] && id=\"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\"; "
       "echo \"$id\" > \"$2\"; sleep 60; fi; echo \"$1\"",
       "sh", "{x}", marker.string()},
      {.max_jobs = 2, .work_directory = dir_.file("jobs")});
  std::thread canceller([&] {
    for (int i = 0; i < 600 && !std::filesystem::exists(marker); ++i)
      std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(100ms);
    std::ifstream in(marker);
    std::string id;
    in >> id;
    detail::run_to_end({"scancel", id});
  });
  auto summary = evaluate(master, learner, stop::exhausted());
  canceller.join();
  EXPECT_EQ(summary.progress.told, 1u);
  EXPECT_EQ(summary.progress.failed, 1u);
  EXPECT_TRUE(learner.failed(1));
  bool cancelled = false;
  for (const auto& e : summary.history.events) {
    cancelled |= e.kind == EventKind::fail && e.text.find("CANCELLED") != std::string::npos;
  }
  EXPECT_TRUE(cancelled);
}

TEST_F(SlurmMasterTest, StoppingARunCancelsItsOutstandingJobs) {
  SequenceLearner<double, double> learner({1, 2, 3, 4, 5, 6});
  SlurmMaster<double, double> master(
      {"/bin/sh", "-c", "if [ \"$1\" -gt 2 ]; then sleep 60; fi; echo \"$1\"", "sh", "{x}"},
      {.max_jobs = 6, .work_directory = dir_.file("jobs")});
  std::vector<std::string> outstanding;
  auto summary = evaluate(master, learner, stop::results(2),
                          {.drain = false, .hook = [&](const auto& e, const Progress&) {
                             if (e.kind == EventKind::tell) outstanding = master.job_ids();
                           }});
  EXPECT_EQ(summary.progress.told, 2u);
  ASSERT_EQ(outstanding.size(), 4u);
  EXPECT_TRUE(master.job_ids().empty());
  std::vector<std::string> states;
  for (int i = 0; i < 50; ++i) {
    states = states_of(outstanding);
    if (std::all_of(states.begin(), states.end(), [](const auto& s) { return s == "CANCELLED"; }))
      break;
    std::this_thread::sleep_for(100ms);
  }
  for (const auto& s : states) EXPECT_EQ(s, "CANCELLED");
}

TEST_F(SlurmMasterTest, ALearner1DRunThroughSlurmReplays) {
  Learner1D<double> learner(-1.0, 1.0);
  SlurmMaster<double, double> master(
      {"awk", "BEGIN {{ x = {x}; print x + 0.0001 / (0.0001 + x * x) }}"},
      {.max_jobs = 10, .work_directory = dir_.file("jobs")});
  auto summary = evaluate(master, learner, stop::points(30));
  EXPECT_EQ(summary.progress.told, 30u);
  Learner1D<double> fresh(-1.0, 1.0);
  replay(summary.history, fresh);
  EXPECT_EQ(fresh.data(), learner.data());
}

}  // namespace
