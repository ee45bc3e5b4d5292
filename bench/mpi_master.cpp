// MPIMaster throughput with a trivial callable. Run it under mpirun:
//
//   mpirun -np 3 --oversubscribe bench/mpi_master [--quick] [--json]
//
// Rank 0 drives an IgnorantLearner; the other ranks evaluate x + 1.

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <ranges>
#include <string>

#include "taskmaster/masters/mpi_master.hpp"
#include "taskmaster/taskmaster.hpp"

int main(int argc, char** argv) {
  taskmaster::MpiSession mpi(argc, argv);
  bool quick = false;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    quick |= arg == "--quick";
    json |= arg == "--json";
  }
  taskmaster::MPIMaster<int, int> master([](int x) { return x + 1; });
  if (!master.is_root()) {
    master.serve();
    return 0;
  }
  const int tasks = quick ? 20000 : 300000;
  taskmaster::IgnorantLearner<int, int> learner(std::views::iota(0, tasks));
  const auto start = std::chrono::steady_clock::now();
  auto summary =
      taskmaster::evaluate(master, learner, taskmaster::stop::exhausted(), {.keep_history = false});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = static_cast<double>(summary.progress.told) / seconds;
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"name", "mpi_master_trivial"},
                                      {"value", rate},
                                      {"unit", "tasks/s"},
                                      {"tasks", tasks},
                                      {"worker_ranks", master.capacity()},
                                      {"target", 100000}}
                           .dump());
  } else {
    fmt::print(
        "mpi_master_trivial  {:>10.0f} tasks/s  ({} tasks, {} worker ranks; target >= 100,000)\n",
        rate, tasks, master.capacity());
  }
  return summary.progress.told == static_cast<std::uint64_t>(tasks) ? 0 : 1;
}
