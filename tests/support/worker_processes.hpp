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

#include "taskmaster/masters/subprocess.hpp"

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

}  // namespace taskmaster::test_support
