#pragma once
// Where the loop sends each event of a run as it happens.

#include "taskmaster/core/run_record.hpp"

namespace taskmaster {

/// Receives every event of a run as the loop produces it: a result before
/// the learner is told it, so a learner that throws cannot lose it. This is
/// how a record outside the process plugs into the loop; the history file
/// (taskmaster::HistoryWriter in history/history_writer.hpp) is one.
///
/// `begin` comes once, before the first event of a new run (not of a
/// resumed one), with the settings the run was started with.
///
/// @code
/// struct Counting : taskmaster::EventSink<double, double> {
///   int events = 0;
///   void begin(const taskmaster::RunSettings&) override {}
///   void write(const taskmaster::HistoryEvent<double, double>&) override { ++events; }
/// };
/// Counting sink;
/// taskmaster::evaluate(master, learner, taskmaster::stop::points(10), {}, sink);
/// @endcode
template <class X, class Y>
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void begin(const RunSettings& settings) = 0;
  virtual void write(const HistoryEvent<X, Y>& event) = 0;
};

}  // namespace taskmaster
