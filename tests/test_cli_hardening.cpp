// The taskmaster command against what a hostile or unlucky user does to it:
// two processes on one history, deeply nested JSON, numbers out of range,
// edited histories, signals, killed runs, too few file descriptors. Each
// test pins down one defect that was found; the signal test and the fuzz
// test at the end cover the whole class.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers/cli_tool.hpp"
#include "support/worker_processes.hpp"
#include "taskmaster/detail/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using taskmaster::test_support::count_lines;
using taskmaster::test_support::Outcome;
using taskmaster::test_support::read_file;
using taskmaster::test_support::Tool;

const std::string source_dir = taskmaster::test_support::cli_source_dir;
const std::string tool = taskmaster::test_support::cli_tool;
const std::string peak = source_dir + "/tests/helpers/cli_peak.sh";
const std::string python_worker =
    "/usr/bin/python3 " + source_dir + "/examples/workers/python_worker.py";

std::vector<std::string> lines_of(const std::string& file) {
  std::istringstream in(read_file(file));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::string& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  for (const auto& line : lines) out << line << '\n';
}

/// The number (from 1) of the first line of `lines` that contains `needle`.
std::size_t line_with(const std::vector<std::string>& lines, const std::string& needle,
                      std::size_t nth = 1) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(needle) != std::string::npos && --nth == 0) return i + 1;
  }
  ADD_FAILURE() << "no line with " << needle;
  return 1;
}

/// Replaces the JSON value of `field` in `line` (up to the next ',' or '}').
std::string with_field(const std::string& line, const std::string& field,
                       const std::string& value) {
  const auto at = line.find("\"" + field + "\":");
  if (at == std::string::npos) return line;
  const auto begin = at + field.size() + 3;
  const auto end = line.find_first_of(",}", begin);
  return line.substr(0, begin) + value + line.substr(end);
}

class CliHardening : public taskmaster::test_support::CliTest {
 protected:
  /// A finished 1D run of the peak program: header, capacity, asks, tells, stop, end.
  std::string finished_run(const std::string& name, int points = 6) {
    const auto history = path(name);
    const Outcome o = run({"run", "--bounds", "0,1", "--goal", fmt::format("npoints={}", points),
                           "-j", "2", "--quiet", "--history", history, "--", peak, "{x}"});
    EXPECT_EQ(o.status, 0) << o.err;
    return history;
  }

  /// Runs the commands that read a history (all of them unless said
  /// otherwise) on `file`: each must exit promptly with a usage error that
  /// names `file:line` and `why`.
  void expect_refused_by_every_reader(const std::string& file, std::size_t line,
                                      const std::string& why,
                                      const std::vector<std::string>& commands = {
                                          "info", "export", "replay", "plot", "resume"}) {
    const std::string where = fmt::format("{}:{}:", file, line);
    for (const auto& command : commands) {
      std::vector<std::string> args{command, file};
      if (command == "plot") args.insert(args.end(), {"-o", path("plot.png")});
      if (command == "resume") args.push_back("--quiet");
      const Outcome o = run_within(20s, args);
      EXPECT_EQ(o.status, 2) << command << " (-1: still running after 20 s): " << o.err;
      EXPECT_NE(o.err.find(where), std::string::npos) << command << ": " << o.err;
      EXPECT_NE(o.err.find(why), std::string::npos) << command << ": " << o.err;
    }
  }
};

// --- 1: one writer per history -----------------------------------------------

TEST_F(CliHardening, ASecondWriterIsRefusedWhileTheFirstRuns) {
  const auto history = path("shared.jsonl");
  const auto gate = path("gate");
  // Every point waits for the gate: the first run writes its history for
  // as long as the test needs, however slow the machine.
  const std::vector<std::string> gated{
      "--", "/bin/sh", "-c", "while [ ! -e \"$1\" ]; do sleep 0.01; done; echo 1", "sh", gate};
  std::vector<std::string> args{"run", "--bounds", "-1,1",    "--goal",    "npoints=4",
                                "-j",  "2",        "--quiet", "--history", history};
  args.insert(args.end(), gated.begin(), gated.end());
  Tool first(dir_, args);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (count_lines(history, "\"e\":\"ask\"") < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(count_lines(history, "\"e\":\"ask\""), 2U) << first.err();

  const fs::path other = dir_ / "other";
  fs::create_directories(other);
  const auto second = [&](std::vector<std::string> args) {
    Tool t(other, std::move(args));
    const int status = t.wait();
    return Outcome{status, t.out(), t.err()};
  };
  std::vector<std::string> overwrite_args{"run",         "--bounds",  "0,1",
                                          "--goal",      "npoints=3", "--quiet",
                                          "--overwrite", "--history", history};
  overwrite_args.insert(overwrite_args.end(), gated.begin(), gated.end());
  const Outcome overwrite = second(overwrite_args);
  EXPECT_EQ(overwrite.status, 1) << overwrite.err;
  EXPECT_NE(overwrite.err.find("another process is writing this history"), std::string::npos)
      << overwrite.err;
  const Outcome resumed = second({"resume", history, "--quiet", "--goal", "npoints=30"});
  EXPECT_EQ(resumed.status, 1) << resumed.err;
  EXPECT_NE(resumed.err.find("another process is writing this history"), std::string::npos)
      << resumed.err;
  EXPECT_EQ(count_lines(history, "taskmaster_history"), 1U);
  EXPECT_EQ(count_lines(history, "\"e\":\"resume\""), 0U);

  std::ofstream{gate};
  EXPECT_EQ(first.wait(), 0) << first.err();
  EXPECT_EQ(exported(history).size(), 4U);
  EXPECT_EQ(run({"replay", history}).status, 0);

  // The first is gone (and a killed one leaves no lock: see CarriesOnARunKilledWithSigkill).
  const Outcome after = run({"resume", history, "--quiet", "--goal", "npoints=6"});
  EXPECT_EQ(after.status, 0) << after.err;
  EXPECT_EQ(exported(history).size(), 6U);
}

// --- 2: deeply nested JSON ------------------------------------------------------

TEST_F(CliHardening, DeeplyNestedJsonFailsThePointOrNamesTheLine) {
  const std::string deep = "print('[' * 100000 + ']' * 100000)";
  const Outcome program =
      run({"run", "--bounds", "0,1", "--goal", "npoints=2", "-j", "1", "--quiet", "--history",
           path("program.jsonl"), "--", "/usr/bin/python3", "-c", deep, "{x}"});
  EXPECT_EQ(program.status, 1) << program.err;
  EXPECT_NE(program.err.find("nested deeper than"), std::string::npos) << program.err;

  const std::string worker =
      "import json, sys\n"
      "print(json.dumps({'hello': 'taskmaster-worker', 'protocol': 1}), flush=True)\n"
      "for line in sys.stdin:\n"
      "    i = json.loads(line)['id']\n"
      "    print('{\"id\": %d, \"y\": %s}' % (i, '[' * 100000 + ']' * 100000), flush=True)\n";
  std::ofstream(path("deep_worker.py")) << worker;
  const Outcome workers =
      run({"run", "--bounds", "0,1", "--goal", "npoints=2", "-j", "1", "--quiet", "--history",
           path("worker.jsonl"), "--worker", "/usr/bin/python3 " + path("deep_worker.py")});
  EXPECT_EQ(workers.status, 1) << workers.err;
  EXPECT_NE(workers.err.find("nested deeper than"), std::string::npos) << workers.err;

  const auto history = finished_run("deep.jsonl");
  auto lines = lines_of(history);
  const std::size_t tell = line_with(lines, "\"e\":\"tell\"");
  lines[tell - 1] =
      with_field(lines[tell - 1], "y", std::string(100000, '[') + std::string(100000, ']'));
  write_lines(history, lines);
  expect_refused_by_every_reader(history, tell, "nested deeper than");
}

// --- 3 and 6: numbers out of range, readers that could wait -----------------------

TEST_F(CliHardening, NumbersOutOfRangeAreRefusedNamingTheFlag) {
  const auto history = finished_run("done.jsonl");
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<std::string> program{"--", peak, "{x}"};
  const std::vector<Case> cases{
      {{"run", "--bounds", "0,1", "-j", "-1"}, "--workers"},
      {{"run", "--bounds", "0,1", "-j", "0"}, "--workers"},
      {{"run", "--bounds", "0,1", "--retries", "-1"}, "--retries"},
      {{"run", "--bounds", "0,1", "--seed", "-1"}, "--seed"},
      {{"run", "--bounds", "0,1", "--prefetch", "-1"}, "--prefetch"},
      {{"run", "--bounds", "0,1", "--prefetch", "65"}, "--prefetch"},
      {{"run", "--bounds", "0,1", "--prefetch", "1"}, "--prefetch"},  // a program per point
      {{"run", "--bounds", "0,1", "--timeout", "inf"}, "--timeout"},
      {{"run", "--bounds", "0,1", "--timeout", "1e300"}, "--timeout"},
      {{"run", "--bounds", "-1e308,1e308"}, "--bounds"},
      {{"run", "--bounds", "0,1", "--loss", "curvature", "--loss-param", "area_factor=nan"},
       "--loss-param"},
      {{"run", "--learner", "integrator", "--bounds", "0,1", "--learner-param", "tol=inf"},
       "--learner-param"},
      {{"run", "--bounds", "0,1", "--goal", "duration=1e306h"}, "--goal"},
      {{"run", "--bounds", "0,1", "--goal", "loss=nan"}, "--goal"},
      {{"run", "--master", "slurm", "--slurm-cpus", "-1", "--bounds", "0,1"}, "--slurm-cpus"},
      {{"resume", history, "-j", "-1"}, "--workers"},
      {{"demo", "-j", "-1"}, "--workers"},
  };
  for (auto c : cases) {
    if (c.args[0] == "run") {
      c.args.insert(c.args.end(), {"--history", path("never.jsonl")});
      c.args.insert(c.args.end(), program.begin(), program.end());
    }
    const Outcome o = run_within(20s, c.args);
    EXPECT_EQ(o.status, 2) << fmt::format("{}", fmt::join(c.args, " ")) << ": " << o.err;
    EXPECT_NE(o.err.find(c.flag + ":"), std::string::npos)
        << fmt::format("{}", fmt::join(c.args, " ")) << ": " << o.err;
  }
  EXPECT_FALSE(fs::exists(path("never.jsonl")));

  // The same numbers in a header are refused by the same checks.
  auto lines = lines_of(history);
  lines[0] = with_field(lines[0], "workers", "1000000000");
  write_lines(history, lines);
  expect_refused_by_every_reader(history, 1, "--workers: need 1 to 100000", {"info", "resume"});
  lines[0] = with_field(lines[0], "workers", "-1");
  write_lines(history, lines);
  expect_refused_by_every_reader(history, 1, "\"workers\" must be a whole number", {"info"});
}

TEST_F(CliHardening, ReadersOfAHistoryWithoutCapacityNeverWait) {
  const auto history = finished_run("no-capacity.jsonl");
  auto lines = lines_of(history);
  lines.erase(lines.begin() + static_cast<long>(line_with(lines, "\"e\":\"capacity\"") - 1));
  write_lines(history, lines);
  expect_refused_by_every_reader(history, line_with(lines, "\"e\":\"ask\""),
                                 "ask before any \"capacity\" event");
}

// --- 4: signals -------------------------------------------------------------------

struct SignalCase {
  int signal;
  bool workers;
};

void PrintTo(const SignalCase& c, std::ostream* os) {
  *os << "SIG" << sigabbrev_np(c.signal) << (c.workers ? " with workers" : " with programs");
}

class CliSignals : public CliHardening, public ::testing::WithParamInterface<SignalCase> {};

/// The tool is stopped by a signal while every program (or worker) it runs
/// is busy for a minute in a program it started: whatever the signal, no
/// process of the run is left, and the history is whole (SIGKILL: up to the
/// kill) and readable, ready to be resumed.
TEST_P(CliSignals, TheRunEndsWithItsHistoryWholeAndNoProcessLeft) {
  const auto [signal, workers] = GetParam();
  const std::string marker = taskmaster::test_support::process_marker();
  const auto history = path("signalled.jsonl");
  std::vector<std::string> args{"run", "--bounds", "-1,1",    "--goal",    "npoints=100",
                                "-j",  "2",        "--quiet", "--history", history};
  if (workers) {
    args.insert(args.end(), {"--worker", "/usr/bin/python3 " + source_dir +
                                             "/tests/helpers/cli_sleepy_worker.py " + marker});
  } else {
    args.insert(args.end(), {"--", "/usr/bin/python3", "-c",
                             "import subprocess, sys; subprocess.run(['/usr/bin/python3', '-c', "
                             "'import time; time.sleep(60)', sys.argv[1]]); print(1)",
                             marker});
  }
  Tool t(dir_, args);
  // The marker is on the tool's command line too: 1 + 2 programs (or
  // workers) + the 2 programs they started.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (taskmaster::subprocess::live_processes_with(marker).size() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(taskmaster::subprocess::live_processes_with(marker).size(), 5U) << t.err();

  t.signal(signal);
  if (signal == SIGINT) {  // the first waits for the points in flight: press again
    std::this_thread::sleep_for(200ms);
    t.signal(SIGINT);
  }
  const auto status = t.wait_for(20s);
  ASSERT_TRUE(status.has_value()) << "still running 20 s after the signal: " << t.err();
  EXPECT_EQ(*status, 128 + signal) << t.err();
  EXPECT_TRUE(taskmaster::test_support::survivors(marker).empty())
      << "processes of the run outlived the tool";

  EXPECT_EQ(count_lines(history, "\"e\":\"ask\""), 2U);
  EXPECT_EQ(count_lines(history, "\"e\":\"tell\""), 0U);
  EXPECT_EQ(count_lines(history, "\"e\":\"fail\""), 0U) << "an abandoned point is not a failure";
  EXPECT_EQ(count_lines(history, "\"e\":\"end\""), signal == SIGKILL ? 0U : 1U);
  if (signal != SIGKILL) {
    EXPECT_NE(t.err().find("taskmaster resume " + history), std::string::npos) << t.err();
  }
  const Outcome info = run({"info", history});
  EXPECT_EQ(info.status, 0) << info.err;
  EXPECT_NE(info.out.find("0 evaluated, 0 failed, 0 retried, 2 asked"), std::string::npos)
      << info.out;
  EXPECT_EQ(run({"replay", history}).status, 0);
}

INSTANTIATE_TEST_SUITE_P(EverySignal, CliSignals,
                         ::testing::Values(SignalCase{SIGINT, false}, SignalCase{SIGTERM, false},
                                           SignalCase{SIGHUP, false}, SignalCase{SIGKILL, false},
                                           SignalCase{SIGINT, true}, SignalCase{SIGTERM, true},
                                           SignalCase{SIGHUP, true}, SignalCase{SIGKILL, true}),
                         [](const auto& info) {
                           return std::string(sigabbrev_np(info.param.signal)) +
                                  (info.param.workers ? "_Workers" : "_Programs");
                         });

// --- 5: a history appears with its header -------------------------------------------

TEST_F(CliHardening, AHistoryAppearsOnlyWithItsHeader) {
  // No file may grow past 0 bytes: the first write to the history kills the
  // tool (SIGXFSZ), as a full disk or a kill at that moment would.
  const auto limited = [&](const std::string& history, bool overwrite) {
    std::vector<std::string> args{"-c",       "ulimit -f 0; exec \"$0\" \"$@\"",
                                  tool,       "run",
                                  "--bounds", "0,1",
                                  "--goal",   "npoints=3",
                                  "--quiet",  "--history",
                                  history};
    if (overwrite) args.push_back("--overwrite");
    args.insert(args.end(), {"--", peak, "{x}"});
    return run(args, "/bin/sh");
  };
  const auto fresh = path("fresh.jsonl");
  EXPECT_EQ(limited(fresh, false).status, 128 + SIGXFSZ);
  EXPECT_FALSE(fs::exists(fresh)) << "an empty history was left behind";
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("fresh"), std::string::npos)
        << "left behind: " << entry.path();
  }
  const auto old = finished_run("old.jsonl");
  const std::string before = read_file(old);
  EXPECT_EQ(limited(old, true).status, 128 + SIGXFSZ);
  EXPECT_EQ(read_file(old), before) << "the run it was to replace is gone";

  // An empty file (older versions left them) holds no run: run takes it,
  // resume says what it is.
  const auto empty = path("empty.jsonl");
  std::ofstream{empty};
  const Outcome resumed = run({"resume", empty});
  EXPECT_EQ(resumed.status, 2);
  EXPECT_NE(resumed.err.find("is empty: no run was recorded in it"), std::string::npos)
      << resumed.err;
  const Outcome o = run({"run", "--bounds", "0,1", "--goal", "npoints=3", "--quiet", "--history",
                         empty, "--", peak, "{x}"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(exported(empty).size(), 3U);
}

// --- 7: the header and every event against the configuration -------------------------

TEST_F(CliHardening, AnEditedHistoryIsRefusedWithItsFileAndLine) {
  const auto history = finished_run("edited.jsonl");
  const auto original = lines_of(history);

  auto lines = original;
  lines[0] = with_field(lines[0], "learner", "\"2d\"");
  write_lines(history, lines);
  expect_refused_by_every_reader(history, 1, "learner 2d needs 2 pairs", {"info", "replay"});

  lines = original;
  const std::size_t second_tell = line_with(lines, "\"e\":\"tell\"", 2);
  lines[second_tell - 1] = with_field(lines[second_tell - 1], "y", "[1,2]");
  write_lines(history, lines);
  expect_refused_by_every_reader(history, second_tell, "components", {"export", "plot"});

  lines = original;
  const std::size_t ask = line_with(lines, "\"e\":\"ask\"", 2);
  lines[ask - 1] = with_field(lines[ask - 1], "x", "5");
  write_lines(history, lines);
  expect_refused_by_every_reader(history, ask, "outside the bounds", {"info", "resume"});
}

// --- 8: info on a run resumed after a kill ----------------------------------------

TEST_F(CliHardening, InfoJudgesTheLastSegmentOnly) {
  const auto history = finished_run("resumed.jsonl", 8);
  auto lines = lines_of(history);
  // As a run killed after its fourth result leaves it.
  lines.resize(line_with(lines, "\"e\":\"tell\"", 4));
  write_lines(history, lines);
  EXPECT_NE(run({"info", history}).out.find("did not end cleanly"), std::string::npos);
  ASSERT_EQ(run({"resume", history, "--quiet"}).status, 0);
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("in 2 segments"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("did not end cleanly"), std::string::npos) << info.out;
}

// --- 9: command templates -------------------------------------------------------------

TEST_F(CliHardening, TemplatesAreCheckedBeforeTheRunStarts) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"--", peak, "{y}"}, "unknown placeholder '{y}'"},
           {{"--", peak, "{x5}"}, "uses {x5}, but the input of learner 1d is one number"},
           {{"--", peak, "{x"}, "unclosed '{'"},
           {{"--learner", "2d", "--bounds", "0,1", "--", peak, "{x2}"}, "has 2 components"},
       }) {
    std::vector<std::string> args{"run", "--bounds", "0,1", "--history", path("t.jsonl")};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const Outcome o = run(args);
    EXPECT_EQ(o.status, 2) << o.err;
    EXPECT_NE(o.err.find(c.message), std::string::npos) << o.err;
    EXPECT_FALSE(fs::exists(path("t.jsonl")));
  }
}

TEST_F(CliHardening, AOneCoordinateSequenceFillsXWithANumber) {
  std::ofstream(path("points.txt")) << "16\n17.5\n";
  // Fails the point if {x} or TASKMASTER_X holds an array.
  const Outcome o =
      run({"run", "--learner", "sequence", "--points", path("points.txt"), "--quiet", "--history",
           path("sequence.jsonl"), "--", "/bin/sh", "-c",
           "case \"$1 $TASKMASTER_X\" in *[[]*) exit 3;; esac; echo \"$1\"", "sh", "{x}"});
  EXPECT_EQ(o.status, 0) << o.err;
  const auto rows = exported(path("sequence.jsonl"));
  ASSERT_EQ(rows.size(), 2U);
  for (const auto& r : rows) EXPECT_EQ(r[0], r[1]);
}

TEST_F(CliHardening, RunningOutOfFileDescriptorsThrottlesInsteadOfFailing) {
  const auto limited = [&](const std::string& history, std::vector<std::string> program) {
    std::vector<std::string> args{"-c",       "ulimit -n 32; exec \"$0\" \"$@\"",
                                  tool,       "run",
                                  "--bounds", "0,1",
                                  "--goal",   "npoints=30",
                                  "-j",       "16",
                                  "--quiet",  "--history",
                                  history};
    args.insert(args.end(), program.begin(), program.end());
    return run(args, "/bin/sh");
  };
  const auto programs = path("programs.jsonl");
  const Outcome a = limited(programs, {"--", peak, "{x}", "slow"});
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(count_lines(programs, "\"e\":\"tell\""), 30U);
  EXPECT_EQ(count_lines(programs, "\"e\":\"fail\""), 0U);

  const auto workers = path("workers.jsonl");
  const Outcome b = limited(workers, {"--worker", python_worker});
  EXPECT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(count_lines(workers, "\"e\":\"tell\""), 30U);
  EXPECT_EQ(count_lines(workers, "\"e\":\"fail\""), 0U);
  EXPECT_EQ(count_lines(workers, "\"e\":\"capacity\",\"n\":16"), 0U)
      << "16 workers cannot run on 32 descriptors";
}

// --- 10: resume runs the command a history names ---------------------------------------

TEST_F(CliHardening, ResumeSaysWhichProgramItRuns) {
  const auto history = finished_run("theirs.jsonl");
  const Outcome o = run({"resume", history, "--quiet"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("resuming " + history + ", which runs: " + peak + " '{x}'"),
            std::string::npos)
      << o.err;
}

// --- the class: histories mutated at random --------------------------------------------

/// Random damage to a real history (a fixed seed, so failures repeat): no
/// reader may crash or hang; each either works or names the file and line.
TEST_F(CliHardening, FuzzedHistoriesGiveAResultOrAnErrorWithTheLine) {
  const auto source = finished_run("source.jsonl", 10);
  const auto original = lines_of(source);
  std::mt19937_64 random(16);
  const std::vector<std::string> junk{"",
                                      "[",
                                      "]]]",
                                      "{}",
                                      "null",
                                      "-1",
                                      "1e999",
                                      "\"",
                                      "18446744073709551616",
                                      "nan",
                                      "[[[[[[",
                                      "\"inf\"",
                                      ",",
                                      std::string(150, '[')};
  const auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(random() % static_cast<std::uint64_t>(n));
  };
  const std::regex located(R"(\.jsonl:\d+)");
  for (int round = 0; round < 10; ++round) {
    auto lines = original;
    const int edits = 1 + static_cast<int>(pick(3));
    for (int e = 0; e < edits; ++e) {
      auto& line = lines[pick(lines.size())];
      switch (pick(5)) {
        case 0: line.insert(pick(line.size() + 1), junk[pick(junk.size())]); break;
        case 1: line.erase(pick(line.size() + 1), pick(12)); break;
        case 2: {
          const auto digit = line.find_first_of("0123456789", pick(line.size() + 1));
          if (digit != std::string::npos) line[digit] = static_cast<char>('0' + pick(10));
          break;
        }
        case 3: lines.insert(lines.begin() + static_cast<long>(pick(lines.size())), line); break;
        default: std::swap(line, lines[pick(lines.size())]); break;
      }
    }
    const auto file = path(fmt::format("fuzz{}.jsonl", round));
    write_lines(file, lines);
    for (const char* command : {"info", "replay"}) {
      const Outcome o = run_within(20s, {command, file});
      const std::string what =
          fmt::format("{} {} (round {}): {}{}", command, file, round, o.out, o.err);
      ASSERT_GE(o.status, 0) << "hung: " << what;
      ASSERT_LE(o.status, 2) << "crashed: " << what;
      if (o.status == 2) {
        EXPECT_TRUE(std::regex_search(o.err, located)) << "no file:line in " << what;
      } else if (o.status == 1) {
        EXPECT_EQ(std::string(command), "replay") << what;
        EXPECT_TRUE(std::regex_search(o.out, located)) << "no file:line in " << what;
      }
    }
  }
}

}  // namespace
