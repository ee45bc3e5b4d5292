#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/worker_processes.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

static_assert(taskmaster::Master<taskmaster::StdioMaster<double, double>>);

using namespace taskmaster;
using test_support::expect_fault_handled;
using test_support::failure_texts;
using test_support::integers;
using test_support::process_marker;
using test_support::survivors;

const std::string python = "/usr/bin/python3";
const std::string faulty_worker =
    std::string(TASKMASTER_TEST_HELPERS_DIR) + "/faulty_stdio_worker.py";
const std::string example_workers = TASKMASTER_EXAMPLE_WORKERS_DIR;

/// Runs points 0..29 on two faulty workers in `mode` (they misbehave on
/// x == 13), one retry per point, and checks what every fault must give:
/// the run goes on, every point ends told or failed, told points are right,
/// the failure of 13 is recorded with `reason`, and no worker is left.
void run_with_fault(const std::string& mode, const std::string& reason, WorkerOptions options = {},
                    bool thirteen_fails = true) {
  const std::string marker = process_marker();
  options.workers = 2;
  SequenceLearner<double, double> learner(integers(30));
  {
    StdioMaster<double, double> master({python, faulty_worker, mode, marker}, options);
    auto summary = evaluate(master, learner, stop::learner_done(), {.retry = {.retries = 1}});
    expect_fault_handled(summary, learner, thirteen_fails, reason);
    // Only 13 failed: tasks sent ahead to the lost worker went to the other.
    for (const auto& e : summary.history.events) {
      if (e.kind == EventKind::fail) {
        EXPECT_EQ(e.x, 13.0) << e.text;
      }
    }
    // Replacements took over: still two workers, and they are alive.
    EXPECT_EQ(master.capacity(), 2u * (1 + options.prefetch));
    EXPECT_EQ(master.worker_pids().size(), 2u);
    for (pid_t pid : master.worker_pids()) EXPECT_TRUE(subprocess::is_alive(pid));
  }
  EXPECT_TRUE(survivors(marker).empty()) << "workers left behind";
}

TEST(StdioMaster, PythonExampleWorkerEvaluatesEveryPoint) {
  StdioMaster<double, double> master({python, example_workers + "/python_worker.py"},
                                     {.workers = 2});
  EXPECT_EQ(master.capacity(), 2u);
  std::vector<double> xs;
  for (int i = 0; i < 200; ++i) xs.push_back(i / 200.0);
  SequenceLearner<double, double> learner(xs);
  auto summary = evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(summary.progress.told, 200u);
  std::set<int> workers;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) workers.insert(e.worker);
  }
  // (Which workers: whichever said hello first may take them all.)
  EXPECT_TRUE(workers.size() >= 1 && *workers.begin() >= 0 && *workers.rbegin() <= 1);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    EXPECT_DOUBLE_EQ(*learner.result(i), xs[i] + std::exp(-std::pow(xs[i] - 0.3, 2) / 0.01));
  }
}

TEST(StdioMaster, ShellExampleWorkerEvaluatesEveryPoint) {
  StdioMaster<double, double> master({"/bin/sh", example_workers + "/shell_worker.sh"},
                                     {.workers = 2});
  SequenceLearner<double, double> learner({-1.5, 0.0, 2.0, 3.25, 1e3});
  evaluate(master, learner, stop::learner_done());
  for (std::size_t i = 0; i < learner.size(); ++i) {
    EXPECT_EQ(*learner.result(i), learner.point(i) * learner.point(i));
  }
}

TEST(StdioMaster, CppWorkerMadeWithServeJsonLines) {
  StdioMaster<double, double> master({JSON_LINES_WORKER_PATH}, {.workers = 2});
  SequenceLearner<double, double> learner({1.0, -1.0, 2.5, 1e-300});
  auto summary = evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(*learner.result(0), 3.0);
  EXPECT_TRUE(learner.failed(1));
  EXPECT_EQ(*learner.result(2), 7.5);
  EXPECT_EQ(*learner.result(3), 3e-300);
  ASSERT_EQ(failure_texts(summary.history).size(), 1u);
  EXPECT_NE(failure_texts(summary.history)[0].find("negative input"), std::string::npos);
}

TEST(StdioMaster, NonFiniteValuesTravelAsStrings) {
  StdioMaster<double, double> master({python, example_workers + "/python_worker.py"});
  // (NaN cannot be an input here: SequenceLearner finds its points by ==.)
  SequenceLearner<double, double> learner({INFINITY, -INFINITY});
  evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(*learner.result(0), INFINITY);
  EXPECT_EQ(*learner.result(1), -INFINITY);
}

TEST(StdioMaster, SegfaultingWorkerIsReplaced) {
  run_with_fault("segfault", "killed by signal 11 (SIGSEGV); stderr: about to misbehave: segfault");
}

TEST(StdioMaster, AbortingWorkerIsReplaced) {
  run_with_fault("abort", "killed by signal 6 (SIGABRT)");
}

TEST(StdioMaster, WorkerExitingWithStatus3IsReplaced) {
  run_with_fault("exit3", "exited with status 3; stderr: about to misbehave: exit3");
}

TEST(StdioMaster, HangingWorkerIsKilledAtItsTimeout) {
  const auto start = std::chrono::steady_clock::now();
  run_with_fault("hang", "timed out after 0.5 s and was killed", {.timeout = 0.5});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

/// Each fault again with two tasks sent ahead to each worker.
class StdioMasterSendingAhead : public ::testing::TestWithParam<const char*> {};

TEST_P(StdioMasterSendingAhead, TasksALostWorkerHadNotStartedGoElsewhere) {
  const std::string mode = GetParam();
  const std::map<std::string, std::string> reasons = {
      {"segfault", "killed by signal 11 (SIGSEGV)"},
      {"exit3", "exited with status 3"},
      {"hang", "timed out after 0.5 s and was killed"},
      {"garbage", "not a JSON object"},
      {"unknown_id", "replied to unknown id"},
      {"close_stdout", "closed its stdout and was killed"}};
  run_with_fault(mode, reasons.at(mode), {.timeout = 0.5, .prefetch = 2});
}

INSTANTIATE_TEST_SUITE_P(Faults, StdioMasterSendingAhead,
                         ::testing::Values("segfault", "exit3", "hang", "garbage", "unknown_id",
                                           "close_stdout"));

TEST(StdioMaster, TasksSentAheadReachTheWorkerBeforeItsReply) {
  // This worker answers a task only once the next one has arrived (or its
  // stdin has ended): without tasks sent ahead it never answers.
  const std::string marker = process_marker();
  {
    StdioMaster<double, double> master({python, faulty_worker, "in_pairs", marker},
                                       {.workers = 1, .timeout = 5.0, .prefetch = 1});
    EXPECT_EQ(master.capacity(), 2u);
    for (TaskId id = 1; id <= 10; ++id) master.submit({id, static_cast<double>(id)});
    for (TaskId id = 1; id <= 9; ++id) {
      auto r = master.next();
      ASSERT_TRUE(r.has_value());
      ASSERT_TRUE(r->ok()) << r->error;
      EXPECT_EQ(r->id, id);
      EXPECT_EQ(*r->y, 2.0 * static_cast<double>(id));
    }
  }
  EXPECT_TRUE(survivors(marker).empty());
  {
    StdioMaster<double, double> master({python, faulty_worker, "in_pairs", marker},
                                       {.workers = 1, .timeout = 0.5});
    master.submit({1, 1.0});
    master.submit({2, 2.0});
    auto r = master.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->id, 1u);
    EXPECT_FALSE(r->ok());
    EXPECT_NE(r->error.find("timed out"), std::string::npos) << r->error;
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, WorkerPrintingGarbageIsReplaced) {
  run_with_fault("garbage", "not a JSON object: 'this is not JSON at all'");
}

TEST(StdioMaster, WorkerPrintingAHugeLineIsReplaced) {
  run_with_fault("huge", "a line longer than the limit of 1048576 bytes",
                 {.max_message_bytes = 1 << 20});
}

TEST(StdioMaster, WorkerReplyingToAnUnknownIdIsReplaced) {
  run_with_fault("unknown_id", "replied to unknown id");
}

TEST(StdioMaster, WorkerClosingStdoutIsReplaced) {
  run_with_fault("close_stdout", "closed its stdout and was killed");
}

TEST(StdioMaster, WorkerDyingBetweenTasksIsReplaced) {
  // The worker answers 13 and then exits: 13 is told; a task it was given
  // afterwards (if any) fails with the exit and is retried elsewhere.
  const std::string marker = process_marker();
  SequenceLearner<double, double> learner(integers(30));
  {
    StdioMaster<double, double> master({python, faulty_worker, "die_between", marker},
                                       {.workers = 2});
    const auto first = master.worker_pids();
    auto summary = evaluate(master, learner, stop::learner_done(), {.retry = {.retries = 2}});
    EXPECT_EQ(summary.progress.told, 30u);
    for (std::size_t i = 0; i < learner.size(); ++i) {
      EXPECT_EQ(*learner.result(i), 2.0 * static_cast<double>(i));
    }
    for (const auto& text : failure_texts(summary.history)) {
      EXPECT_NE(text.find("exited with status 0"), std::string::npos) << text;
    }
    // Run one more task so that the master notices the exit if it has not.
    SequenceLearner<double, double> more({100, 101, 102});
    evaluate(master, more, stop::learner_done(), {.retry = {.retries = 2}});
    const auto now = master.worker_pids();
    EXPECT_EQ(now.size(), 2u);
    EXPECT_NE(std::set<pid_t>(first.begin(), first.end()), std::set<pid_t>(now.begin(), now.end()))
        << "the worker that exited was not replaced";
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, ErrorReplyFailsTheTaskAndKeepsTheWorker) {
  const std::string marker = process_marker();
  {
    StdioMaster<double, double> master({python, faulty_worker, "error_reply", marker},
                                       {.workers = 2});
    const auto pids = master.worker_pids();
    SequenceLearner<double, double> learner(integers(20));
    auto summary = evaluate(master, learner, stop::learner_done());
    EXPECT_TRUE(learner.failed(13));
    EXPECT_EQ(summary.progress.told, 19u);
    const auto failures = failure_texts(summary.history);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_NE(failures[0].find("thirteen is unlucky"), std::string::npos) << failures[0];
    EXPECT_EQ(master.worker_pids(), pids);
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, MissingProgramIsReportedByTheConstructor) {
  try {
    StdioMaster<double, double> master({"/nonexistent/worker-program"});
    FAIL() << "no exception";
  } catch (const subprocess::SpawnError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/worker-program"), std::string::npos);
  }
}

TEST(StdioMaster, WorkerSpeakingAnotherProtocolVersionStopsTheRun) {
  const std::string marker = process_marker();
  {
    StdioMaster<double, double> master({python, faulty_worker, "bad_hello", marker});
    SequenceLearner<double, double> learner(integers(3));
    try {
      evaluate(master, learner, stop::learner_done());
      FAIL() << "no exception";
    } catch (const WorkerStartError& e) {
      EXPECT_NE(std::string(e.what()).find("speaks protocol 99, this master speaks 1"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, SilentWorkerFailsToStartAfterItsStartTimeout) {
  const std::string marker = process_marker();
  {
    StdioMaster<double, double> master({python, faulty_worker, "silent", marker},
                                       {.start_timeout = 0.3, .max_failed_starts = 2});
    SequenceLearner<double, double> learner(integers(1));
    EXPECT_THROW(evaluate(master, learner, stop::learner_done()), WorkerStartError);
  }
  EXPECT_TRUE(survivors(marker).empty());
}

/// Starts with one worker, adds three at 20 points told, releases two at 80.
void join_and_leave(std::size_t prefetch) {
  const std::size_t per_worker = 1 + prefetch;
  const std::string marker = process_marker();
  {
    StdioMaster<double, double> master({python, faulty_worker, "slow", marker},
                                       {.workers = 1, .prefetch = prefetch});
    SequenceLearner<double, double> learner(integers(120));
    std::size_t max_capacity = 0;
    RunOptions<double, double> options;
    options.hook = [&](const HistoryEvent<double, double>& e, const Progress& p) {
      max_capacity = std::max(max_capacity, p.capacity);
      if (e.kind != EventKind::tell) return;
      if (p.told == 20) master.add_workers(3);
      if (p.told == 80) master.release_workers(2);
    };
    auto summary = evaluate(master, learner, stop::learner_done(), options);
    EXPECT_EQ(summary.progress.told, 120u);
    EXPECT_EQ(summary.progress.failed, 0u);
    EXPECT_EQ(max_capacity, 4u * per_worker);
    EXPECT_EQ(master.capacity(), 2u * per_worker);
    EXPECT_EQ(master.worker_pids().size(), 2u);
    std::set<int> workers;
    for (const auto& e : summary.history.events) {
      if (e.kind == EventKind::tell) workers.insert(e.worker);
    }
    EXPECT_EQ(workers.size(), 4u);
    for (std::size_t i = 0; i < learner.size(); ++i) {
      EXPECT_EQ(*learner.result(i), 2.0 * static_cast<double>(i));
    }
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, WorkersJoinAndLeaveDuringARun) { join_and_leave(0); }

TEST(StdioMaster, WorkersJoinAndLeaveDuringARunWithTasksSentAhead) { join_and_leave(2); }

TEST(StdioMaster, CancelDropsEverythingAndTheWorkersGoOn) {
  const std::string marker = process_marker();
  {
    StdioMaster<double, double> master({python, faulty_worker, "slow", marker}, {.workers = 1});
    for (TaskId id = 1; id <= 5; ++id) master.submit({id, static_cast<double>(id)});
    master.cancel();
    EXPECT_FALSE(master.next().has_value());
    // The worker finishes the task it had (its answer is dropped) and takes new ones.
    master.submit({10, 4.0});
    auto r = master.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->id, 10u);
    EXPECT_EQ(*r->y, 8.0);
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, DestructorKillsBusyWorkersPromptly) {
  const std::string marker = process_marker();
  const auto start = std::chrono::steady_clock::now();
  {
    StdioMaster<double, double> master({python, faulty_worker, "hang", marker}, {.workers = 2});
    master.submit({1, 13.0});
    master.submit({2, 13.0});
    // Let them get the tasks and start hanging.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(subprocess::live_processes_with(marker).size(), 2u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(survivors(marker).empty());
}

/// A worker started the way a caller may start one itself (fork, then exec
/// here), taken in charge with Child::adopt: the list to hand a master.
std::vector<subprocess::Child> start_elsewhere(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int in[2], out[2], err[2];
  for (int* p : {in, out, err}) {
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  }
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls from here to exec
    ::setpgid(0, 0);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  for (int fd : {in[0], out[1], err[1]}) ::close(fd);
  std::vector<subprocess::Child> started;
  started.push_back(subprocess::Child::adopt(pid, in[1], out[0], err[0]));
  return started;
}

TEST(StdioMaster, WorkersStartedElsewhereAreUsedFirstAndReplacedFromTheCommand) {
  const std::string marker = process_marker();
  {
    // Alone: the adopted worker exits with status 3 on x = 13; its
    // replacement comes from the command and takes the retry.
    auto started = start_elsewhere({python, faulty_worker, "exit3", marker});
    const pid_t adopted_pid = started.front().pid();
    StdioMaster<double, double> master({python, faulty_worker, "none", marker}, {.workers = 1},
                                       std::move(started));
    ASSERT_EQ(master.worker_pids(), std::vector<pid_t>{adopted_pid});
    SequenceLearner<double, double> learner(std::vector<double>{13, 1, 2, 3});
    auto summary = evaluate(master, learner, stop::learner_done(), {.retry = {.retries = 1}});
    EXPECT_EQ(summary.progress.told, 4u);
    EXPECT_EQ(summary.progress.retried, 1u);
    ASSERT_EQ(master.worker_pids().size(), 1u);
    EXPECT_NE(master.worker_pids().front(), adopted_pid);
    EXPECT_FALSE(subprocess::is_alive(adopted_pid));
  }
  {
    // Beside a spawned one, and reaped by the master's destructor.
    auto started = start_elsewhere({python, faulty_worker, "none", marker});
    const pid_t adopted_pid = started.front().pid();
    {
      StdioMaster<double, double> master({python, faulty_worker, "none", marker}, {.workers = 2},
                                         std::move(started));
      const auto pids = master.worker_pids();
      EXPECT_EQ(pids.size(), 2u);
      EXPECT_EQ(std::count(pids.begin(), pids.end(), adopted_pid), 1);
      SequenceLearner<double, double> learner(integers(40));
      auto summary = evaluate(master, learner, stop::learner_done());
      EXPECT_EQ(summary.progress.told, 40u);
    }
    EXPECT_FALSE(subprocess::is_alive(adopted_pid));
  }
  EXPECT_TRUE(survivors(marker).empty());
}

TEST(StdioMaster, AdoptingWithoutPipesIsAnError) {
  EXPECT_THROW((void)subprocess::Child::adopt(::getpid(), -1, -1, -1), subprocess::SpawnError);
}

}  // namespace
