#pragma once
// `--master slurm`: one batch job per point on a SLURM cluster.

#include <nlohmann/json.hpp>

#include "../config.hpp"
#include "../interrupt.hpp"
#include "../master_descriptor.hpp"
#include "taskmaster/masters/slurm_master.hpp"

namespace taskmaster::cli {

/// SLURM jobs, as `c.slurm` describes them, `c.workers` queued or running
/// at once. When resuming, the master adopts the jobs the interrupted run
/// left in the queue rather than submitting them again.
struct SlurmJobs {
  static constexpr MasterDescriptor descriptor{
      .name = "slurm",
      .help = "one batch job per point",
      .why_program_per_point = "each point is one batch job",
      .takes_slurm_options = true};

  template <class X, class F>
  static decltype(auto) open(const RunConfig& c, bool resuming, F&& f) {
    SlurmOptions options = c.slurm;
    options.max_jobs = c.workers;
    options.give_up = [] { return InterruptGuard::abandoned(); };
    options.adopt_jobs = resuming;
    options.single_component_as_number = true;
    SlurmMaster<X, nlohmann::json> master(c.command, std::move(options));
    return f(master);
  }
};

}  // namespace taskmaster::cli
