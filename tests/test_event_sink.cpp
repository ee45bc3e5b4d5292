// The loop's record through its small interface: an EventSink gets the
// run's settings once, then every event as it happens, in the order of the
// run's history; the history file is one such sink.
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

#include "support/temp_files.hpp"
#include "taskmaster/core/evaluate.hpp"
#include "taskmaster/evaluate.hpp"
#include "taskmaster/history/history_file.hpp"
#include "taskmaster/history/history_writer.hpp"
#include "taskmaster/learners/sequence_learner.hpp"
#include "taskmaster/masters/serial_master.hpp"

namespace {

using namespace taskmaster;

struct Recorder final : EventSink<double, double> {
  std::vector<RunSettings> begun;
  std::vector<HistoryEvent<double, double>> events;
  void begin(const RunSettings& settings) override { begun.push_back(settings); }
  void write(const HistoryEvent<double, double>& event) override { events.push_back(event); }
};

double fails_below_zero(double x) {
  if (x < 0) throw std::runtime_error("negative");
  return x * x;
}

TEST(EventSink, GetsTheSettingsOnceThenEveryEventInOrder) {
  SequenceLearner<double, double> learner({-1.0, 0.0, 1.0, 2.0});
  Recorder recorder;
  const auto summary = evaluate(SerialMaster<double, double>(fails_below_zero), learner,
                                stop::exhausted(), {.seed = 3, .ask_batch = 2}, recorder);
  ASSERT_EQ(recorder.begun.size(), 1U);
  EXPECT_EQ(recorder.begun.front().seed, 3U);
  EXPECT_EQ(recorder.begun.front().ask_batch, 2U);
  ASSERT_EQ(recorder.events.size(), summary.history.events.size());
  for (std::size_t i = 0; i < recorder.events.size(); ++i) {
    EXPECT_EQ(recorder.events[i].kind, summary.history.events[i].kind) << "event " << i;
    EXPECT_EQ(recorder.events[i].id, summary.history.events[i].id) << "event " << i;
    EXPECT_EQ(recorder.events[i].x, summary.history.events[i].x) << "event " << i;
  }
  EXPECT_EQ(summary.history.count(EventKind::fail), 1U);
  EXPECT_EQ(summary.history.count(EventKind::tell), 3U);
}

TEST(EventSink, ASinkAndAHistoryFileTogetherAreRefused) {
  SequenceLearner<double, double> learner({1.0});
  Recorder recorder;
  test_support::TempDir dir;
  EXPECT_THROW(evaluate(SerialMaster<double, double>(fails_below_zero), learner, stop::exhausted(),
                        {.history_file = dir.file("run.jsonl")}, recorder),
               std::invalid_argument);
  EXPECT_TRUE(recorder.begun.empty());
}

TEST(EventSink, TheHistoryWriterWritesWhatHistoryFileWrites) {
  test_support::TempDir dir;
  const auto by_option = dir.file("by_option.jsonl");
  const auto by_writer = dir.file("by_writer.jsonl");
  SequenceLearner<double, double> first({-1.0, 0.5, 3.0});
  const auto a = evaluate(SerialMaster<double, double>(fails_below_zero), first, stop::exhausted(),
                          {.seed = 9, .history_file = by_option});
  SequenceLearner<double, double> second({-1.0, 0.5, 3.0});
  HistoryWriter<double, double> writer(by_writer);
  const auto b = evaluate(SerialMaster<double, double>(fails_below_zero), second, stop::exhausted(),
                          {.seed = 9}, writer);
  const auto read_a = read_history<double, double>(by_option);
  const auto read_b = read_history<double, double>(by_writer);
  EXPECT_EQ(read_a.settings().seed, 9U);
  EXPECT_EQ(read_b.settings().seed, 9U);
  EXPECT_EQ(read_a.results(), read_b.results());
  EXPECT_EQ(read_a.asked(), read_b.asked());
  EXPECT_EQ(read_b.results(), b.history.results());
  EXPECT_EQ(read_a.count(EventKind::fail), 1U);
  EXPECT_EQ(read_b.count(EventKind::fail), 1U);
  EXPECT_EQ(a.progress.told, 2U);
}

}  // namespace
