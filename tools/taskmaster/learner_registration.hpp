#pragma once
// Registers a learner with the tool: its record, and every command built
// for its type. Included only by the files under learners/, one per learner.

#include <fmt/format.h>

#include <memory>
#include <type_traits>
#include <vector>

#include "history_input.hpp"
#include "learner_descriptor.hpp"
#include "learner_operations.hpp"
#include "learner_type.hpp"
#include "masters.hpp"
#include "pictures.hpp"
#include "recorded_learner.hpp"
#include "run_session.hpp"
#include "scalar_output_learner.hpp"
#include "simulation.hpp"
#include "taskmaster/history/replay.hpp"
#include "watch/shadow_of.hpp"

namespace taskmaster::cli {

namespace detail {

inline std::vector<double> as_row(double x) { return {x}; }
inline std::vector<double> as_row(const std::array<double, 2>& x) { return {x[0], x[1]}; }
inline std::vector<double> as_row(const std::vector<double>& x) { return x; }
inline std::vector<double> as_row(std::uint64_t seed) { return {static_cast<double>(seed)}; }
inline std::vector<double> as_row(const std::pair<std::int64_t, double>& x) {
  return {static_cast<double>(x.first), x.second};
}

/// The tool's commands for learners of type `L`, built as `type` says.
template <class L>
class OperationsOf final : public LearnerOperations {
 public:
  using X = input_of<L>;
  using Y = std::vector<double>;

  explicit OperationsOf(LearnerType<L> type) : type_(type) {}

  [[nodiscard]] RunOutcome run(const RunConfig& c, RunSession& session) const override {
    L learner = fresh_learner(type_, c);
    return run_learner(learner, c, session);
  }

  void serve_mpi_rank([[maybe_unused]] const RunConfig& c) const override {
#if TASKMASTER_WITH_MPI
    cli::serve_mpi_rank<X>(c);
#endif
  }

  [[nodiscard]] int replay(const HistoryInput& input) const override {
    L learner = fresh_learner(type_, input.config);
    const History<X, Y> history = to_history<X, Y>(input.raw, input.path.string());
    try {
      const Progress counts = taskmaster::replay(history, learner);
      fmt::print(
          "identical: {} asks, {} results and {} failures replayed through a fresh {} "
          "learner gave exactly the recorded points\n",
          counts.asked, counts.told, counts.failed, input.config.learner);
      return 0;
    } catch (const ReplayDivergence& d) {
      fmt::print("divergent at ask {} ({}:{}): the record has {}, the fresh learner asked {}\n",
                 d.step(), input.path.string(), d.line(), d.recorded(), d.asked());
      return 1;
    }
  }

  [[nodiscard]] std::vector<ResultRow> results(const HistoryInput& input) const override {
    std::vector<ResultRow> rows;
    for (const auto& [x, y] : to_history<X, Y>(input.raw, input.path.string()).results())
      rows.emplace_back(as_row(x), y);
    return rows;
  }

  [[nodiscard]] RecordedSummary summarize(const HistoryInput& input) const override {
    return with_recorded_learner(type_, input, [&](L& learner) {
      RecordedSummary s;
      s.loss = learner.loss();
      if (type_.estimate_line != nullptr) s.estimate = type_.estimate_line(learner);
      return s;
    });
  }

  void draw(const HistoryInput& input, cairo_t* cr, const PlotSize& size,
            const std::string& program) const override {
    with_recorded_learner(type_, input, [&](L& learner) {
      if (learner.size() == 0) {
        throw std::runtime_error(
            fmt::format("{}: no evaluated point to plot", input.path.string()));
      }
      const Picture picture{.size = size,
                            .title = fmt::format("{} ({} points, loss {:.3g})", program,
                                                 learner.size(), learner.loss()),
                            .config = input.config};
      type_.picture(cr, learner, picture);
      return 0;
    });
  }

  [[nodiscard]] Measured simulate(const SimulatedRun& run) const override {
    L learner = fresh_learner(type_, run.simulation.config);
    Measured m = simulate_learner(learner, run);
    if (type_.estimate != nullptr) m.estimate = type_.estimate(learner);
    return m;
  }

  [[nodiscard]] std::unique_ptr<watch::ShadowLearner> shadow(const RunConfig& c) const override {
    return std::make_unique<watch::ShadowOf<L>>(fresh_learner(type_, c), c,
                                                type_.ready_for_results);
  }

 private:
  LearnerType<L> type_;
};

}  // namespace detail

/// Registers the learner `descriptor` describes, of type `L` built as
/// `type` says. Call it once, from the learner's file, at static
/// initialisation:
///
/// @code
/// const auto& registered = taskmaster::cli::register_learner<Learner1>(
///     {.name = "1d", .default_goal = [](const RunConfig&) { return std::string("npoints=100"); }},
///     {.make = ..., .picture = taskmaster::cli::draw_curve});
/// @endcode
template <class L>
const LearnerDescriptor& register_learner(LearnerDescriptor descriptor, LearnerType<L> type) {
  static const detail::OperationsOf<L> operations(type);
  descriptor.operations = &operations;
  descriptor.scalar_output = is_scalar_output<L>;
  return register_learner(std::move(descriptor));
}

/// The default goal of most learners.
inline std::string hundred_points(const RunConfig&) { return "npoints=100"; }
/// The default goal of learners that say when they are done.
inline std::string until_done(const RunConfig&) { return "done"; }

}  // namespace taskmaster::cli
