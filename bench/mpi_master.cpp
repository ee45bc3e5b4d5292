// MPIMaster throughput. Run it under mpirun:
//
//   mpirun -np 3 --oversubscribe bench/mpi_master [--quick] [--json] [--python-worker FILE]
//
// Rank 0 drives an IgnorantLearner; the other ranks evaluate x + 1 with a
// C++ callable. With --python-worker, every worker rank then also runs that
// worker program (examples/workers/python_worker.py) through a StdioMaster
// of its own, and rank 0 first measures the same number of Python workers
// on one machine with a plain StdioMaster: the ratio is what MPI costs.

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <ranges>
#include <string>

#include "report.hpp"
#include "taskmaster/masters/mpi_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

/// Tasks per second of `master` over `tasks` trivial inputs.
template <class M>
double rate_of(M& master, int tasks) {
  using X = typename M::input_type;
  taskmaster::IgnorantLearner<X, typename M::output_type> learner(
      std::views::iota(0, tasks) | std::views::transform([](int i) { return static_cast<X>(i); }));
  const auto start = std::chrono::steady_clock::now();
  auto summary =
      taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(), {.keep_history = false});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (summary.progress.told != static_cast<std::uint64_t>(tasks)) {
    throw std::runtime_error(fmt::format("only {} of {} tasks told", summary.progress.told, tasks));
  }
  return static_cast<double>(summary.progress.told) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  taskmaster::MpiSession mpi(argc, argv);
  bench::Report report(
      argc, argv,
      {.program = "mpi_master",
       .value_options = {{"--python-worker", "FILE",
                          "also measure this worker program (python_worker.py) on every rank"}}});
  const bool quick = report.quick();
  const std::optional<std::string> python_worker = report.value("--python-worker");
  bool root = false;
  std::size_t worker_ranks = 0;
  {
    taskmaster::MPIMaster<int, int> master([](int x) { return x + 1; });
    root = master.is_root();
    worker_ranks = master.capacity();
    if (!root) {
      master.serve();
    } else {
      const int tasks = quick ? 20000 : 300000;
      report.add({.name = "mpi_master_trivial",
                  .value = rate_of(master, tasks),
                  .unit = "tasks/s",
                  .parameters = {{"tasks", tasks}, {"worker_ranks", worker_ranks}},
                  .target = 100000,
                  .note = fmt::format("({} tasks, {} worker ranks)", tasks, worker_ranks)});
    }
  }  // rank 0's master tells the workers to stop: they go on to the next part
  if (!python_worker) return 0;

  const std::vector<std::string> worker_command{"/usr/bin/python3", *python_worker};
  const int tasks = quick ? 2000 : 30000;
  double local_rate = 0;
  if (root) {
    // The baseline: as many Python workers on this machine, no MPI between.
    taskmaster::StdioMaster<double, double> local(worker_command, {.workers = worker_ranks});
    local_rate = rate_of(local, tasks);
  }
  taskmaster::MPIMaster<double, double> master;
  if (!root) {
    taskmaster::StdioMaster<double, double> worker(worker_command);
    master.serve(worker);
    return 0;
  }
  const double mpi_rate = rate_of(master, tasks);
  const nlohmann::json parameters{{"tasks", tasks}, {"worker_ranks", worker_ranks}};
  report.add({.name = "stdio_master_python_local",
              .value = local_rate,
              .unit = "tasks/s",
              .parameters = parameters,
              .note = "(baseline: the same Python workers on one machine)"});
  report.add({.name = "mpi_master_python_worker",
              .value = mpi_rate,
              .unit = "tasks/s",
              .parameters = parameters,
              .note = "(each worker rank runs python_worker.py)"});
  report.add({.name = "mpi_master_python_over_local",
              .value = mpi_rate / local_rate,
              .unit = "ratio",
              .parameters = parameters,
              .note = "(what going through MPI ranks costs)"});
  // The target is shown, not enforced: this program always exits 0.
  return 0;
}
