#include "run.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <type_traits>
#include <vector>

#include "history_input.hpp"
#include "interrupt.hpp"
#include "learner_descriptor.hpp"
#include "learner_operations.hpp"
#include "master_descriptor.hpp"
#include "masters.hpp"
#include "plot.hpp"
#include "progress.hpp"
#include "run_session.hpp"
#include "worker_control.hpp"

namespace taskmaster::cli {

std::string shell_quote(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+=./,:@%") == std::string::npos) {
    return text;
  }
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

namespace {

struct Settings {
  std::optional<std::uint64_t> npoints;
  std::optional<double> duration;
};

Settings goal_settings(const RunConfig& c) {
  Settings s;
  for (const auto& g : c.goals) {
    if (g.kind == Goal::Kind::npoints) s.npoints = static_cast<std::uint64_t>(g.value);
    if (g.kind == Goal::Kind::duration) s.duration = g.value;
  }
  return s;
}

}  // namespace

RunOutcome execute_run(const RunRequest& request) {
  RunConfig c = request.config;
#if TASKMASTER_WITH_MPI
  std::optional<MpiSession> mpi;
  if (master_named(c.master).on_every_rank) {
    mpi.emplace();
    int rank = 0;
    int size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    c.workers = static_cast<std::size_t>(std::max(size - 1, 1));  // recorded as the run had it
    if (rank != 0) {
      // A worker rank: no history, no progress, no plot; rank 0 reports.
      learner_named(c.learner).operations->serve_mpi_rank(c);
      RunOutcome served;
      served.worker_rank = true;
      return served;
    }
  }
#endif
  std::size_t components = 0;
  std::uint64_t resolved_before = 0;
  if (request.resume) {
    const HistoryInput input = HistoryInput::read(request.history);
    components = input.components();
    for (const auto& e : input.raw.events) {
      resolved_before += e.kind == EventKind::tell || (e.kind == EventKind::fail && !e.retry);
    }
  }
  const std::string resume_hint = "taskmaster resume " + shell_quote(request.history.string());
  const InterruptGuard guard(resume_hint);
  // The live view follows the history file as `taskmaster watch` does; its
  // stop button (with the token) stops asking, as Ctrl-C does, and its
  // worker buttons reach the master while there is one.
  std::atomic<bool> stopped_from_page{false};
  WorkerControl worker_control;
  std::optional<watch::LiveServer> live;
  if (request.live) {
    watch::LiveControls controls;
    controls.stop = [&] { stopped_from_page = true; };
    // Programs on this machine can be added and released during a run; SLURM
    // jobs and MPI ranks are fixed when the run starts.
    if (master_named(c.master).workers_change_during_run)
      controls.workers = [&](long change) { return worker_control.change(change); };
    live.emplace(request.history, *request.live, std::move(controls));
    live->start();
    fmt::print(stderr, "taskmaster: live view at {}\n", live->url());
  }
  StopCondition stop = c.stop_condition() || stop::when("interrupted", [](const Progress&) {
                         return InterruptGuard::interrupted();
                       });
  if (live) {
    stop = stop || stop::when("stopped from the live view",
                              [&](const Progress&) { return stopped_from_page.load(); });
  }
  const Settings goals = goal_settings(c);
  ProgressReporter reporter({.quiet = request.quiet,
                             .npoints_goal = goals.npoints,
                             .duration_goal = goals.duration,
                             .points_before = resolved_before});

  RunSession session{request, components, stop, reporter, worker_control};
  RunOutcome outcome = learner_named(c.learner).operations->run(c, session);

  if (!request.quiet || outcome.status != 0) {
    fmt::print(stderr, "taskmaster: {}: {} points, {} failed, loss {:.4g}, {}; history in {}\n",
               outcome.status == 1 ? "failed" : "ended", outcome.told, outcome.failed, outcome.loss,
               outcome.reason, request.history.string());
  }
  if (outcome.status > 128) {
    const int signal = outcome.status - 128;
    fmt::print(stderr, "taskmaster: stopped by {}; to carry on: {}\n",
               signal == SIGINT    ? "Ctrl-C"
               : signal == SIGTERM ? "SIGTERM"
                                   : "SIGHUP",
               resume_hint);
  }
  if (request.plot && outcome.told > 0) {
    plot_history(HistoryInput::read(request.history), *request.plot, {});
    if (!request.quiet) fmt::print(stderr, "taskmaster: plot in {}\n", request.plot->string());
  }
  return outcome;
}

int run_command(RunRequest request) {
  if (master_named(request.config.master).takes_slurm_options &&
      request.config.slurm.work_directory.empty()) {
    // Next to the history, so that every run keeps its own job files.
    auto directory = request.history;
    directory.replace_extension();
    request.config.slurm.work_directory =
        std::filesystem::absolute(directory.string() + "-slurm").string();
  }
  return execute_run(request).status;
}

}  // namespace taskmaster::cli
