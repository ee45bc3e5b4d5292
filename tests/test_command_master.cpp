#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "support/temp_files.hpp"
#include "support/worker_processes.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

static_assert(taskmaster::Master<taskmaster::CommandMaster<double, double>>);

using namespace taskmaster;
using test_support::failure_texts;
using test_support::integers;
using test_support::process_marker;
using test_support::survivors;

const std::string faulty_command = std::string(TASKMASTER_TEST_HELPERS_DIR) + "/faulty_command.sh";

/// Points 0..19 on two slots with a program that misbehaves on x == 13 as
/// `mode` says, one retry per point: the run goes on, 13 fails (twice) with
/// `reason`, every other point is told its right value, nothing is left.
void run_with_fault(const std::string& mode, const std::string& reason,
                    CommandOptions options = {}) {
  const std::string marker = process_marker();
  options.workers = 2;
  SequenceLearner<double, double> learner(integers(20));
  {
    CommandMaster<double, double> master({"/bin/sh", faulty_command, mode, "{x}", marker}, options);
    auto summary = evaluate(master, learner, stop::learner_done(), {.retry = {.retries = 1}});
    EXPECT_EQ(summary.progress.told, 19u);
    EXPECT_EQ(summary.progress.failed, 1u);
    EXPECT_TRUE(learner.failed(13));
    for (std::size_t i = 0; i < learner.size(); ++i) {
      if (i != 13) {
        EXPECT_EQ(*learner.result(i), 2.0 * static_cast<double>(i)) << i;
      }
    }
    const auto failures = failure_texts(summary.history);
    ASSERT_EQ(failures.size(), 2u);
    for (const auto& text : failures) {
      EXPECT_NE(text.find(reason), std::string::npos) << text;
      EXPECT_NE(text.find("(task "), std::string::npos) << text;
    }
  }
  EXPECT_TRUE(survivors(marker).empty()) << "processes left behind";
}

TEST(CommandMaster, RunsOneProgramPerTask) {
  CommandMaster<double, double> master({"/bin/sh", faulty_command, "none", "{x}", "m"},
                                       {.workers = 2});
  EXPECT_EQ(master.capacity(), 2u);
  SequenceLearner<double, double> learner({0.5, -3, 1e10, 7});
  auto summary = evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(summary.progress.told, 4u);
  for (std::size_t i = 0; i < learner.size(); ++i) {
    EXPECT_EQ(*learner.result(i), 2 * learner.point(i));
  }
}

TEST(CommandMaster, FillsComponentsAndIdAndRunsEachTaskInItsDirectory) {
  test_support::TempDir dir;
  // Prints x0 + x1 and leaves its third argument in a file where it ran.
  CommandMaster<std::array<double, 2>, double> master(
      {"/bin/sh", "-c", "echo \"$3\" > arg3; awk -v a=\"$1\" -v b=\"$2\" 'BEGIN{{print a+b}}'",
       "sh", "{x0}", "{x1}", "id={id}"},
      {.task_directories = dir.file("runs")});
  SequenceLearner<std::array<double, 2>, double> learner({{{0.5, 2.0}}, {{-1.0, 4.0}}});
  auto summary = evaluate(master, learner, stop::learner_done());
  ASSERT_EQ(summary.progress.told, 2u);
  EXPECT_EQ(*learner.result(0), 2.5);
  EXPECT_EQ(*learner.result(1), 3.0);
  for (const auto& e : summary.history.events) {
    if (e.kind != EventKind::tell) continue;
    const auto file = dir.file("runs") / fmt::format("task-{}", e.id) / "arg3";
    EXPECT_EQ(test_support::read_file(file), fmt::format("id={}\n", e.id)) << file;
  }
}

TEST(CommandMaster, PassesValuesThroughEnvironmentAndStdin) {
  // x from the environment, id from stdin, both checked by the program.
  CommandMaster<std::vector<double>, std::vector<double>> master(
      {"/bin/sh", "-c",
       "read -r line; case \"$line\" in *\"\\\"id\\\":$TASKMASTER_ID,\"*) ;; *) exit 9;; esac; "
       "echo \"{{\\\"y\\\": $TASKMASTER_X}}\""},
      {.json_stdin = true});
  SequenceLearner<std::vector<double>, std::vector<double>> learner({{1.5, 2}, {}, {-4}});
  auto summary = evaluate(master, learner, stop::learner_done());
  ASSERT_EQ(summary.progress.told, 3u);
  for (std::size_t i = 0; i < learner.size(); ++i) EXPECT_EQ(*learner.result(i), learner.point(i));
}

TEST(CommandMaster, ShellModeQuotesValues) {
  CommandMaster<std::string, std::string> master({"printf", "'{{\"y\":\"%s\"}}'", "{x}"},
                                                 {.shell = true});
  SequenceLearner<std::string, std::string> learner({"it's $HOME; `rm -rf`", "plain"});
  evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(*learner.result(0), "it's $HOME; `rm -rf`");
  EXPECT_EQ(*learner.result(1), "plain");
}

TEST(CommandMaster, BadTemplatesAreRefusedWithTheArgument) {
  try {
    CommandMaster<double, double> master({"prog", "--x={y}"});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'{y}' in argument '--x={y}'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((CommandMaster<double, double>({"prog", "{x"})), std::invalid_argument);
  EXPECT_THROW((CommandMaster<double, double>({})), std::invalid_argument);
}

TEST(CommandMaster, MissingProgramFailsTheTask) {
  CommandMaster<double, double> master({"/nonexistent/program", "{x}"});
  SequenceLearner<double, double> learner({1.0});
  auto summary = evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(summary.progress.failed, 1u);
  const auto failures = failure_texts(summary.history);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("/nonexistent/program"), std::string::npos) << failures[0];
}

TEST(CommandMaster, ParsesNumbersArraysAndObjects) {
  EXPECT_EQ(*parse_command_output<double>(" 1.5\n").y, 1.5);
  EXPECT_TRUE(std::isnan(*parse_command_output<double>("nan\n").y));
  EXPECT_EQ(*parse_command_output<double>("{\"y\": -2, \"note\": 1}").y, -2.0);
  EXPECT_EQ(*parse_command_output<std::vector<int>>("[1, 2]").y, (std::vector<int>{1, 2}));
  EXPECT_NE(parse_command_output<double>("").error.find("nothing"), std::string::npos);
  EXPECT_NE(parse_command_output<double>("{\"z\":1}").error.find("without"), std::string::npos);
  EXPECT_NE(parse_command_output<double>("[1]").error.find("output type"), std::string::npos);
}

TEST(CommandMaster, SegfaultFailsWithTheSignal) {
  run_with_fault("segfault", "killed by signal 11 (SIGSEGV); stderr: about to misbehave: segfault");
}

TEST(CommandMaster, AbortFailsWithTheSignal) {
  run_with_fault("abort", "killed by signal 6 (SIGABRT)");
}

TEST(CommandMaster, ExitStatus3FailsWithTheStatusAndStderr) {
  run_with_fault("exit3", "exited with status 3; stderr: about to misbehave: exit3");
}

TEST(CommandMaster, HangingProgramIsKilledWithItsChildrenAtTheTimeout) {
  run_with_fault("hang", "timed out after 0.5 s and was killed", {.timeout = 0.5});
}

TEST(CommandMaster, GarbageOutputFails) {
  run_with_fault("garbage",
                 "not a number, a JSON array or a JSON object with \"y\": "
                 "'this is not a number'");
}

TEST(CommandMaster, HugeOutputFails) {
  run_with_fault("huge", "printed more than the limit of 1048576 bytes",
                 {.max_output_bytes = 1 << 20});
}

TEST(CommandMaster, ClosingStdoutEarlyFails) { run_with_fault("close_stdout", "printed nothing"); }

TEST(CommandMaster, ReportedErrorFails) {
  run_with_fault("error", "reported: thirteen is unlucky");
}

TEST(CommandMaster, SlotsJoinAndLeaveDuringARun) {
  CommandMaster<double, double> master({"/bin/sh", "-c", "sleep 0.01; echo {x}"}, {.workers = 1});
  SequenceLearner<double, double> learner(integers(60));
  std::size_t max_capacity = 0;
  RunOptions<double, double> options;
  options.hook = [&](const HistoryEvent<double, double>& e, const Progress& p) {
    max_capacity = std::max(max_capacity, p.capacity);
    if (e.kind != EventKind::tell) return;
    if (p.told == 10) master.add_workers(3);
    if (p.told == 40) master.release_workers(2);
  };
  auto summary = evaluate(master, learner, stop::learner_done(), options);
  EXPECT_EQ(summary.progress.told, 60u);
  EXPECT_EQ(max_capacity, 4u);
  EXPECT_EQ(master.capacity(), 2u);
  std::set<int> slots;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) slots.insert(e.worker);
  }
  EXPECT_EQ(slots, (std::set<int>{0, 1, 2, 3}));
}

TEST(CommandMaster, DestructorKillsRunningPrograms) {
  const std::string marker = process_marker();
  const auto start = std::chrono::steady_clock::now();
  {
    CommandMaster<double, double> master({"/bin/sh", faulty_command, "hang", "{x}", marker},
                                         {.workers = 2});
    master.submit({1, 13.0});
    master.submit({2, 13.0});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(subprocess::live_processes_with(marker).size(), 4u);  // two shells, two sleepers
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(survivors(marker).empty());
}

}  // namespace
