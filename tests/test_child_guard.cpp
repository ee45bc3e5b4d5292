// The programs a master starts never outlive the process that owns the
// master, even when it dies by SIGKILL, and running short of file
// descriptors makes the masters wait (or run fewer workers), not fail.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/worker_processes.hpp"
#include "taskmaster/taskmaster.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

/// Starts child_keeper with `args`; its stdout goes to a pipe read by `busy`.
struct Keeper {
  pid_t pid = -1;
  int out = -1;

  explicit Keeper(std::vector<std::string> args) {
    args.insert(args.begin(), CHILD_KEEPER_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out = fds[0];
    if (rc != 0) throw std::runtime_error("cannot start child_keeper");
  }
  Keeper(const Keeper&) = delete;
  Keeper& operator=(const Keeper&) = delete;
  ~Keeper() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::close(out);
  }
  bool busy() {
    char text[5] = {};
    return ::read(out, text, 4) == 4 && std::string(text) == "busy";
  }
};

void expect_nothing_left_after_sigkill(std::vector<std::string> args) {
  const std::string marker = taskmaster::test_support::process_marker();
  args.insert(args.begin() + 1, marker);
  Keeper keeper(args);
  ASSERT_TRUE(keeper.busy());
  // Each of the two programs and the program it started: four carry the marker.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (taskmaster::subprocess::live_processes_with(marker).size() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(taskmaster::subprocess::live_processes_with(marker).size(), 5U)
      << "child_keeper, two programs and their two children";
  ::kill(keeper.pid, SIGKILL);
  int status = 0;
  ::waitpid(keeper.pid, &status, 0);
  keeper.pid = -1;
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(taskmaster::test_support::survivors(marker).empty())
      << "programs outlived the process that started them";
}

TEST(ChildGuard, ProgramsDieWithTheirMasterKilledBySigkill) {
  expect_nothing_left_after_sigkill({"command"});
}

TEST(ChildGuard, WorkersDieWithTheirMasterKilledBySigkill) {
  expect_nothing_left_after_sigkill(
      {"workers", TASKMASTER_SOURCE_DIR "/tests/helpers/cli_sleepy_worker.py"});
}

/// Lowers this process's limit of open files to `spare` more than are open
/// now, for as long as it lives.
class FewDescriptors {
 public:
  explicit FewDescriptors(rlim_t spare) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlim_t open = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
      ++open;
    const rlimit lowered{open + spare, saved_.rlim_max};
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  FewDescriptors(const FewDescriptors&) = delete;
  FewDescriptors& operator=(const FewDescriptors&) = delete;
  ~FewDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

TEST(FileDescriptors, CommandMasterWaitsForThemInsteadOfFailingPoints) {
  taskmaster::CommandMaster<double, double> master(
      {"/bin/sh", "-c", "sleep 0.02; echo \"$1\"", "sh", "{x}"}, {.workers = 12});
  taskmaster::SequenceLearner<double, double> warm_up({-1.0});  // the child guard starts here
  (void)taskmaster::evaluate(master, warm_up, taskmaster::stop::learner_done());

  std::vector<double> points;
  for (int i = 0; i < 36; ++i) points.push_back(i);
  taskmaster::SequenceLearner<double, double> learner(points);
  taskmaster::RunSummary<double, double> summary;
  {
    const FewDescriptors few(14);  // a few programs at a time, not 12
    summary = taskmaster::evaluate(master, learner, taskmaster::stop::learner_done());
  }
  EXPECT_EQ(summary.progress.failed, 0U);
  EXPECT_EQ(summary.progress.told, 36U);
  for (std::size_t i = 0; i < points.size(); ++i) EXPECT_EQ(learner.result(i), points[i]);
}

TEST(FileDescriptors, StdioMasterRunsTheWorkersItCanStart) {
  std::vector<double> points;
  for (int i = 0; i < 24; ++i) points.push_back(i);
  taskmaster::SequenceLearner<double, double> learner(points);
  taskmaster::RunSummary<double, double> summary;
  std::size_t capacity = 0;
  {
    taskmaster::SequenceLearner<double, double> warm_up({0.5});
    taskmaster::StdioMaster<double, double> first({JSON_LINES_WORKER_PATH}, {.workers = 1});
    (void)taskmaster::evaluate(first, warm_up, taskmaster::stop::learner_done());
  }
  {
    const FewDescriptors few(16);
    taskmaster::StdioMaster<double, double> master({JSON_LINES_WORKER_PATH}, {.workers = 12});
    capacity = master.capacity();
    summary = taskmaster::evaluate(master, learner, taskmaster::stop::learner_done());
  }
  EXPECT_GE(capacity, 1U);
  EXPECT_LT(capacity, 12U) << "twelve workers cannot run on so few descriptors";
  EXPECT_EQ(summary.progress.failed, 0U);
  EXPECT_EQ(summary.progress.told, 24U);
}

}  // namespace
