// Adaptive sampling across the ranks of an MPI job: rank 0 runs the learner,
// every other rank evaluates, either with a C++ function or by running an
// external program. Start it with mpirun (or srun inside an allocation):
//
//   mpirun -n 5 ./mpi_sampling                         # the C++ function below
//   mpirun -n 5 ./mpi_sampling python3 model_worker.py # a worker program per rank
//
// A worker program speaks the JSON Lines protocol (docs/worker-protocol.md),
// e.g. examples/workers/python_worker.py.

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "taskmaster/masters/mpi_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

double peak(double x) { return x + std::exp(-(x - 0.3) * (x - 0.3) / 0.01); }

}  // namespace

int main(int argc, char** argv) {
  taskmaster::MpiSession mpi(argc, argv);
  const std::vector<std::string> worker_program(argv + 1, argv + argc);

  taskmaster::MPIMaster<double, double> master(peak);
  if (!master.is_root()) {
    if (worker_program.empty()) {
      master.serve();  // evaluate peak() here
    } else {
      // One long-running worker program on this rank, fed one point at a time.
      taskmaster::StdioMaster<double, double> program(worker_program);
      master.serve(program);
    }
    return 0;
  }

  taskmaster::Learner1D<double> learner(-1.0, 1.0);
  const auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(500),
                                            {.history_file = "mpi_sampling.jsonl"});
  std::printf("%llu points on %zu worker ranks, loss %.3g; history in mpi_sampling.jsonl\n",
              static_cast<unsigned long long>(summary.progress.told), master.capacity(),
              learner.loss());
  return 0;
}
