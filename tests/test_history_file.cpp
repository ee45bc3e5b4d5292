// History files: what evaluate() writes reads back unchanged, and every kind
// of damage is reported with the file name and the line.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/temp_files.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using taskmaster::test_support::read_file;
using taskmaster::test_support::TempDir;
using taskmaster::test_support::write_file;

namespace fs = std::filesystem;
using taskmaster::EventKind;
using taskmaster::HistoryError;

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_v = std::numeric_limits<double>::infinity();

std::size_t count_lines(const std::string& text) {
  std::size_t n = 0;
  for (char c : text) n += c == '\n' ? 1 : 0;
  return n;
}

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

/// Bit for bit, except that any NaN matches any NaN: the format writes every
/// NaN as "nan" (so a NaN's sign and payload are not kept, by design).
bool same_double(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || bits(a) == bits(b);
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_double(a[i], b[i])) return false;
  }
  return true;
}

template <class T>
bool same_value(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, double>) {
    return same_double(a, b);
  } else {
    return same_bits(a, b);
  }
}

/// Every field of every event that the file carries must read back exactly
/// as the loop recorded it in memory.
template <class X, class Y>
void expect_same_events(const taskmaster::History<X, Y>& written,
                        const taskmaster::History<X, Y>& read) {
  ASSERT_EQ(written.events.size(), read.events.size());
  for (std::size_t i = 0; i < written.events.size(); ++i) {
    SCOPED_TRACE(fmt::format("event {}", i));
    const auto& w = written.events[i];
    const auto& r = read.events[i];
    EXPECT_EQ(w.kind, r.kind);
    EXPECT_EQ(r.line, i + 2) << "the header is line 1, event i is line i + 2";
    EXPECT_EQ(w.time, r.time);
    switch (w.kind) {
      case EventKind::ask:
        EXPECT_EQ(w.id, r.id);
        EXPECT_EQ(w.step, r.step);
        EXPECT_EQ(w.entropy, r.entropy);
        ASSERT_TRUE(r.x.has_value());
        EXPECT_TRUE(same_value(*w.x, *r.x));
        break;
      case EventKind::tell:
        EXPECT_EQ(w.id, r.id);
        ASSERT_TRUE(r.x.has_value());
        ASSERT_TRUE(r.y.has_value());
        EXPECT_TRUE(same_value(*w.x, *r.x));
        EXPECT_TRUE(same_value(*w.y, *r.y));
        EXPECT_EQ(w.worker, r.worker);
        EXPECT_EQ(w.duration, r.duration);
        break;
      case EventKind::fail:
        EXPECT_EQ(w.id, r.id);
        ASSERT_TRUE(r.x.has_value());
        EXPECT_TRUE(same_value(*w.x, *r.x));
        EXPECT_EQ(w.text, r.text);
        EXPECT_EQ(w.retry, r.retry);
        EXPECT_EQ(w.worker, r.worker);
        EXPECT_EQ(w.duration, r.duration);
        break;
      case EventKind::capacity: EXPECT_EQ(w.capacity, r.capacity); break;
      case EventKind::cancel: EXPECT_EQ(w.id, r.id); break;
      case EventKind::stop:
      case EventKind::end: EXPECT_EQ(w.text, r.text); break;
      case EventKind::resume: EXPECT_EQ(w.step, r.step); break;
    }
  }
}

// ---------------------------------------------------------------------------
// Round trips

TEST(HistoryFileRoundTrip, ScalarRunWithNonFiniteOutputsFailuresAndSettings) {
  TempDir dir;
  const fs::path file = dir.file("run.jsonl");
  const double third = 1.0 / 3.0;
  const double tiny = 5e-324;  // smallest denormal
  const double huge = std::numeric_limits<double>::max();
  const std::vector<double> points{0.1, third, tiny, -1e-310, huge, -2.5, 1e16, 42.0, 7.0, 8.0};
  std::atomic<int> attempts_at_8{0};
  auto f = [&](const double& x) -> double {
    if (x == 0.1) return nan_v;
    if (x == third) return inf_v;
    if (x == tiny) return -inf_v;
    if (x == 7.0) throw std::runtime_error("seven fails: \"quoted\"\n\tand λ");
    if (x == 8.0 && attempts_at_8.fetch_add(1) == 0) throw std::runtime_error("eight, once");
    return x * 0.5;
  };
  taskmaster::ThreadMaster<double, double> master(f, 3);
  taskmaster::SequenceLearner<double, double> learner(points);
  const nlohmann::json metadata = {
      {"experiment", "round trip"}, {"tags", {"a", "b"}}, {"n", 3}, {"unicode", "λ"}};
  const auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(),
                                            {.seed = 12345,
                                             .retry = {.retries = 2},
                                             .ask_batch = 3,
                                             .history_file = file,
                                             .metadata = metadata});
  ASSERT_EQ(summary.progress.told, points.size() - 1);
  ASSERT_EQ(summary.progress.failed, 1U);

  const auto read = taskmaster::read_history<double, double>(file);

  // Header settings.
  ASSERT_EQ(read.segments.size(), 1U);
  const auto& s = read.settings();
  EXPECT_EQ(s.seed, 12345U);
  EXPECT_EQ(s.retry.retries, 2U);
  EXPECT_EQ(s.retry.on_failure, taskmaster::OnFailure::record_and_continue);
  EXPECT_EQ(s.ask_batch, 3U);
  EXPECT_EQ(s.metadata, metadata);
  EXPECT_FALSE(s.started.empty());
  EXPECT_EQ(s.started, summary.history.settings().started);

  // Events, field by field and bit for bit.
  EXPECT_EQ(count_lines(read_file(file)), summary.history.events.size() + 1);
  expect_same_events(summary.history, read);

  // The values that JSON cannot express directly came back as themselves.
  std::size_t nans = 0;
  std::size_t infs = 0;
  std::size_t minus_infs = 0;
  for (const auto& [x, y] : read.results()) {
    if (std::isnan(y)) {
      ++nans;
      EXPECT_EQ(bits(y), bits(nan_v));
      EXPECT_EQ(bits(x), bits(0.1));
    } else if (y == inf_v) {
      ++infs;
      EXPECT_EQ(bits(x), bits(third));
    } else if (y == -inf_v) {
      ++minus_infs;
      EXPECT_EQ(bits(x), bits(tiny));
    } else {
      EXPECT_EQ(bits(y), bits(x * 0.5));
    }
  }
  EXPECT_EQ(nans, 1U);
  EXPECT_EQ(infs, 1U);
  EXPECT_EQ(minus_infs, 1U);

  // Every point was asked and the asks read back in order.
  const auto asked = read.asked();
  ASSERT_EQ(asked.size(), points.size());
  for (std::size_t i = 0; i < points.size(); ++i) EXPECT_EQ(bits(asked[i]), bits(points[i]));

  // The failures: 7.0 three times (two retries, then for good), 8.0 once.
  std::size_t sevens = 0;
  std::size_t eights = 0;
  for (const auto& e : read.events) {
    if (e.kind != EventKind::fail) continue;
    if (*e.x == 7.0) {
      ++sevens;
      EXPECT_EQ(e.text, "seven fails: \"quoted\"\n\tand λ");
      EXPECT_EQ(e.retry, sevens < 3);
    } else {
      ++eights;
      EXPECT_EQ(*e.x, 8.0);
      EXPECT_EQ(e.text, "eight, once");
      EXPECT_TRUE(e.retry);
    }
  }
  EXPECT_EQ(sevens, 3U);
  EXPECT_EQ(eights, 1U);
  EXPECT_EQ(read.count(EventKind::end), 1U);
}

TEST(HistoryFileRoundTrip, VectorOutputsOnSerialMaster) {
  TempDir dir;
  const fs::path file = dir.file("vector.jsonl");
  using Y = std::vector<double>;
  const std::vector<double> points{0.25, 0.5, -1.25, 3.0};
  auto f = [](const double& x) -> Y {
    if (x == 3.0) return {};
    return {x, -x, nan_v, inf_v, -inf_v, 0.1 + x, 1e-320};
  };
  taskmaster::SerialMaster<double, Y> master(f);
  taskmaster::SequenceLearner<double, Y> learner(points);
  const auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(),
                                            {.seed = 7, .history_file = file});
  ASSERT_EQ(summary.progress.told, points.size());

  const auto read = taskmaster::read_history<double, Y>(file);
  EXPECT_EQ(read.settings().seed, 7U);
  EXPECT_EQ(read.settings().retry.retries, 0U);
  EXPECT_EQ(read.settings().ask_batch, 1U);
  EXPECT_TRUE(read.settings().metadata.is_null());
  expect_same_events(summary.history, read);

  const auto results = read.results();
  ASSERT_EQ(results.size(), points.size());
  for (const auto& [x, y] : results) {
    SCOPED_TRACE(fmt::format("x = {}", x));
    EXPECT_TRUE(same_bits(y, f(x)));
  }
  // A vector output type cannot be read as a scalar.
  EXPECT_THROW(((void)taskmaster::read_history<double, double>(file)), HistoryError);
}

TEST(HistoryFileRoundTrip, VectorOutputsOnThreadMaster) {
  TempDir dir;
  const fs::path file = dir.file("vector_threads.jsonl");
  using Y = std::vector<double>;
  std::vector<double> points;
  for (int i = 0; i < 40; ++i) points.push_back(i * 0.37 - 5.0);
  auto f = [](const double& x) -> Y {
    return {std::sin(x), x > 0 ? inf_v : -inf_v, std::sqrt(x)};  // sqrt of x < 0 is NaN
  };
  taskmaster::ThreadMaster<double, Y> master(f, 4);
  taskmaster::SequenceLearner<double, Y> learner(points);
  const auto summary =
      taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(), {.history_file = file});
  const auto read = taskmaster::read_history<double, Y>(file);
  expect_same_events(summary.history, read);
  ASSERT_EQ(read.results().size(), points.size());
  for (const auto& [x, y] : read.results()) EXPECT_TRUE(same_bits(y, f(x)));
}

// -0.0 is a value like any other and must read back with its sign.
TEST(HistoryFileRoundTrip, NegativeZeroKeepsItsSign) {
  TempDir dir;
  const fs::path file = dir.file("zero.jsonl");
  taskmaster::SerialMaster<double, double> master([](const double&) { return -0.0; });
  taskmaster::SequenceLearner<double, double> learner({-0.0});
  (void)taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(),
                             {.history_file = file});
  const auto results = taskmaster::read_history<double, double>(file).results();
  ASSERT_EQ(results.size(), 1U);
  EXPECT_TRUE(std::signbit(results[0].first)) << "x = -0.0 read back as +0.0";
  EXPECT_TRUE(std::signbit(results[0].second)) << "y = -0.0 read back as +0.0";
}

// ---------------------------------------------------------------------------
// Errors

const std::string header_line =
    R"({"taskmaster_history":1,"seed":3,"retries":0,"on_failure":"continue","ask_batch":1,"started":"2024-01-01T00:00:00Z"})";
const std::string capacity_line = R"({"e":"capacity","n":2,"t":0})";
const std::string ask0 = R"({"e":"ask","step":0,"id":0,"entropy":11,"x":0.5,"t":0.001})";
const std::string tell0 = R"({"e":"tell","id":0,"y":0.25,"worker":0,"dt":0.0005,"t":0.002})";
const std::string ask1 = R"({"e":"ask","step":1,"id":1,"entropy":12,"x":0.75,"t":0.003})";
const std::string tell1 = R"({"e":"tell","id":1,"y":0.5625,"worker":1,"dt":0.0005,"t":0.004})";
const std::string stop_line = R"({"e":"stop","reason":"2 points asked","t":0.005})";
const std::string end_line = R"({"e":"end","reason":"2 points asked","t":0.006})";

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

/// A well-formed history: lines 1 to 8.
std::vector<std::string> valid_lines() {
  return {header_line, capacity_line, ask0, tell0, ask1, tell1, stop_line, end_line};
}

class HistoryFileErrors : public ::testing::Test {
 protected:
  fs::path write(const std::string& content) {
    const fs::path path = dir_.file(fmt::format("case{}.jsonl", ++files_));
    write_file(path, content);
    return path;
  }

  /// Reading `content` (as double -> double) must fail at `line` with a
  /// message that names the file and the line and contains `needle`.
  void expect_error_text(const std::string& content, std::size_t line, const std::string& needle,
                         taskmaster::ReadOptions options = {}) {
    const fs::path path = write(content);
    try {
      (void)taskmaster::read_history<double, double>(path, options);
      ADD_FAILURE() << "no HistoryError for:\n" << content;
    } catch (const HistoryError& e) {
      const std::string what = e.what();
      EXPECT_EQ(e.line(), line) << what;
      const std::string where =
          line == 0 ? path.string() + ": " : fmt::format("{}:{}: ", path.string(), line);
      EXPECT_EQ(what.rfind(where, 0), 0U)
          << "what() should start with \"" << where << "\": " << what;
      EXPECT_NE(what.find(needle), std::string::npos)
          << "what() should mention \"" << needle << "\": " << what;
    }
  }

  void expect_error(const std::vector<std::string>& lines, std::size_t line,
                    const std::string& needle) {
    expect_error_text(join(lines), line, needle);
  }

 private:
  TempDir dir_;
  int files_ = 0;
};

TEST_F(HistoryFileErrors, TheBaseFileIsValid) {
  const fs::path path = write(join(valid_lines()));
  const auto history = taskmaster::read_history<double, double>(path);
  EXPECT_EQ(history.events.size(), 7U);
  EXPECT_EQ(history.settings().seed, 3U);
  ASSERT_EQ(history.results().size(), 2U);
  EXPECT_EQ(history.results()[1], (std::pair<double, double>{0.75, 0.5625}));
  EXPECT_EQ(history.events.back().line, 8U);
}

TEST_F(HistoryFileErrors, MissingFile) {
  const fs::path path = write("").parent_path() / "nope.jsonl";
  try {
    (void)taskmaster::read_history<double, double>(path);
    ADD_FAILURE() << "no error for a missing file";
  } catch (const HistoryError& e) {
    EXPECT_EQ(e.line(), 0U);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST_F(HistoryFileErrors, EmptyFile) { expect_error_text(std::string(), 0, "empty file"); }

TEST_F(HistoryFileErrors, FirstLineIsNotAHeader) {
  expect_error({ask0, tell0}, 1, "not a taskmaster history");
  expect_error_text("hello\n", 1, "not valid JSON");
}

TEST_F(HistoryFileErrors, UnsupportedVersion) {
  std::string v2 = header_line;
  v2.replace(v2.find(":1,"), 3, ":2,");
  expect_error({v2, capacity_line, ask0}, 1, "version 2 is not supported");
}

TEST_F(HistoryFileErrors, HeaderWithABadSetting) {
  std::string header = header_line;
  header.replace(header.find("\"continue\""), 10, "\"explode\"");
  expect_error({header, capacity_line}, 1, "on_failure");
}

TEST_F(HistoryFileErrors, MalformedJson) {
  auto lines = valid_lines();
  lines[3] = R"({"e":"tell","id":0,"y":0.25,)";
  expect_error(lines, 4, "not valid JSON");
}

TEST_F(HistoryFileErrors, EmptyLine) {
  auto lines = valid_lines();
  lines[4] = "";
  expect_error(lines, 5, "empty line");
}

TEST_F(HistoryFileErrors, LineIsNotAnObject) {
  auto lines = valid_lines();
  lines[2] = "[1,2,3]";
  expect_error(lines, 3, "expected a JSON object");
  lines[2] = "\"ask\"";
  expect_error(lines, 3, "expected a JSON object");
}

TEST_F(HistoryFileErrors, UnknownEventKind) {
  auto lines = valid_lines();
  lines[4] = R"({"e":"teleport","id":1,"t":0.003})";
  expect_error(lines, 5, "unknown event kind \"teleport\"");
}

TEST_F(HistoryFileErrors, MissingField) {
  auto lines = valid_lines();
  lines[2] = R"({"e":"ask","step":0,"id":0,"entropy":11,"t":0.001})";
  expect_error(lines, 3, "missing field \"x\"");
  lines = valid_lines();
  lines[5] = R"({"e":"tell","id":1,"y":0.5625,"dt":0.0005,"t":0.004})";
  expect_error(lines, 6, "missing field \"worker\"");
  lines = valid_lines();
  lines[6] = R"({"e":"stop","reason":"2 points asked"})";
  expect_error(lines, 7, "missing field \"t\"");
  lines = valid_lines();
  lines[1] = R"({"t":0})";
  expect_error(lines, 2, "missing field \"e\"");
}

TEST_F(HistoryFileErrors, WrongFieldType) {
  auto lines = valid_lines();
  lines[3] = R"({"e":"tell","id":0,"y":0.25,"worker":"zero","dt":0.0005,"t":0.002})";
  expect_error(lines, 4, "field \"worker\" must be an integer");
  lines = valid_lines();
  lines[4] = R"({"e":"ask","step":1,"id":-1,"entropy":12,"x":0.75,"t":0.003})";
  expect_error(lines, 5, "field \"id\" must be a non-negative integer");
  lines = valid_lines();
  lines[4] = R"({"e":"ask","step":"1","id":1,"entropy":12,"x":0.75,"t":0.003})";
  expect_error(lines, 5, "field \"step\"");
  lines = valid_lines();
  lines[7] = R"({"e":"end","reason":17,"t":0.006})";
  expect_error(lines, 8, "field \"reason\" must be a string");
  lines = valid_lines();
  lines[1] = R"({"e":"capacity","n":2,"t":"soon"})";
  expect_error(lines, 2, "field \"t\" must be a number");
}

TEST_F(HistoryFileErrors, AskStepsOutOfOrder) {
  auto lines = valid_lines();
  lines[4] = R"({"e":"ask","step":2,"id":1,"entropy":12,"x":0.75,"t":0.003})";
  expect_error(lines, 5, "ask step 2 out of order (expected 1)");
}

TEST_F(HistoryFileErrors, TaskAskedTwice) {
  auto lines = valid_lines();
  lines[4] = R"({"e":"ask","step":1,"id":0,"entropy":12,"x":0.75,"t":0.003})";
  expect_error(lines, 5, "task id 0 asked twice");
}

TEST_F(HistoryFileErrors, TellForATaskNeverAsked) {
  auto lines = valid_lines();
  lines[5] = R"({"e":"tell","id":9,"y":0.5625,"worker":1,"dt":0.0005,"t":0.004})";
  expect_error(lines, 6, "task id 9");
  expect_error(lines, 6, "not outstanding");
}

TEST_F(HistoryFileErrors, TellTwiceForTheSameTask) {
  auto lines = valid_lines();
  lines.insert(lines.begin() + 4, tell0);  // line 5 repeats line 4
  expect_error(lines, 5, "tell for task id 0, which is not outstanding");
}

TEST_F(HistoryFileErrors, FailAfterTheTaskWasTold) {
  auto lines = valid_lines();
  lines.insert(lines.begin() + 4,
               R"({"e":"fail","id":0,"error":"late","retry":false,"worker":0,"dt":0,"t":0.0021})");
  expect_error(lines, 5, "fail for task id 0");
}

TEST_F(HistoryFileErrors, EventAfterEndOtherThanResume) {
  auto lines = valid_lines();
  lines.push_back(R"({"e":"ask","step":2,"id":2,"entropy":13,"x":0.9,"t":0.007})");
  expect_error(lines, 9, "after the end of the run");
  lines = valid_lines();
  lines.push_back(capacity_line);
  expect_error(lines, 9, "capacity event after the end");
}

TEST_F(HistoryFileErrors, ResumeAfterEndIsAccepted) {
  auto lines = valid_lines();
  lines.push_back(
      R"({"e":"resume","segment":1,"seed":3,"retries":4,"on_failure":"stop","ask_batch":2,"started":"2024-01-02T00:00:00Z","meta":{"k":"v"},"t":0})");
  lines.push_back(R"({"e":"ask","step":2,"id":2,"entropy":13,"x":0.9,"t":0.001})");
  lines.push_back(R"({"e":"tell","id":2,"y":0.81,"worker":0,"dt":0.0005,"t":0.002})");
  lines.push_back(end_line);
  const fs::path path = write(join(lines));
  const auto history = taskmaster::read_history<double, double>(path);
  ASSERT_EQ(history.segments.size(), 2U);
  EXPECT_EQ(history.segments[1].retry.retries, 4U);
  EXPECT_EQ(history.segments[1].retry.on_failure, taskmaster::OnFailure::stop_run);
  EXPECT_EQ(history.segments[1].ask_batch, 2U);
  EXPECT_EQ(history.segments[1].started, "2024-01-02T00:00:00Z");
  EXPECT_EQ(history.segments[1].metadata, nlohmann::json({{"k", "v"}}));
  EXPECT_EQ(history.count(EventKind::resume), 1U);
  EXPECT_EQ(history.results().size(), 3U);

  // A resume that skips a segment number is an error.
  lines[8].replace(lines[8].find("\"segment\":1"), 11, "\"segment\":2");
  expect_error(lines, 9, "resume opens segment 2 (expected 1)");
}

TEST_F(HistoryFileErrors, TruncatedLastLine) {
  const std::string complete = join(valid_lines());
  const std::string torn = R"({"e":"ask","step":2,"id":2,"entr)";  // line 9, no newline
  expect_error_text(complete + torn, 9, "incomplete");

  const fs::path path = write(complete + torn);
  const auto raw = taskmaster::read_raw_history(path, {.allow_truncated_tail = true});
  EXPECT_TRUE(raw.truncated_tail);
  EXPECT_EQ(raw.complete_bytes, complete.size());
  ASSERT_EQ(raw.events.size(), 7U);
  EXPECT_EQ(raw.events.back().kind, EventKind::end);
  EXPECT_EQ(raw.events.back().line, 8U);

  const auto history =
      taskmaster::read_history<double, double>(path, {.allow_truncated_tail = true});
  EXPECT_EQ(history.events.size(), 7U);
  EXPECT_EQ(history.results().size(), 2U);

  // Even a complete JSON object counts as torn without its newline.
  const fs::path whole = write(complete + end_line);
  EXPECT_THROW(((void)taskmaster::read_history<double, double>(whole)), HistoryError);
  const auto dropped = taskmaster::read_raw_history(whole, {.allow_truncated_tail = true});
  EXPECT_TRUE(dropped.truncated_tail);
  EXPECT_EQ(dropped.events.size(), 7U);

  // A file that ends properly is not marked.
  const auto clean = taskmaster::read_raw_history(write(complete), {.allow_truncated_tail = true});
  EXPECT_FALSE(clean.truncated_tail);
  EXPECT_EQ(clean.complete_bytes, complete.size());
}

TEST_F(HistoryFileErrors, TruncatedTailDoesNotExcuseErrorsInCompleteLines) {
  auto lines = valid_lines();
  lines[3] = R"({"e":"tell","id":5,"y":0.25,"worker":0,"dt":0.0005,"t":0.002})";
  expect_error_text(join(lines) + R"({"e":"ask")", 4, "task id 5", {.allow_truncated_tail = true});
}

TEST_F(HistoryFileErrors, OutputThatDoesNotDecode) {
  auto lines = valid_lines();
  lines[5] = R"({"e":"tell","id":1,"y":"hello","worker":1,"dt":0.0005,"t":0.004})";
  const std::string content = join(lines);
  // The shape of the file is fine: only the conversion to Y fails.
  EXPECT_NO_THROW((void)taskmaster::read_raw_history(write(content)));
  expect_error_text(content, 6, "y of the tell event");
  expect_error_text(content, 6, "hello");
}

TEST_F(HistoryFileErrors, InputThatDoesNotDecode) {
  auto lines = valid_lines();
  lines[4] = R"({"e":"ask","step":1,"id":1,"entropy":12,"x":[0.75],"t":0.003})";
  expect_error(lines, 5, "x of the ask event");
}

TEST_F(HistoryFileErrors, OutputOfTheWrongShapeForAVector) {
  const fs::path path = write(join(valid_lines()));
  try {
    (void)taskmaster::read_history<double, std::vector<double>>(path);
    ADD_FAILURE() << "a scalar y read as a vector";
  } catch (const HistoryError& e) {
    EXPECT_EQ(e.line(), 4U) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind(path.string() + ":4: ", 0), 0U) << e.what();
  }
}

}  // namespace
