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

#include "taskmaster/masters/mpi_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

struct Figure {
  std::string name;
  double value;
  std::string unit;
  nlohmann::json parameters;
  std::string note;
};

void print(const Figure& f, bool json) {
  if (json) {
    nlohmann::json j{{"name", f.name}, {"value", f.value}, {"unit", f.unit}};
    j.update(f.parameters);
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{:<34} {:>12.4g} {:<8} {}\n", f.name, f.value, f.unit, f.note);
  }
}

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
  bool quick = false;
  bool json = false;
  std::optional<std::string> python_worker;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    quick |= arg == "--quick";
    json |= arg == "--json";
    if (arg == "--python-worker" && i + 1 < argc) python_worker = argv[++i];
  }
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
      print({"mpi_master_trivial",
             rate_of(master, tasks),
             "tasks/s",
             {{"tasks", tasks}, {"worker_ranks", worker_ranks}, {"target", 100000}},
             fmt::format("({} tasks, {} worker ranks; target >= 100,000)", tasks, worker_ranks)},
            json);
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
  print({"stdio_master_python_local", local_rate, "tasks/s", parameters,
         "(baseline: the same Python workers on one machine)"},
        json);
  print({"mpi_master_python_worker", mpi_rate, "tasks/s", parameters,
         "(each worker rank runs python_worker.py)"},
        json);
  print({"mpi_master_python_over_local", mpi_rate / local_rate, "ratio", parameters,
         "(what going through MPI ranks costs)"},
        json);
  return 0;
}
