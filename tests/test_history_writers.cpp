// One writer per history file, a file that appears only with its header,
// and readers that never wait: HistorySink, resume and HistoryMaster under
// a second writer (a thread, a process, a killed process), a full disk and
// records no loop could have written.

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/gap_learner.hpp"
#include "support/temp_files.hpp"
#include "taskmaster/taskmaster.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using taskmaster::EventKind;
using taskmaster::HistoryBusy;
using taskmaster::HistoryError;
using taskmaster::HistorySink;
using taskmaster::test_support::read_file;
using taskmaster::test_support::TempDir;
using taskmaster::test_support::write_file;

std::string header_line(const nlohmann::json& meta = nullptr) {
  taskmaster::RunSettings settings;
  settings.started = "2026-12-01T00:00:00Z";
  settings.metadata = meta;
  return taskmaster::format_header(settings) + "\n";
}

/// A whole run of three points written by evaluate().
void write_run(const fs::path& file) {
  taskmaster::SerialMaster<double, double> master([](double x) { return 2 * x; });
  taskmaster::SequenceLearner<double, double> learner({1.0, 2.0, 3.0});
  (void)taskmaster::evaluate(master, learner, taskmaster::stop::learner_done(),
                             {.history_file = file});
}

std::vector<std::string> files_in(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  return names;
}

// --- one writer -------------------------------------------------------------------

TEST(HistoryWriters, ASecondSinkForTheSameFileIsRefused) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    HistorySink first(file, HistorySink::Mode::create);
    first.write(header_line());
    EXPECT_THROW(HistorySink(file, HistorySink::Mode::create), HistoryBusy);
    EXPECT_THROW(HistorySink(file, HistorySink::Mode::append), HistoryBusy);
    try {
      HistorySink second(file, HistorySink::Mode::append);
    } catch (const HistoryBusy& e) {
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("another process is writing"), std::string::npos);
    }
    first.write("{\"e\":\"capacity\",\"n\":1,\"t\":0}\n");
  }
  HistorySink after(file, HistorySink::Mode::append);  // the first is gone
  after.write("{\"e\":\"end\",\"reason\":\"done\",\"t\":0}\n");
  EXPECT_EQ(taskmaster::read_raw_history(file).events.size(), 2U);
}

TEST(HistoryWriters, ALockDiesWithTheProcessThatHeldIt) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  // Another process writing the history, for a minute and more.
  std::string program = KILLABLE_RUN_PATH;
  std::string name = file.string();
  std::string points = "100000";
  char* argv[] = {program.data(), name.data(), points.data(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t writer = -1;
  ASSERT_EQ(::posix_spawn(&writer, argv[0], &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  struct Reaper {
    pid_t& pid;
    ~Reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper{writer};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (read_file(file).find("\"e\":\"tell\"") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_NE(read_file(file).find("\"e\":\"tell\""), std::string::npos)
      << "the writer did not start";

  EXPECT_THROW(HistorySink(file, HistorySink::Mode::append), HistoryBusy);
  EXPECT_THROW(HistorySink(file, HistorySink::Mode::create), HistoryBusy);
  taskmaster::ThreadMaster<double, double> master([](double x) { return x; }, 2);
  taskmaster::test_support::GapLearner learner;
  EXPECT_THROW((void)taskmaster::resume(file, master, learner, taskmaster::stop::points(1)),
               HistoryBusy);

  ::kill(writer, SIGKILL);
  int status = 0;
  ::waitpid(writer, &status, 0);
  writer = -1;
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(read_file(file).find("\"e\":\"resume\""), std::string::npos)
      << "a refused resume wrote to the file";
  // The lock died with its holder.
  taskmaster::test_support::GapLearner fresh;
  std::uint64_t asked = 0;
  for (const auto& e : taskmaster::read_raw_history(file, {.allow_truncated_tail = true}).events)
    asked += e.kind == EventKind::ask ? 1 : 0;
  EXPECT_NO_THROW(
      (void)taskmaster::resume(file, master, fresh, taskmaster::stop::points(asked + 2)));
  EXPECT_NE(read_file(file).find("\"e\":\"resume\""), std::string::npos);
}

/// Threads race to write the same file, over and over: at every moment one
/// of them writes it, and what it reads back is exactly what it wrote.
TEST(HistoryWriters, WritersRacingForOneFileNeverShareIt) {
  TempDir dir;
  const fs::path file = dir.file("raced.jsonl");
  constexpr int threads = 4;
  constexpr int attempts = 25;
  std::atomic<int> written{0};
  std::atomic<int> refused{0};
  std::atomic<int> damaged{0};
  std::vector<std::thread> racers;
  for (int k = 0; k < threads; ++k) {
    racers.emplace_back([&, k] {
      for (int a = 0; a < attempts; ++a) {
        const std::string name = fmt::format("writer {} attempt {}", k, a);
        try {
          HistorySink sink(file, a % 3 == 2 && fs::exists(file) ? HistorySink::Mode::append
                                                                : HistorySink::Mode::create);
          std::string mine = header_line({{"writer", name}});
          if (a % 3 == 2) mine = read_file(file);  // appending: what is there stays
          sink.write(a % 3 == 2 ? std::string() : mine);
          for (const char* line :
               {R"({"e":"capacity","n":1,"t":0})", R"({"e":"stop","reason":"x","t":0})"}) {
            const std::string text = std::string(line) + "\n";
            sink.write(text);
            mine += text;
          }
          if (read_file(file) != mine) ++damaged;
          ++written;
        } catch (const HistoryBusy&) {
          ++refused;
        }
      }
    });
  }
  for (auto& t : racers) t.join();
  EXPECT_EQ(damaged.load(), 0) << "a writer found its file changed by another";
  EXPECT_GT(written.load(), 0);
  EXPECT_EQ(written.load() + refused.load(), threads * attempts);
  const auto raw = taskmaster::read_raw_history(file);
  EXPECT_EQ(raw.segments.size(), 1U);
  EXPECT_EQ(files_in(dir.file("")), std::vector<std::string>{"raced.jsonl"});
}

// --- a file with its header, or none ---------------------------------------------------

TEST(HistoryFiles, ASinkThatWroteNothingLeavesNoFileAndTheOldOneWhole) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  { HistorySink unwritten(file, HistorySink::Mode::create); }
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(files_in(dir.file("")).empty()) << "left behind: " << files_in(dir.file(""))[0];

  write_run(file);
  const std::string before = read_file(file);
  {
    HistorySink replacing(file, HistorySink::Mode::create);
    EXPECT_EQ(read_file(file), before) << "replaced before the new header was written";
    replacing.write(header_line());
    EXPECT_EQ(read_file(file), header_line());
  }
  EXPECT_EQ(files_in(dir.file("")), std::vector<std::string>{"run.jsonl"});
}

TEST(HistoryFiles, AHistoryReachedThroughALinkIsWrittenWhereItPoints) {
  TempDir dir;
  fs::create_directories(dir.file("elsewhere"));
  const fs::path target = dir.file("elsewhere") / "run.jsonl";
  const fs::path link = dir.file("link.jsonl");
  fs::create_symlink(target, link);
  write_run(link);  // a new file where the link points
  write_run(link);  // and one that replaces it
  EXPECT_TRUE(fs::is_symlink(link));
  const auto results = taskmaster::read_history<double, double>(target).results();
  EXPECT_EQ(results.size(), 3U);
}

TEST(HistoryFiles, ADiskFullBeforeTheHeaderLeavesNoEmptyFile) {
  TempDir dir;
  const fs::path file = dir.file("full.jsonl");
  // Every write to a file fails for a moment, as on a full disk.
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  const auto previous = ::signal(SIGXFSZ, SIG_IGN);
  const rlimit none{0, saved.rlim_max};
  ::setrlimit(RLIMIT_FSIZE, &none);
  bool reported = false;
  try {
    write_run(file);
  } catch (const HistoryError& e) {
    reported = std::string(e.what()).find("write failed") != std::string::npos;
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, previous);
  EXPECT_TRUE(reported) << "evaluate did not report the failed write";
  EXPECT_FALSE(fs::exists(file)) << "a history without its header was left";
  EXPECT_TRUE(files_in(dir.file("")).empty());
}

// --- records no loop writes ---------------------------------------------------------

const std::string capacity_1 = R"({"e":"capacity","n":1,"t":0})";
const std::string ask_0 = R"({"e":"ask","step":0,"id":0,"entropy":1,"x":0.5,"t":0})";
const std::string ask_1 = R"({"e":"ask","step":1,"id":1,"entropy":2,"x":0.25,"t":0})";

void expect_refused(const std::string& text, std::size_t line, const std::string& needle) {
  std::istringstream in(text);
  try {
    (void)taskmaster::parse_raw_history(in, "case.jsonl");
    ADD_FAILURE() << "accepted:\n" << text;
  } catch (const HistoryError& e) {
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(HistoryReader, AnAskNeedsACapacityAboveTheTasksOutstanding) {
  expect_refused(header_line() + ask_0 + "\n", 2, "ask before any \"capacity\" event");
  expect_refused(header_line() + capacity_1 + "\n" + ask_0 + "\n" + ask_1 + "\n", 4,
                 "ask with 1 task outstanding at a capacity of 1");
}

TEST(HistoryReader, DeeplyNestedJsonIsRefusedWithItsLine) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  expect_refused(header_line() + capacity_1 + "\n" +
                     R"({"e":"ask","step":0,"id":0,"entropy":1,"x":)" + deep + R"(,"t":0})" + "\n",
                 3, "nested deeper than");
  std::string header = header_line({{"k", 0}});
  header.replace(header.find("0}"), 1, std::string(200, '[') + std::string(200, ']'));
  expect_refused(header, 1, "nested deeper than");
  // Nor is such a header ever written.
  taskmaster::RunSettings deep_meta;
  deep_meta.metadata = nlohmann::json::parse(std::string(200, '[') + std::string(200, ']'));
  EXPECT_THROW((void)taskmaster::format_header(deep_meta), std::invalid_argument);
}

TEST(Replay, ARecordWithoutCapacityDivergesInsteadOfWaiting) {
  taskmaster::History<double, double> history;
  taskmaster::HistoryEvent<double, double> ask;
  ask.kind = EventKind::ask;
  ask.x = 1.0;
  history.events.push_back(ask);
  taskmaster::SequenceLearner<double, double> learner({1.0});
  ::alarm(30);  // a replay that waits for workers would otherwise hang the test
  EXPECT_THROW((void)taskmaster::replay(history, learner), taskmaster::ReplayDivergence);

  // A capacity that drops to 0 and a run that ends without stopping: no
  // loop records that (it would wait for capacity), and no replay waits.
  taskmaster::History<double, double> dropped;
  const auto event = [&](EventKind kind, auto&& fill) {
    taskmaster::HistoryEvent<double, double> e;
    e.kind = kind;
    fill(e);
    dropped.events.push_back(e);
  };
  event(EventKind::capacity, [](auto& e) { e.capacity = 1; });
  event(EventKind::ask, [](auto& e) { e.x = 1.0; });
  event(EventKind::capacity, [](auto& e) { e.capacity = 0; });
  event(EventKind::tell, [](auto& e) {
    e.x = 1.0;
    e.y = 2.0;
  });
  event(EventKind::end, [](auto& e) { e.text = "done"; });
  taskmaster::SequenceLearner<double, double> longer({1.0, 2.0});
  EXPECT_THROW((void)taskmaster::replay(dropped, longer), taskmaster::ReplayDivergence);
  ::alarm(0);
}

}  // namespace
