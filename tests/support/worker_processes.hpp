#pragma once
// Checks on the process table for the tests of the out-of-process masters.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/live_processes.hpp"
#include "taskmaster/core/run_options.hpp"
#include "taskmaster/history/history.hpp"
#include "taskmaster/learners/sequence_learner.hpp"

namespace taskmaster::test_support {

/// A string unique to the running test, put on the workers' command lines so
/// that the test can find them (and only them) in /proc.
inline std::string process_marker() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return fmt::format("tm-marker-{}-{}-{}", info->test_suite_name(), info->name(), ::getpid());
}

/// The live (not zombie) processes carrying `marker`, after giving killed
/// ones a moment to go: a master reaps its own children, but what they
/// started is reaped by init, a little later.
inline std::vector<pid_t> survivors(const std::string& marker) {
  auto found = subprocess::live_processes_with(marker);
  for (int i = 0; i < 100 && !found.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    found = subprocess::live_processes_with(marker);
  }
  return found;
}

/// Every child of this process, zombies included: a master must have reaped
/// the workers it ended, not only killed them.
inline std::vector<pid_t> live_children() {
  std::vector<pid_t> found;
  const pid_t self = ::getpid();
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long parent = 0;
    rest >> state >> parent;
    if (parent == self) found.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return found;
}

/// 0, 1, ..., n - 1: the inputs of the fault runs.
inline std::vector<double> integers(int n) {
  std::vector<double> xs;
  for (int i = 0; i < n; ++i) xs.push_back(i);
  return xs;
}

/// The reasons of every failure in a history, in order.
inline std::vector<std::string> failure_texts(const History<double, double>& history) {
  std::vector<std::string> texts;
  for (const auto& e : history.events) {
    if (e.kind == EventKind::fail) texts.push_back(e.text);
  }
  return texts;
}

/// What every fault run must show: each point ended told (with 2x) or, for
/// point 13 when it always fails, failed; and some failure names `reason`.
inline void expect_fault_handled(const RunSummary<double, double>& summary,
                                 const SequenceLearner<double, double>& learner,
                                 bool thirteen_fails, const std::string& reason) {
  EXPECT_TRUE(learner.done());
  EXPECT_EQ(summary.progress.in_flight, 0u);
  EXPECT_EQ(summary.progress.told + summary.progress.failed, learner.size());
  for (std::size_t i = 0; i < learner.size(); ++i) {
    if (i == 13 && thirteen_fails) {
      EXPECT_TRUE(learner.failed(i));
      continue;
    }
    ASSERT_TRUE(learner.result(i).has_value()) << "point " << i;
    EXPECT_EQ(*learner.result(i), 2.0 * static_cast<double>(i));
  }
  const auto failures = failure_texts(summary.history);
  // The first try and the retry.
  if (thirteen_fails) {
    EXPECT_GE(failures.size(), 2u);
  }
  bool found = false;
  for (const auto& text : failures) found = found || text.find(reason) != std::string::npos;
  EXPECT_TRUE(found) << "no failure mentions '" << reason
                     << "'; first: " << (failures.empty() ? "(none)" : failures.front());
}

}  // namespace taskmaster::test_support
