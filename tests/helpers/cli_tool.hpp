#pragma once
// Running the built `taskmaster` command as a user would, for the tests of
// the command-line tool: a process of its own, its output in files, a
// scratch directory per test.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace taskmaster::test_support {

inline const std::string cli_tool = TASKMASTER_CLI_PATH;
inline const std::string cli_source_dir = TASKMASTER_SOURCE_DIR;

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The lines of `file` that contain `needle` ("" counts every line).
inline std::size_t count_lines(const std::filesystem::path& file, const std::string& needle) {
  std::istringstream lines(read_file(file));
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line);) n += line.find(needle) != std::string::npos;
  return n;
}

/// A running `taskmaster` process, its stdout and stderr going to files.
class Tool {
 public:
  /// Runs `program` (the tool unless said otherwise) with `args`.
  Tool(const std::filesystem::path& dir, std::vector<std::string> args,
       const std::string& program = cli_tool)
      : out_(dir / "stdout"), err_(dir / "stderr") {
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETPGROUP);  // its own group: Ctrl-C goes only to it
    const int rc = posix_spawn(&pid_, program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("cannot start " + program);
  }
  Tool(const Tool&) = delete;
  Tool& operator=(const Tool&) = delete;
  ~Tool() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  void signal(int sig) const { ::kill(pid_, sig); }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Waits for the exit and returns the status (128 + signal if killed).
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  /// Waits at most `patience` for the exit; kills the tool and returns
  /// nothing if it takes longer (a hang is a failure, not a stuck test).
  std::optional<int> wait_for(std::chrono::milliseconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid_, SIGKILL);
    wait();
    return std::nullopt;
  }
  [[nodiscard]] std::string out() const { return read_file(out_); }
  [[nodiscard]] std::string err() const { return read_file(err_); }

 private:
  pid_t pid_ = -1;
  std::filesystem::path out_, err_;
};

struct Outcome {
  int status;
  std::string out, err;
};

/// A fresh scratch directory per test, and the tool run to its end.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("taskmaster-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Outcome run(std::vector<std::string> args, const std::string& program = cli_tool) {
    Tool t(dir_, std::move(args), program);
    const int status = t.wait();
    return {status, t.out(), t.err()};
  }
  /// As `run`, but a tool that takes longer than `patience` is killed and
  /// reported with status -1.
  Outcome run_within(std::chrono::milliseconds patience, std::vector<std::string> args,
                     const std::string& program = cli_tool) {
    Tool t(dir_, std::move(args), program);
    const auto status = t.wait_for(patience);
    return {status.value_or(-1), t.out(), t.err()};
  }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

  /// The CSV from `taskmaster export` as rows of numbers (header dropped).
  std::vector<std::vector<double>> exported(const std::string& history,
                                            std::string* header = nullptr) {
    const Outcome o = run({"export", history});
    EXPECT_EQ(o.status, 0) << o.err;
    std::istringstream lines(o.out);
    std::string line;
    std::getline(lines, line);
    if (header != nullptr) *header = line;
    std::vector<std::vector<double>> rows;
    while (std::getline(lines, line)) {
      std::vector<double> row;
      std::istringstream cells(line);
      std::string cell;
      while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
      rows.push_back(row);
    }
    return rows;
  }

  std::filesystem::path dir_;
};

}  // namespace taskmaster::test_support
