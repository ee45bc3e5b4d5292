#pragma once
// The masters the tool offers: on this machine, one process per point (a
// command after `--`) or long-running workers speaking the JSON Lines
// protocol (--worker); across an MPI job, the same on every worker rank;
// on a SLURM cluster, one batch job per point.

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "interrupt.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/slurm_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#if TASKMASTER_WITH_MPI
#include "taskmaster/masters/mpi_master.hpp"
#endif

namespace taskmaster::cli {

/// Whether this tool was built with MPI (`--master mpi`).
inline constexpr bool built_with_mpi = TASKMASTER_WITH_MPI != 0;

/// Calls `f(master)` with the program master on this machine that `c`
/// describes (`workers` programs at once), with JSON outputs.
template <class X, class F>
decltype(auto) with_local_programs(const RunConfig& c, std::size_t workers, F&& f) {
  if (!c.command.empty()) {
    // A sequence of one coordinate is sampled as a function of one number.
    CommandMaster<X, nlohmann::json> master(
        c.command,
        CommandOptions{
            .workers = workers, .timeout = c.timeout, .single_component_as_number = true});
    return f(master);
  }
  StdioMaster<X, nlohmann::json> master(c.worker,
                                        WorkerOptions{.workers = workers, .timeout = c.timeout});
  return f(master);
}

/// Builds the master `c` asks for, with JSON outputs, and calls `f(master)`.
/// With `--master mpi` this is rank 0's side; the other ranks run
/// `serve_mpi_rank`. When `resuming`, a SLURM master adopts the jobs the
/// interrupted run left in the queue rather than submitting them again.
///
/// @code
/// taskmaster::cli::with_master<double>(config, [&](auto& master) { /* evaluate */ });
/// @endcode
template <class X, class F>
decltype(auto) with_master(const RunConfig& c, F&& f, bool resuming = false) {
  if (c.master == "slurm") {
    SlurmOptions options{.max_jobs = c.workers,
                         .partition = c.slurm.partition,
                         .time_limit = c.slurm.time_limit,
                         .cpus_per_task = c.slurm.cpus_per_task,
                         .memory = c.slurm.memory,
                         .sbatch_lines = c.slurm.sbatch_lines};
    options.work_directory = c.slurm.work_directory;
    options.give_up = [] { return InterruptGuard::abandoned(); };
    options.adopt_jobs = resuming;
    options.single_component_as_number = true;
    SlurmMaster<X, nlohmann::json> master(c.command, std::move(options));
    return f(master);
  }
  if (c.master == "mpi") {
#if TASKMASTER_WITH_MPI
    MPIMaster<X, nlohmann::json> master;
    if (master.capacity() == 0) {
      throw UsageError(
          "--master mpi: only one MPI rank; start the tool under mpirun with one rank more than "
          "the workers you want, e.g. 'mpirun -n 5 taskmaster run --master mpi ...'");
    }
    return f(master);
#else
    throw UsageError("--master mpi: this taskmaster was built without MPI");
#endif
  }
  return with_local_programs<X>(c, c.workers, std::forward<F>(f));
}

#if TASKMASTER_WITH_MPI
/// On an MPI worker rank: runs the program `c` names for the points rank 0
/// sends (one at a time) until rank 0 ends the run.
template <class X>
void serve_mpi_rank(const RunConfig& c) {
  MPIMaster<X, nlohmann::json> master;
  with_local_programs<X>(c, 1, [&](auto& programs) {
    master.serve(programs);
    return 0;
  });
}
#endif

}  // namespace taskmaster::cli
