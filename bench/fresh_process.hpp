// Cold figures: each timed run in a fresh process, as a user meets a learner.
//
// A benchmark program that measures a learner re-executes itself
// (/proc/self/exe) once per timed run with `--one CONFIG`; the child runs that
// one configuration on a fresh heap, prints one JSON object and exits. The
// parent takes the median over several such children: that is the cold
// figure. Runs repeated inside one process (the warm figure) reuse memory the
// earlier runs already had from the system, and are faster than any user's
// first run.

#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

extern char** environ;

namespace bench {

/// CPU time of the whole process (user and system, page faults included), in
/// seconds: the machines these figures come from are shared, and wall time
/// would count other processes' turns.
inline double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Minor page faults of this process so far: each is a page the kernel
/// handed out (and zeroed) on first touch.
inline long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

/// Runs `program args...` with stdout into a pipe and returns what it
/// printed; throws when it cannot be started or does not exit with status 0.
inline std::string run_and_read(const std::string& program, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    throw std::runtime_error(fmt::format("cannot start {}", program));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = read(out[0], buffer, sizeof buffer);
    if (got > 0) {
      text.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string command = program;
    for (const auto& a : args) command += " " + a;
    throw std::runtime_error(command + " failed");
  }
  return text;
}

/// The last line `program args...` printed, read as JSON.
inline nlohmann::json run_json(const std::string& program, const std::vector<std::string>& args) {
  std::string text = run_and_read(program, args);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return nlohmann::json::parse(text.substr(text.rfind('\n') + 1));
}

/// The figures of `processes` fresh runs of this program with `--one config`.
inline std::vector<nlohmann::json> fresh_runs(const std::string& config, int processes) {
  std::vector<nlohmann::json> runs;
  for (int i = 0; i < processes; ++i) runs.push_back(run_json("/proc/self/exe", {"--one", config}));
  return runs;
}

/// The median of `key` over `runs` (the mean of the middle two for an even count).
inline double median_of(const std::vector<nlohmann::json>& runs, const std::string& key) {
  std::vector<double> values;
  for (const auto& run : runs) values.push_back(run.at(key).get<double>());
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
}

/// python-adaptive measured beside the C++ learners: the same ask/tell loop
/// in fresh Python processes, run by bench/python_learners.py's child mode.
class PythonAdaptive {
 public:
  /// `python` is the interpreter; python-adaptive is used when it imports
  /// there (with the caller's PYTHONPATH).
  PythonAdaptive(std::string python, std::string script)
      : python_(std::move(python)), script_(std::move(script)) {
    try {
      run_and_read("/bin/sh",
                   {"-c", fmt::format("'{}' -c 'import adaptive' 2>/dev/null", python_)});
      available_ = true;
    } catch (const std::exception&) {
      available_ = false;
    }
  }

  [[nodiscard]] bool available() const { return available_; }

  /// Median points per second of CPU time of `kind` ("learner1d",
  /// "learner2d", "learnernd2d") over `processes` fresh processes.
  [[nodiscard]] double points_per_second(const std::string& kind, std::size_t n, std::size_t batch,
                                         int processes) const {
    std::vector<nlohmann::json> runs;
    for (int i = 0; i < processes; ++i) {
      runs.push_back(run_json(python_, {script_, "--child", "adaptive", kind, std::to_string(n),
                                        std::to_string(batch)}));
    }
    return median_of(runs, "cpu_points_per_s");
  }

 private:
  std::string python_;
  std::string script_;
  bool available_ = false;
};

}  // namespace bench
