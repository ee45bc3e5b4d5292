#pragma once
// The body of `taskmaster run` and `resume` for one learner type: the
// master, the wrappers the tool puts around it, and the loop.

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "abandonable_master.hpp"
#include "interrupt.hpp"
#include "masters.hpp"
#include "progress.hpp"
#include "run.hpp"
#include "scalar_output_learner.hpp"
#include "taskmaster/evaluate.hpp"
#include "taskmaster/history/replay.hpp"
#include "vector_output_master.hpp"
#include "worker_control.hpp"

namespace taskmaster::cli {

/// What a run shares with its learner's part: set up by `execute_run`
/// before the learner's type is known.
///
/// @code
/// taskmaster::cli::RunSession session{request, components, stop, reporter, control};
/// auto outcome = learner_named(config.learner).operations->run(config, session);
/// @endcode
struct RunSession {
  const RunRequest& request;
  std::size_t components;  ///< of the outputs recorded so far (0: none yet)
  const StopCondition& stop;
  ProgressReporter& reporter;
  WorkerControl& worker_control;
};

/// Runs `learner` as `session` says, with the master `c` names.
template <class L>
RunOutcome run_learner(L& learner, const RunConfig& c, RunSession& session) {
  using X = input_of<L>;
  using Y = std::vector<double>;
  const RunRequest& request = session.request;
  return with_master<X>(
      c,
      [&](auto& programs) {
        const WorkerControl::Attachment attached(session.worker_control, programs);
        AbandonableMaster abandonable(programs);
        // Learners of one number take outputs of one component, from the start.
        VectorOutputMaster master(abandonable, is_scalar_output<L> ? 1 : session.components);
        std::string first_failure;
        RunOptions<X, Y> options;
        options.seed = c.seed;
        options.retry = {.retries = c.retries, .on_failure = OnFailure::record_and_continue};
        options.keep_history = false;
        options.metadata = c.to_json();
        options.hook = [&](const HistoryEvent<X, Y>& e, const Progress& p) {
          if (e.kind == EventKind::fail && !e.retry && first_failure.empty())
            first_failure = e.text;
          session.reporter.update(p);
        };
        RunSummary<X, Y> summary;
        if (request.resume) {
          summary = resume(request.history, master, learner, session.stop, options);
        } else {
          options.history_file = request.history;
          summary = evaluate(master, learner, session.stop, options);
        }
        session.reporter.finish(summary.progress);
        RunOutcome o;
        o.told = summary.progress.told;
        o.failed = summary.progress.failed;
        o.loss = learner.loss();
        o.seconds = summary.progress.seconds();
        o.reason = summary.reason;
        if (InterruptGuard::interrupted()) {
          o.status = 128 + InterruptGuard::signal();
        } else if (o.told == 0 && o.failed > 0) {
          o.status = 1;
          o.reason = fmt::format("every point failed; the first: {}", first_failure);
        }
        return o;
      },
      request.resume);
}

}  // namespace taskmaster::cli
