#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/worker_processes.hpp"
#include "taskmaster/masters/process_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

static_assert(taskmaster::Master<taskmaster::ProcessMaster<double, double>>);

using namespace taskmaster;
using test_support::expect_fault_handled;
using test_support::failure_texts;
using test_support::integers;
using test_support::live_children;

/// Twice x, except for x == 13, where it misbehaves as $FAULT_MODE says.
double faulty(double x) {
  if (x != 13) return 2 * x;
  const std::string mode = std::getenv("FAULT_MODE") != nullptr ? std::getenv("FAULT_MODE") : "";
  fprintf(stderr, "about to misbehave: %s\n", mode.c_str());
  fflush(stderr);
  if (mode == "segfault") ::raise(SIGSEGV);
  if (mode == "abort") std::abort();
  if (mode == "exit3") std::exit(3);
  if (mode == "hang") std::this_thread::sleep_for(std::chrono::seconds(600));
  if (mode == "throw") throw std::domain_error("thirteen is unlucky");
  if (mode == "garbage") {
    detail::write_all(STDOUT_FILENO, "garbage!");  // a length of 0x62726167 bytes
  }
  if (mode == "huge") {
    std::string frame;
    detail::append_frame(frame, std::string(3 << 20, 'z'));
    detail::write_all(STDOUT_FILENO, frame);
  }
  if (mode == "unknown_id") {
    std::string payload;
    append_bytes(payload, std::uint64_t{987654});
    append_bytes(payload, std::uint8_t{0});
    append_bytes(payload, 1.0);
    std::string frame;
    detail::append_frame(frame, payload);
    detail::write_all(STDOUT_FILENO, frame);
    std::this_thread::sleep_for(std::chrono::seconds(600));
  }
  if (mode == "close_stdout") {
    ::close(STDOUT_FILENO);
    std::this_thread::sleep_for(std::chrono::seconds(600));
  }
  if (mode == "die_between") ::ualarm(20'000, 0);  // SIGALRM once the reply is out
  return 2 * x;
}

using Vector = std::vector<double>;
using Mixed = std::tuple<std::string, std::array<int, 3>, std::vector<std::string>>;

void run_with_fault(const std::string& mode, const std::string& reason, WorkerOptions options = {},
                    bool thirteen_fails = true) {
  options.workers = 2;
  options.environment["FAULT_MODE"] = mode;
  // In sanitizer builds the worker is instrumented too: let a segfault be a
  // segfault rather than the sanitizer's report and exit.
  for (const char* name : {"ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS"}) {
    const char* existing = std::getenv(name);
    options.environment[name] =
        std::string(existing != nullptr ? existing : "") + ":handle_segv=0:handle_abort=0";
  }
  SequenceLearner<double, double> learner(integers(30));
  {
    ProcessMaster<double, double> master("faulty", options);
    auto summary = evaluate(master, learner, stop::learner_done(), {.retry = {.retries = 1}});
    expect_fault_handled(summary, learner, thirteen_fails, reason);
    EXPECT_EQ(master.worker_pids().size(), 2u);
    for (pid_t pid : master.worker_pids()) EXPECT_TRUE(subprocess::is_alive(pid));
  }
  EXPECT_TRUE(live_children().empty()) << "workers left behind";
}

TEST(ProcessMaster, EvaluatesInWorkerProcesses) {
  ProcessMaster<double, double> master("slow", {.workers = 2});
  EXPECT_EQ(master.capacity(), 2u);
  const auto pids = master.worker_pids();
  ASSERT_EQ(pids.size(), 2u);
  for (pid_t pid : pids) EXPECT_NE(pid, ::getpid());
  SequenceLearner<double, double> learner(integers(60));
  auto summary = evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(summary.progress.told, 60u);
  for (std::size_t i = 0; i < learner.size(); ++i) EXPECT_EQ(*learner.result(i), learner.point(i));
  std::set<int> workers;
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell) workers.insert(e.worker);
  }
  EXPECT_EQ(workers, (std::set<int>{0, 1}));
  EXPECT_EQ(master.worker_pids(), pids);
}

TEST(ProcessMaster, RunsANamedWorkerExecutable) {
  ProcessMaster<double, double> master("faulty", {.workers = 1}, subprocess::current_executable());
  SequenceLearner<double, double> learner({1.5, -2});
  evaluate(master, learner, stop::learner_done());
  EXPECT_EQ(*learner.result(0), 3.0);
  EXPECT_EQ(*learner.result(1), -4.0);
}

TEST(ProcessMaster, CarriesVectorsStringsArraysAndTuples) {
  ProcessMaster<Vector, Vector> vectors("reverse");
  SequenceLearner<Vector, Vector> learner({{1.5, -2, 1e300}, {}, {-INFINITY, 5e-324}});
  evaluate(vectors, learner, stop::learner_done());
  EXPECT_EQ(*learner.result(0), (Vector{1e300, -2, 1.5}));
  EXPECT_TRUE(learner.result(1)->empty());
  EXPECT_EQ(*learner.result(2), (Vector{5e-324, -INFINITY}));

  ProcessMaster<Mixed, std::string> mixed("describe");
  SequenceLearner<Mixed, std::string> mixed_learner(
      {Mixed{"a b", {1, 2, 3}, {"x", "", "z"}}, Mixed{"", {0, 0, -1}, {}}});
  evaluate(mixed, mixed_learner, stop::learner_done());
  EXPECT_EQ(*mixed_learner.result(0), "a b|6|x,,z,");
  EXPECT_EQ(*mixed_learner.result(1), "|-1|");
}

TEST(ProcessMaster, ExceptionFailsTheTaskAndKeepsTheWorker) {
  ProcessMaster<double, double> master("faulty",
                                       {.workers = 2, .environment = {{"FAULT_MODE", "throw"}}});
  const auto pids = master.worker_pids();
  SequenceLearner<double, double> learner(integers(20));
  auto summary = evaluate(master, learner, stop::learner_done());
  EXPECT_TRUE(learner.failed(13));
  const auto failures = failure_texts(summary.history);
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("thirteen is unlucky"), std::string::npos) << failures[0];
  EXPECT_EQ(master.worker_pids(), pids);
}

TEST(ProcessMaster, SegfaultIsContained) {
  run_with_fault("segfault", "killed by signal 11 (SIGSEGV); stderr: about to misbehave: segfault");
}

TEST(ProcessMaster, AbortIsContained) { run_with_fault("abort", "killed by signal 6 (SIGABRT)"); }

TEST(ProcessMaster, ExitIsContained) {
  run_with_fault("exit3", "exited with status 3; stderr: about to misbehave: exit3");
}

TEST(ProcessMaster, HangingTaskIsKilledAtItsTimeout) {
  run_with_fault("hang", "timed out after 0.5 s and was killed", {.timeout = 0.5});
}

TEST(ProcessMaster, GarbageOnStdoutIsAProtocolError) {
  run_with_fault("garbage", "over the limit", {.max_message_bytes = 1 << 20});
}

TEST(ProcessMaster, HugeReplyIsAProtocolError) {
  run_with_fault("huge", "announced a message of 3145728 bytes, over the limit of 1048576",
                 {.max_message_bytes = 1 << 20});
}

TEST(ProcessMaster, ReplyToAnUnknownIdIsAProtocolError) {
  run_with_fault("unknown_id", "replied to unknown id 987654");
}

TEST(ProcessMaster, ClosedStdoutIsNoticed) {
  run_with_fault("close_stdout", "closed its stdout and was killed");
}

TEST(ProcessMaster, WorkerDyingBetweenTasksIsReplaced) {
  // After answering 13 the worker gets a SIGALRM, while it waits for its next
  // task or just after it got one (that task then fails and is retried).
  {
    ProcessMaster<double, double> master(
        "faulty", {.workers = 2, .environment = {{"FAULT_MODE", "die_between"}}});
    const auto first = master.worker_pids();
    SequenceLearner<double, double> learner(integers(30));
    auto summary = evaluate(master, learner, stop::learner_done(), {.retry = {.retries = 2}});
    EXPECT_EQ(summary.progress.told, 30u);
    for (std::size_t i = 0; i < learner.size(); ++i) {
      EXPECT_EQ(*learner.result(i), 2.0 * static_cast<double>(i));
    }
    for (const auto& text : failure_texts(summary.history)) {
      EXPECT_NE(text.find("killed by signal 14 (SIGALRM)"), std::string::npos) << text;
    }
    // More work, so that the master has surely seen the death.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    SequenceLearner<double, double> more({100, 101, 102, 103});
    evaluate(master, more, stop::learner_done(), {.retry = {.retries = 2}});
    const auto now = master.worker_pids();
    EXPECT_EQ(now.size(), 2u);
    EXPECT_NE(std::set<pid_t>(first.begin(), first.end()), std::set<pid_t>(now.begin(), now.end()));
  }
  EXPECT_TRUE(live_children().empty());
}

TEST(ProcessMaster, WorkersJoinAndLeaveDuringARun) {
  {
    ProcessMaster<double, double> master("slow", {.workers = 1});
    SequenceLearner<double, double> learner(integers(200));
    std::size_t max_capacity = 0;
    std::set<int> seen;
    bool released = false;
    RunOptions<double, double> options;
    options.hook = [&](const HistoryEvent<double, double>& e, const Progress& p) {
      max_capacity = std::max(max_capacity, p.capacity);
      if (e.kind != EventKind::tell) return;
      seen.insert(e.worker);
      if (p.told == 10) master.add_workers(3);
      // Released once every worker has answered: a worker slow to start (a
      // loaded machine, a sanitizer) must still be seen working.
      if (p.told >= 70 && seen.size() == 4 && !released) {
        master.release_workers(2);
        released = true;
      }
    };
    auto summary = evaluate(master, learner, stop::learner_done(), options);
    EXPECT_EQ(summary.progress.told, 200u);
    EXPECT_TRUE(released);
    EXPECT_EQ(max_capacity, 4u);
    EXPECT_EQ(master.worker_pids().size(), 2u);
    std::set<int> workers;
    for (const auto& e : summary.history.events) {
      if (e.kind == EventKind::tell) workers.insert(e.worker);
    }
    EXPECT_EQ(workers.size(), 4u);
  }
  EXPECT_TRUE(live_children().empty());
}

TEST(ProcessMaster, DestructorKillsBusyWorkersPromptly) {
  const auto start = std::chrono::steady_clock::now();
  {
    ProcessMaster<double, double> master("faulty",
                                         {.workers = 2, .environment = {{"FAULT_MODE", "hang"}}});
    master.submit({1, 13.0});
    master.submit({2, 13.0});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(live_children().size(), 2u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(live_children().empty());
}

TEST(ProcessMaster, UnknownFunctionNameFailsToStart) {
  // This program serves no "nobody": its worker exits at once with status 2.
  ProcessMaster<double, double> master("nobody", {.start_timeout = 2, .max_failed_starts = 2});
  master.submit({1, 1.0});
  try {
    master.next();
    FAIL() << "no exception";
  } catch (const WorkerStartError& e) {
    EXPECT_NE(std::string(e.what()).find("exited with status 2; stderr: no worker function"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (auto code = process_worker_entry<double, double>(argc, argv, "faulty", faulty)) return *code;
  if (auto code = process_worker_entry<double, double>(argc, argv, "slow", [](double x) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return x;
      })) {
    return *code;
  }
  if (auto code = process_worker_entry<Vector, Vector>(argc, argv, "reverse", [](Vector v) {
        std::reverse(v.begin(), v.end());
        return v;
      })) {
    return *code;
  }
  if (auto code =
          process_worker_entry<Mixed, std::string>(argc, argv, "describe", [](const Mixed& m) {
            const auto& [text, numbers, words] = m;
            std::string out =
                text + "|" + std::to_string(numbers[0] + numbers[1] + numbers[2]) + "|";
            for (const auto& w : words) out += w + ",";
            return out;
          })) {
    return *code;
  }
  if (argc > 1 && std::string_view(argv[1]).starts_with(process_worker_flag)) {
    std::fprintf(stderr, "no worker function for %s\n", argv[1]);
    return 2;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
