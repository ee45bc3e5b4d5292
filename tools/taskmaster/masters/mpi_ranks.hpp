#pragma once
// `--master mpi`: the programs run on the worker ranks of the mpirun that
// started the tool, one point at a time each; rank 0 leads the run.

#include <nlohmann/json.hpp>

#include "../config.hpp"
#include "../master_descriptor.hpp"
#include "local_programs.hpp"
#if TASKMASTER_WITH_MPI
#include "taskmaster/masters/mpi_master.hpp"
#endif

namespace taskmaster::cli {

/// Whether this tool was built with MPI (`--master mpi`).
inline constexpr bool built_with_mpi = TASKMASTER_WITH_MPI != 0;

/// The worker ranks of an MPI launch; this is rank 0's side (the others
/// run `serve_mpi_rank`).
struct MpiRanks {
  static constexpr MasterDescriptor descriptor{
      .name = "mpi",
      .help = "the worker ranks of the mpirun that started the tool",
      .on_every_rank = true};

  template <class X, class F>
  static MasterResult<X, F> open(const RunConfig& /*c*/, bool /*resuming*/,
                                 [[maybe_unused]] F&& f) {
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
};

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
