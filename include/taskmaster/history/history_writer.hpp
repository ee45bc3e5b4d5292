#pragma once
// The history file as the loop's event sink.

#include <filesystem>
#include <memory>
#include <string>

#include "taskmaster/core/event_sink.hpp"
#include "taskmaster/history/history_file.hpp"

namespace taskmaster {

/// Writes a run's events to a history file (JSON Lines, one line per event,
/// each reaching the operating system before the loop goes on): the sink
/// behind `RunOptions::history_file`. `begin` writes the header line.
///
/// @code
/// taskmaster::HistoryWriter<double, double> writer("run.jsonl");
/// taskmaster::evaluate(master, learner, taskmaster::stop::points(100), {}, writer);
/// @endcode
template <class X, class Y>
class HistoryWriter final : public EventSink<X, Y> {
 public:
  /// A new file, which takes the name once its header is written (see
  /// HistorySink::Mode::create). Throws HistoryBusy if another writer has it.
  explicit HistoryWriter(const std::filesystem::path& file)
      : owned_(std::make_unique<HistorySink>(file, HistorySink::Mode::create)), sink_(*owned_) {}
  /// Events appended to an open file (a resumed run).
  explicit HistoryWriter(HistorySink& sink) : sink_(sink) {}

  void begin(const RunSettings& settings) override { sink_.write(format_header(settings) + "\n"); }
  void write(const HistoryEvent<X, Y>& event) override {
    line_.clear();
    format_event(line_, event);
    sink_.write(line_);
  }

 private:
  std::unique_ptr<HistorySink> owned_;
  HistorySink& sink_;
  std::string line_;  ///< reused: no allocation per event once it is long enough
};

}  // namespace taskmaster
