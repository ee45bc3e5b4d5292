// live_view: do many watchers of the live view slow a run down?
//
//   live_view           full run; exits 1 if the target is missed
//   live_view --quick   small sizes, for smoke runs; always exits 0
//   live_view --json    one JSON object per line instead of a table
//
// The same run of `taskmaster run` with Learner1D on two workers, timed from
// spawn to exit: without --live, with the server and no watcher, and with
// 50 event streams (/api/events) read by this program from the moment the
// address is printed. Two programs: Python workers that answer at once
// (`--worker 'python3 python_worker.py'`: thousands of events a second, the
// most the live view has to send), and one process per point (`/bin/echo
// {x}`). Every figure is the median of 3 repetitions, the three kinds of run
// interleaved. See bench/README.md.

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "report.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr int repetitions = 3;
constexpr std::size_t workers = 2;
const std::string tool = TASKMASTER_CLI_PATH;
const std::string worker_script = std::string(TASKMASTER_EXAMPLE_WORKERS_DIR) + "/python_worker.py";

double seconds_of(const rusage& use) {
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return seconds(use.ru_utime) + seconds(use.ru_stime);
}

/// One watcher: an event stream read (and dropped) in a thread of its own.
class Watcher {
 public:
  explicit Watcher(int port) : client_("127.0.0.1", port) {
    thread_ = std::thread([this] {
      client_.Get("/api/events", [this](const char*, std::size_t n) {
        bytes_ += n;
        ++messages_;
        return true;
      });
      rusage use{};
      ::getrusage(RUSAGE_THREAD, &use);
      cpu_seconds_ = seconds_of(use);
    });
  }
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;
  ~Watcher() { stop(); }
  /// Closes the stream and waits for its thread.
  void stop() {
    client_.stop();
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  [[nodiscard]] std::uint64_t messages() const { return messages_; }
  /// The processor time this watcher took (known once it has stopped).
  [[nodiscard]] double cpu_seconds() const { return cpu_seconds_; }

 private:
  httplib::Client client_;
  std::thread thread_;
  std::atomic<std::uint64_t> bytes_{0}, messages_{0};
  double cpu_seconds_ = 0;
};

struct Outcome {
  double seconds = 0;
  std::uint64_t messages = 0;  ///< per watcher, the fewest
  std::uint64_t bytes = 0;     ///< all watchers together
  /// Processor time of the run (the tool and its workers) and of the
  /// watchers: on a busy machine a steadier measure of cost than wall time.
  double run_cpu = 0, watchers_cpu = 0;
};

/// How the run evaluates its points.
enum class Program { python_workers, echo_per_point };

/// One run with `watchers` watchers (-1: without --live).
Outcome timed_run(Program program, std::uint64_t points, int watchers) {
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("taskmaster-live-bench-{}", ::getpid());
  fs::create_directories(dir);
  const fs::path history = dir / "run.jsonl", log = dir / "stderr";
  std::vector<std::string> args{tool,        "run",
                                "--bounds",  "-1,1",
                                "--goal",    fmt::format("npoints={}", points),
                                "-j",        std::to_string(workers),
                                "--quiet",   "--overwrite",
                                "--history", history.string()};
  if (watchers >= 0) args.insert(args.end(), {"--live", "0"});
  if (program == Program::python_workers) {
    args.insert(args.end(), {"--worker", "/usr/bin/python3 " + worker_script});
  } else {
    args.insert(args.end(), {"--", "/bin/echo", "{x}"});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + tool);
  posix_spawn_file_actions_destroy(&actions);
  std::vector<std::unique_ptr<Watcher>> streams;
  if (watchers > 0) {
    // The address, as a user would copy it from the terminal.
    static const std::regex address(R"(http://127\.0\.0\.1:(\d+)/)");
    std::smatch m;
    for (int i = 0; i < 5000; ++i) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      const std::string s = text.str();
      if (std::regex_search(s, m, address)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (m.empty()) throw std::runtime_error("the run printed no address");
    const int port = std::stoi(m[1]);
    for (int i = 0; i < watchers; ++i) streams.push_back(std::make_unique<Watcher>(port));
  }
  int status = 0;
  rusage use{};
  ::wait4(pid, &status, 0, &use);  // the tool's time with its workers'
  Outcome o;
  o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  o.run_cpu = seconds_of(use);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(fmt::format("{} failed with status {}", tool, status));
  o.messages = streams.empty() ? 0 : UINT64_MAX;
  for (const auto& w : streams) {
    o.messages = std::min(o.messages, w->messages());
    o.bytes += w->bytes();
  }
  for (auto& w : streams) {
    w->stop();  // its thread's time is then known
    o.watchers_cpu += w->cpu_seconds();
  }
  streams.clear();
  fs::remove_all(dir);
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(argc, argv,
                       {.program = "live_view", .layout = bench::ParameterLayout::grouped});
  constexpr int many = 50;
  struct Case {
    Program program;
    std::uint64_t points;
    const char* name;
    const char* worker;
  };
  const Case cases[] = {
      {Program::python_workers, report.quick() ? 2'000u : 60'000u, "python_workers",
       "python_worker.py (answers at once)"},
      {Program::echo_per_point, report.quick() ? 300u : 4'000u, "process_per_point",
       "/bin/echo {x}, one process per point"},
  };
  for (const Case& c : cases) {
    std::vector<double> plain, quiet, watched;
    std::vector<double> quiet_cpu, watched_cpu, watchers_cpu;
    Outcome last;
    const double kilo_points = static_cast<double>(c.points) / 1000;
    for (int r = 0; r < repetitions; ++r) {
      const auto rate = [&](int w) {
        const Outcome o = timed_run(c.program, c.points, w);
        if (w == 0) quiet_cpu.push_back(o.run_cpu / kilo_points);
        if (w == many) {
          last = o;
          watched_cpu.push_back(o.run_cpu / kilo_points);
          watchers_cpu.push_back(o.watchers_cpu / kilo_points);
        }
        return static_cast<double>(c.points) / o.seconds;
      };
      plain.push_back(rate(-1));
      quiet.push_back(rate(0));
      watched.push_back(rate(many));
    }
    const nlohmann::json parameters{
        {"points", c.points}, {"workers", workers}, {"learner", "Learner1D"}, {"worker", c.worker}};
    auto with = [&](int n) {
      auto p = parameters;
      p["watchers"] = n;
      return p;
    };
    const std::string prefix = c.name;
    report.heading("Learner1D, {} points, {} workers: {} (median of {})", c.points, workers,
                   c.worker, repetitions);
    report.add({.name = prefix + "_without_live",
                .value = median(plain),
                .unit = "points/s",
                .parameters = parameters,
                .note = "taskmaster run, no --live"});
    report.add({.name = prefix + "_live_no_watcher",
                .value = median(quiet),
                .unit = "points/s",
                .parameters = with(0),
                .note = "taskmaster run --live, nobody watching"});
    report.add({.name = prefix + "_live_50_watchers",
                .value = median(watched),
                .unit = "points/s",
                .parameters = with(many),
                .note = fmt::format("--live, {} event streams ({:.1f} MB sent in all in the last "
                                    "run)",
                                    many, static_cast<double>(last.bytes) / 1e6)});
    report.add({.name = prefix + "_run_cpu_live_no_watcher",
                .value = median(quiet_cpu) * 1000,
                .unit = "ms/1000 points",
                .parameters = with(0),
                .note = "processor time of the tool and its workers"});
    report.add({.name = prefix + "_run_cpu_live_50_watchers",
                .value = median(watched_cpu) * 1000,
                .unit = "ms/1000 points",
                .parameters = with(many),
                .note = "the same, serving 50 event streams"});
    report.add({.name = prefix + "_watchers_cpu",
                .value = median(watchers_cpu) * 1000,
                .unit = "ms/1000 points",
                .parameters = with(many),
                .note = "processor time of the 50 watchers reading the streams"});
    report.add({.name = prefix + "_watched_over_unwatched",
                .value = median(watched) / median(quiet),
                .unit = "ratio",
                .parameters = with(many),
                .target = 0.95,
                .note = "50 watchers / none: at most 5% slower"});
  }
  return report.exit_status();
}
