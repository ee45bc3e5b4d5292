#pragma once
// What the tool does with a learner, behind one interface, so that the
// commands need not know the learner's type: each learner's file builds
// these operations for its type (learner_registration.hpp).

#include <cairo.h>

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace taskmaster::cli {

struct HistoryInput;
struct PlotSize;
struct RunOutcome;
struct RunSession;
struct Measured;
struct SimulatedRun;
namespace watch {
class ShadowLearner;
}

/// An evaluated point as exports write it: the input's and the output's numbers.
using ResultRow = std::pair<std::vector<double>, std::vector<double>>;

/// What a recorded run's learner says about it (`taskmaster info`).
struct RecordedSummary {
  double loss = 0;
  std::string estimate;  ///< a line for the learners that estimate one number, else empty
};

/// The tool's commands, for one learner type (see LearnerDescriptor::operations).
///
/// @code
/// const auto& ops = *taskmaster::cli::learner_named(config.learner).operations;
/// int status = ops.replay(taskmaster::cli::HistoryInput::read("run.jsonl"));
/// @endcode
class LearnerOperations {
 public:
  virtual ~LearnerOperations() = default;
  /// A run (or resume) of a fresh learner with the session's master and goals.
  [[nodiscard]] virtual RunOutcome run(const RunConfig& config, RunSession& session) const = 0;
  /// On an MPI worker rank: serves points until rank 0 ends the run.
  virtual void serve_mpi_rank(const RunConfig& config) const = 0;
  /// Replays the history through a fresh learner: 0 if identical, 1 if not.
  [[nodiscard]] virtual int replay(const HistoryInput& input) const = 0;
  /// The results the history records, in its order.
  [[nodiscard]] virtual std::vector<ResultRow> results(const HistoryInput& input) const = 0;
  [[nodiscard]] virtual RecordedSummary summarize(const HistoryInput& input) const = 0;
  /// Draws the recorded run into `cr`, titled after `program`.
  virtual void draw(const HistoryInput& input, cairo_t* cr, const PlotSize& size,
                    const std::string& program) const = 0;
  /// One run on simulated workers.
  [[nodiscard]] virtual Measured simulate(const SimulatedRun& run) const = 0;
  /// A learner for the live view to tell recorded results.
  [[nodiscard]] virtual std::unique_ptr<watch::ShadowLearner> shadow(
      const RunConfig& config) const = 0;
};

}  // namespace taskmaster::cli
