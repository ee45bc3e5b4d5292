// resume(): a run killed with SIGKILL, stopped cleanly or torn mid-line goes
// on from its history file, and the combined file is one consistent run.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/gap_learner.hpp"
#include "support/temp_files.hpp"
#include "taskmaster/taskmaster.hpp"

#ifndef KILLABLE_RUN_PATH
#error "KILLABLE_RUN_PATH must name the killable_run program"
#endif

extern char** environ;

namespace {

using taskmaster::test_support::read_file;
using taskmaster::test_support::TempDir;
using taskmaster::test_support::write_file;

namespace fs = std::filesystem;
using taskmaster::EventKind;
using taskmaster::test_support::GapLearner;
using Points = std::map<double, std::optional<double>>;

constexpr std::uint64_t total_points = 400;
constexpr std::size_t tells_before_kill = 60;

/// The function killable_run evaluates (without its sleep).
double f(double x) { return std::sin(10.0 * x); }

double slow_f(const double& x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return f(x);
}

double quick_f(const double& x) {
  std::this_thread::sleep_for(std::chrono::microseconds(200));
  return f(x);
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

std::size_t count_occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

/// Starts `args[0]` with `args`, its standard output going to `out`.
pid_t spawn(const std::vector<std::string>& args, const fs::path& out) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(fmt::format("posix_spawn {}: {}", args[0], rc));
  return pid;
}

/// What a run killed with SIGKILL left behind.
struct Killed {
  std::string complete;  ///< the file up to the end of its last complete line
  std::vector<std::pair<double, double>> results;
  std::size_t asks = 0;
};

/// Runs killable_run FILE 400, kills it once the file holds 60 results and
/// checks that what it left is a well-formed, unfinished run.
void run_and_kill(const fs::path& file, const fs::path& out, Killed& killed) {
  const pid_t pid = spawn({KILLABLE_RUN_PATH, file.string(), std::to_string(total_points)}, out);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool ready = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count_occurrences(read_file(file), "\n{\"e\":\"tell\"") >= tells_before_kill) {
      ready = true;
      break;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      FAIL() << "killable_run ended by itself before it was killed (status " << status << ")";
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(ready) << "the history never reached " << tells_before_kill << " results";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "killable_run was not killed by SIGKILL (status " << status << ")";

  // Every complete line is a JSON object; every tell has its fields.
  const std::string text = read_file(file);
  std::size_t begin = 0;
  std::size_t lines = 0;
  for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', begin)) {
    const std::string line = text.substr(begin, nl - begin);
    ++lines;
    const auto object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(object.is_object()) << "line " << lines << ": " << line;
    if (object.value("e", "") == "tell") {
      for (const char* field : {"id", "y", "worker", "dt", "t"}) {
        EXPECT_TRUE(object.contains(field)) << "line " << lines << " lacks " << field;
      }
    }
    begin = nl + 1;
  }

  const auto raw = taskmaster::read_raw_history(file, {.allow_truncated_tail = true});
  EXPECT_EQ(raw.complete_bytes, begin);
  EXPECT_EQ(raw.truncated_tail, begin != text.size());
  const auto history = taskmaster::to_history<double, double>(raw, file.string());
  killed.complete = text.substr(0, begin);
  killed.results = history.results();
  killed.asks = history.count(EventKind::ask);
  EXPECT_GE(killed.results.size(), tells_before_kill);
  EXPECT_LT(killed.asks, total_points) << "the run was not killed in the middle";
  EXPECT_EQ(history.count(EventKind::end), 0U) << "the run was not killed in the middle";
  for (const auto& [x, y] : killed.results) EXPECT_DOUBLE_EQ(y, f(x)) << "x = " << x;
}

/// The points a learner holds after the recorded results, as a fresh
/// GapLearner replaying them must also hold.
Points points_of(const taskmaster::History<double, double>& history) {
  Points points;
  for (const auto& [x, y] : history.results()) points.emplace(x, y);
  return points;
}

/// Checks the history of a run resumed once after a kill: strictly readable,
/// every point asked once and told once, the old results untouched, and a
/// fresh learner replays it. Returns the replayed learner's points.
void check_resumed(const fs::path& file, const Killed& killed, Points& replayed) {
  const std::string text = read_file(file);
  ASSERT_GE(text.size(), killed.complete.size());
  EXPECT_EQ(text.substr(0, killed.complete.size()), killed.complete)
      << "what was recorded before the kill changed";
  EXPECT_EQ(text.compare(killed.complete.size(), 12, "{\"e\":\"resume"), 0)
      << "the resumed segment does not start right after the last complete line";

  const auto history = taskmaster::read_history<double, double>(file);  // strict
  EXPECT_EQ(history.count(EventKind::resume), 1U);
  ASSERT_EQ(history.segments.size(), 2U);
  EXPECT_EQ(history.count(EventKind::ask), total_points);
  EXPECT_EQ(history.events.back().kind, EventKind::end);

  std::map<taskmaster::TaskId, int> asked;
  std::map<taskmaster::TaskId, int> resolved;
  for (const auto& e : history.events) {
    if (e.kind == EventKind::ask) ++asked[e.id];
    if (e.kind == EventKind::tell || (e.kind == EventKind::fail && !e.retry)) ++resolved[e.id];
  }
  EXPECT_EQ(asked.size(), total_points);
  for (const auto& [id, n] : asked) {
    EXPECT_EQ(n, 1) << "task " << id << " asked " << n << " times";
    EXPECT_EQ(resolved[id], 1) << "task " << id << " resolved " << resolved[id] << " times";
  }
  EXPECT_EQ(resolved.size(), asked.size());

  // The results from before the kill are the first ones, unchanged.
  const auto results = history.results();
  ASSERT_GE(results.size(), killed.results.size());
  for (std::size_t i = 0; i < killed.results.size(); ++i) {
    EXPECT_EQ(bits(results[i].first), bits(killed.results[i].first)) << "result " << i;
    EXPECT_EQ(bits(results[i].second), bits(killed.results[i].second)) << "result " << i;
  }
  for (const auto& [x, y] : results) EXPECT_DOUBLE_EQ(y, f(x)) << "x = " << x;

  GapLearner fresh;
  taskmaster::Progress progress;
  ASSERT_NO_THROW(progress = taskmaster::replay(history, fresh));
  EXPECT_EQ(progress.asked, total_points);
  EXPECT_EQ(progress.told, results.size());
  EXPECT_EQ(fresh.points().size(), total_points);
  EXPECT_EQ(fresh.points(), points_of(history));
  replayed = fresh.points();
}

TEST(ResumeAfterKill, InProcess) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  Killed killed;
  ASSERT_NO_FATAL_FAILURE(run_and_kill(file, dir.file("out.txt"), killed));

  taskmaster::ThreadMaster<double, double> master(slow_f, 2);
  GapLearner learner;
  const auto summary =
      taskmaster::resume(file, master, learner, taskmaster::stop::points(total_points));
  EXPECT_EQ(summary.progress.asked, total_points);
  EXPECT_EQ(summary.progress.told, total_points);
  EXPECT_TRUE(summary.unresolved.empty());
  EXPECT_EQ(learner.told(), total_points);
  EXPECT_EQ(learner.points().size(), total_points);
  // The summary's history is the whole run, as the file holds it.
  EXPECT_EQ(summary.history.count(EventKind::ask), total_points);
  EXPECT_EQ(summary.history.results(), (taskmaster::read_history<double, double>(file).results()));

  Points replayed;
  ASSERT_NO_FATAL_FAILURE(check_resumed(file, killed, replayed));
  EXPECT_EQ(replayed, learner.points())
      << "replaying the combined history does not rebuild the resumed learner";
}

TEST(ResumeAfterKill, ByAChildProcess) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  Killed killed;
  ASSERT_NO_FATAL_FAILURE(run_and_kill(file, dir.file("out.txt"), killed));

  const fs::path out = dir.file("resume_out.txt");
  const pid_t pid =
      spawn({KILLABLE_RUN_PATH, file.string(), std::to_string(total_points), "resume"}, out);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "killable_run ... resume failed (status " << status << ")";
  EXPECT_EQ(read_file(out), fmt::format("told {}\n", total_points));

  Points replayed;
  ASSERT_NO_FATAL_FAILURE(check_resumed(file, killed, replayed));
}

TEST(ResumeCleanRun, ContinuesToTheNewTotal) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    taskmaster::ThreadMaster<double, double> master(quick_f, 3);
    GapLearner learner;
    const auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(50),
                                              {.seed = 42, .history_file = file});
    ASSERT_EQ(summary.progress.told, 50U);
  }
  const std::string first = read_file(file);

  taskmaster::ThreadMaster<double, double> master(quick_f, 2);
  GapLearner learner;
  const auto summary = taskmaster::resume(file, master, learner, taskmaster::stop::points(80));
  EXPECT_EQ(summary.progress.asked, 80U);
  EXPECT_EQ(summary.progress.told, 80U);
  EXPECT_EQ(learner.points().size(), 80U);
  EXPECT_EQ(learner.told(), 80U);

  const std::string text = read_file(file);
  EXPECT_EQ(text.substr(0, first.size()), first);
  EXPECT_EQ(text.compare(first.size(), 12, "{\"e\":\"resume"), 0);

  const auto history = taskmaster::read_history<double, double>(file);
  EXPECT_EQ(history.count(EventKind::ask), 80U);
  EXPECT_EQ(history.count(EventKind::tell), 80U);
  EXPECT_EQ(history.count(EventKind::resume), 1U);
  EXPECT_EQ(history.count(EventKind::end), 2U);
  ASSERT_EQ(history.segments.size(), 2U);
  // Asks are numbered on from the first segment, with the first segment's seed.
  std::uint64_t step = 0;
  for (const auto& e : history.events) {
    if (e.kind != EventKind::ask) continue;
    EXPECT_EQ(e.step, step);
    EXPECT_EQ(e.entropy, taskmaster::entropy_for(42, step));
    ++step;
  }

  GapLearner fresh;
  const auto progress = taskmaster::replay(history, fresh);
  EXPECT_EQ(progress.told, 80U);
  EXPECT_EQ(fresh.points(), learner.points());
}

TEST(ResumeCleanRun, RecordsTheNewSegmentsSettingsButKeepsTheSeed) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    taskmaster::SerialMaster<double, double> master(f);
    GapLearner learner;
    (void)taskmaster::evaluate(master, learner, taskmaster::stop::points(10),
                               {.seed = 5, .history_file = file, .metadata = {{"part", 1}}});
  }
  taskmaster::SerialMaster<double, double> master(f);
  GapLearner learner;
  (void)taskmaster::resume(file, master, learner, taskmaster::stop::points(20),
                           {.seed = 999,
                            .retry = {.retries = 3, .on_failure = taskmaster::OnFailure::stop_run},
                            .metadata = {{"part", 2}}});
  const auto history = taskmaster::read_history<double, double>(file);
  ASSERT_EQ(history.segments.size(), 2U);
  EXPECT_EQ(history.segments[0].seed, 5U);
  EXPECT_EQ(history.segments[0].metadata, nlohmann::json({{"part", 1}}));
  EXPECT_EQ(history.segments[1].seed, 5U) << "the seed must come from the file";
  EXPECT_EQ(history.segments[1].retry.retries, 3U);
  EXPECT_EQ(history.segments[1].retry.on_failure, taskmaster::OnFailure::stop_run);
  EXPECT_EQ(history.segments[1].metadata, nlohmann::json({{"part", 2}}));
  EXPECT_EQ(history.count(EventKind::ask), 20U);
  GapLearner fresh;
  (void)taskmaster::replay(history, fresh);
  EXPECT_EQ(fresh.points(), learner.points());
}

TEST(ResumeTornTail, DropsTheTornLine) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    taskmaster::ThreadMaster<double, double> master(quick_f, 2);
    GapLearner learner;
    (void)taskmaster::evaluate(master, learner, taskmaster::stop::points(60),
                               {.history_file = file});
  }
  // Cut the file in the middle of its 20th result, as a kill during that
  // write would have left it.
  const std::string full = read_file(file);
  std::size_t torn_start = 0;
  for (int i = 0; i < 20; ++i) {
    torn_start = full.find("\n{\"e\":\"tell\"", torn_start + 1);
    ASSERT_NE(torn_start, std::string::npos);
  }
  ++torn_start;  // the line itself starts after the newline
  const std::size_t torn_end = full.find('\n', torn_start);
  const std::size_t cut = torn_start + (torn_end - torn_start) / 2;
  fs::resize_file(file, cut);
  const std::string kept = full.substr(0, torn_start);
  const std::string torn = full.substr(torn_start, cut - torn_start);
  ASSERT_EQ(read_file(file), kept + torn);
  EXPECT_THROW((void)taskmaster::read_raw_history(file), taskmaster::HistoryError);
  const auto before =
      taskmaster::read_history<double, double>(file, {.allow_truncated_tail = true});
  EXPECT_EQ(before.results().size(), 19U);

  taskmaster::ThreadMaster<double, double> master(quick_f, 2);
  GapLearner learner;
  const auto summary = taskmaster::resume(file, master, learner, taskmaster::stop::points(60));
  EXPECT_EQ(summary.progress.asked, 60U);
  EXPECT_EQ(summary.progress.told, 60U);

  const std::string text = read_file(file);
  EXPECT_EQ(text.substr(0, kept.size()), kept);
  EXPECT_EQ(text.compare(kept.size(), 12, "{\"e\":\"resume"), 0)
      << "the torn line was not dropped before the resume event";
  const auto raw = taskmaster::read_raw_history(file);  // strict: no torn tail any more
  EXPECT_FALSE(raw.truncated_tail);
  EXPECT_EQ(raw.complete_bytes, text.size());
  const auto history = taskmaster::to_history<double, double>(raw, file.string());
  EXPECT_EQ(history.count(EventKind::ask), 60U);
  EXPECT_EQ(history.count(EventKind::tell), 60U);
  // The results read before the cut are still the first ones.
  const auto results = history.results();
  for (std::size_t i = 0; i < before.results().size(); ++i) {
    EXPECT_EQ(results[i], before.results()[i]);
  }
  GapLearner fresh;
  (void)taskmaster::replay(history, fresh);
  EXPECT_EQ(fresh.points(), learner.points());
}

// A resumed run can itself be killed at any moment, even right after its
// resume line, and resumed again: cut a two-segment history at many places in
// its second segment (at line ends and in the middle of lines) and resume each.
TEST(ResumeTornTail, AResumedRunCutAnywhereResumesAgain) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    taskmaster::ThreadMaster<double, double> master(quick_f, 2);
    GapLearner learner;
    (void)taskmaster::evaluate(master, learner, taskmaster::stop::points(20),
                               {.seed = 9, .history_file = file});
  }
  const std::size_t first_segment = fs::file_size(file);
  {
    taskmaster::ThreadMaster<double, double> master(quick_f, 2);
    GapLearner learner;
    (void)taskmaster::resume(file, master, learner, taskmaster::stop::points(40));
  }
  const std::string full = read_file(file);
  const std::size_t resume_line_end = full.find('\n', first_segment) + 1;
  std::vector<std::size_t> cuts{first_segment + 8};  // inside the resume line itself
  for (std::size_t at = full.find('\n', first_segment); at != std::string::npos;
       at = full.find('\n', at + 1)) {
    cuts.push_back(at + 1);  // right after a line
    cuts.push_back(at + 8);  // inside the next one
  }
  cuts.pop_back();  // beyond the end
  cuts.pop_back();  // the whole file
  ASSERT_GT(cuts.size(), 40U);

  const fs::path copy = dir.file("cut.jsonl");
  for (std::size_t cut : cuts) {
    SCOPED_TRACE(fmt::format("cut at byte {} of {}", cut, full.size()));
    {
      std::ofstream out(copy, std::ios::binary | std::ios::trunc);
      out << full.substr(0, cut);
    }
    taskmaster::ThreadMaster<double, double> master(quick_f, 2);
    GapLearner learner;
    taskmaster::RunSummary<double, double> summary;
    ASSERT_NO_THROW(summary =
                        taskmaster::resume(copy, master, learner, taskmaster::stop::points(40)));
    EXPECT_EQ(summary.progress.asked, 40U);
    EXPECT_EQ(summary.progress.told, 40U);
    taskmaster::History<double, double> history;
    ASSERT_NO_THROW((history = taskmaster::read_history<double, double>(copy)));
    EXPECT_EQ(history.count(EventKind::ask), 40U);
    EXPECT_EQ(history.count(EventKind::tell), 40U);
    EXPECT_EQ(history.segments.size(), cut < resume_line_end ? 2U : 3U);
    GapLearner fresh;
    ASSERT_NO_THROW((void)taskmaster::replay(history, fresh));
    EXPECT_EQ(fresh.points(), learner.points());
    if (::testing::Test::HasFailure()) break;  // one cut's story is enough
  }
}

/// Asks as GapLearner does, except that its `drift_at`-th ask is one ulp off.
class DriftingLearner {
 public:
  using input_type = double;
  using output_type = double;
  explicit DriftingLearner(std::size_t drift_at) : drift_at_(drift_at) {}
  std::optional<double> ask(taskmaster::Entropy entropy) {
    auto x = inner_.ask(entropy);
    if (x && asks_++ == drift_at_) return std::nextafter(*x, 2.0);
    return x;
  }
  void tell(const double& x, const double& y) { inner_.tell(x, y); }
  void fail(const double& x) { inner_.fail(x); }

 private:
  GapLearner inner_;
  std::size_t drift_at_;
  std::size_t asks_ = 0;
};

/// The line of the history file that holds ask number `step`.
std::size_t line_of_ask(const fs::path& file, std::uint64_t step) {
  for (const auto& e :
       taskmaster::read_history<double, double>(file, {.allow_truncated_tail = true}).events) {
    if (e.kind == EventKind::ask && e.step == step) return e.line;
  }
  return 0;
}

TEST(ResumeDivergence, ThrowsAndLeavesTheFileUnchanged) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    taskmaster::ThreadMaster<double, double> master(quick_f, 2);
    GapLearner learner;
    (void)taskmaster::evaluate(master, learner, taskmaster::stop::points(40),
                               {.history_file = file});
  }
  const std::string before = read_file(file);
  const std::size_t expected_line = line_of_ask(file, 10);
  ASSERT_GT(expected_line, 0U);

  taskmaster::ThreadMaster<double, double> master(quick_f, 2);
  DriftingLearner drifting(10);
  try {
    (void)taskmaster::resume(file, master, drifting, taskmaster::stop::points(80));
    ADD_FAILURE() << "resume accepted a learner that asks other points";
  } catch (const taskmaster::ReplayDivergence& e) {
    EXPECT_EQ(e.step(), 10U) << e.what();
    EXPECT_EQ(e.line(), expected_line) << e.what();
  }
  EXPECT_EQ(read_file(file), before) << "a failed resume changed the history file";

  // A learner that asks something else from the start.
  taskmaster::SequenceLearner<double, double> other({0.5, 0.25, 0.75});
  try {
    (void)taskmaster::resume(file, master, other, taskmaster::stop::points(80));
    ADD_FAILURE() << "resume accepted a learner that asks other points";
  } catch (const taskmaster::ReplayDivergence& e) {
    EXPECT_EQ(e.step(), 0U) << e.what();
  }
  EXPECT_EQ(read_file(file), before) << "a failed resume changed the history file";
}

TEST(ResumeDivergence, LeavesATornFileUnchangedToo) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  {
    taskmaster::ThreadMaster<double, double> master(quick_f, 2);
    GapLearner learner;
    (void)taskmaster::evaluate(master, learner, taskmaster::stop::points(40),
                               {.history_file = file});
  }
  fs::resize_file(file, fs::file_size(file) - 7);  // tear the last line
  const std::string before = read_file(file);
  ASSERT_NE(before.back(), '\n');

  taskmaster::ThreadMaster<double, double> master(quick_f, 2);
  DriftingLearner drifting(3);
  EXPECT_THROW((void)taskmaster::resume(file, master, drifting, taskmaster::stop::points(80)),
               taskmaster::ReplayDivergence);
  EXPECT_EQ(read_file(file), before) << "a failed resume cut or changed the history file";
}

}  // namespace
