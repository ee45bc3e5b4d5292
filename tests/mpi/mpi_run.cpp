// Runs under mpirun: rank 0 drives a Learner1D through MPIMaster, the other
// ranks evaluate. Exits 0 when every check holds (on every rank).
//
//   mpi_run learn HISTORY   a run with failures, then an exact replay of HISTORY
//   mpi_run throw           rank 0 throws mid-run: every rank must still end
//   mpi_run programs PEAK_COMMAND PYTHON_WORKER HISTORY
//                           worker ranks run an external program per point,
//                           then a long-running Python worker each

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/mpi_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

double peak_with_faults(double x) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution(0, 2000)(rng)));
  if (x > 0.6 && x < 0.7) throw std::runtime_error("no value between 0.6 and 0.7");
  return x + 1e-4 / (1e-4 + x * x);
}

int check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "mpi_run: check failed: %s\n", what);
  return ok ? 0 : 1;
}

int learn(const std::string& history_file) {
  using namespace taskmaster;
  MPIMaster<double, double> master(peak_with_faults);
  if (!master.is_root()) {
    master.serve();
    return 0;
  }
  Learner1D<double> learner(-1.0, 1.0);
  auto summary = evaluate(master, learner, stop::points(150), {.history_file = history_file});
  int failures = 0;
  failures += check(summary.progress.told + summary.progress.failed == 150, "every point resolved");
  failures += check(summary.progress.failed > 0, "the faulty region produced failures");
  failures += check(summary.history.count(EventKind::capacity) >= 1 &&
                        summary.history.events.front().capacity == master.capacity(),
                    "capacity is the number of worker ranks");
  std::size_t workers_seen = 0;
  std::vector<bool> seen(master.capacity() + 1, false);
  for (const auto& e : summary.history.events) {
    if (e.kind == EventKind::tell && e.worker > 0 && !seen[static_cast<std::size_t>(e.worker)]) {
      seen[static_cast<std::size_t>(e.worker)] = true;
      ++workers_seen;
    }
  }
  failures += check(workers_seen == master.capacity(), "every worker rank evaluated points");
  Learner1D<double> fresh(-1.0, 1.0);
  replay(read_history<double, double>(history_file), fresh);
  failures += check(fresh.data() == learner.data(), "the replay reproduces the run");
  std::printf("mpi_run: %zu workers, %llu told, %llu failed, replay identical: %s\n",
              master.capacity(), static_cast<unsigned long long>(summary.progress.told),
              static_cast<unsigned long long>(summary.progress.failed),
              failures == 0 ? "yes" : "no");
  return failures;
}

int throw_midway() {
  using namespace taskmaster;
  try {
    MPIMaster<double, double> master(peak_with_faults);
    if (!master.is_root()) {
      master.serve();
      return 0;
    }
    Learner1D<double> learner(-1.0, 1.0);
    evaluate(master, learner, stop::points(1000), {.hook = [](const auto&, const Progress& p) {
               if (p.told == 20) throw std::runtime_error("rank 0 gives up");
             }});
  } catch (const std::runtime_error& e) {
    // The master is gone: every worker was told to stop.
    return check(std::string(e.what()) == "rank 0 gives up", "the exception reached main");
  }
  return check(false, "rank 0 should have thrown");
}

// Both test programs compute this peak on a slope.
double program_peak(double x) { return x + std::exp(-(x - 0.3) * (x - 0.3) / 0.01); }

/// Rank 0 learns through `MPIMaster`; every other rank evaluates through the
/// local master `make_local()` builds. Checks values, ranks and replay.
template <class MakeLocal>
int learn_through_programs(const char* what, const std::string& history_file,
                           MakeLocal make_local) {
  using namespace taskmaster;
  MPIMaster<double, double> master;
  if (!master.is_root()) {
    auto local = make_local();
    master.serve(local);
    return 0;
  }
  Learner1D<double> learner(-1.0, 1.0);
  auto summary = evaluate(master, learner, stop::points(40), {.history_file = history_file});
  int failures = 0;
  failures += check(summary.progress.told == 40 && summary.progress.failed == 0,
                    "every point told, none failed");
  bool values_right = true;
  std::vector<bool> seen(master.capacity() + 1, false);
  for (const auto& e : summary.history.events) {
    if (e.kind != EventKind::tell) continue;
    values_right = values_right && std::abs(*e.y - program_peak(*e.x)) < 1e-9;
    if (e.worker >= 1 && static_cast<std::size_t>(e.worker) <= master.capacity())
      seen[static_cast<std::size_t>(e.worker)] = true;
  }
  failures += check(values_right, "the programs' outputs are f(x)");
  failures += check(std::count(seen.begin() + 1, seen.end(), true) ==
                        static_cast<std::ptrdiff_t>(master.capacity()),
                    "every worker rank ran the program");
  Learner1D<double> fresh(-1.0, 1.0);
  replay(read_history<double, double>(history_file), fresh);
  failures += check(fresh.data() == learner.data(), "the replay reproduces the run");
  std::printf("mpi_run: %s on %zu worker ranks: %llu told, replay identical: %s\n", what,
              master.capacity(), static_cast<unsigned long long>(summary.progress.told),
              failures == 0 ? "yes" : "no");
  return failures;
}

int programs(const std::string& peak_command, const std::string& python_worker,
             const std::string& history_file) {
  using namespace taskmaster;
  int failures = learn_through_programs("a program per point", history_file + ".command", [&] {
    return CommandMaster<double, double>({peak_command, "{x}"});
  });
  failures += learn_through_programs("a Python worker", history_file + ".worker", [&] {
    return StdioMaster<double, double>({"/usr/bin/python3", python_worker});
  });
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  taskmaster::MpiSession mpi(argc, argv);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "learn" && argc > 2) return learn(argv[2]);
  if (mode == "throw") return throw_midway();
  if (mode == "programs" && argc > 4) return programs(argv[2], argv[3], argv[4]);
  std::fprintf(stderr,
               "usage: mpi_run learn HISTORY | mpi_run throw | "
               "mpi_run programs PEAK_COMMAND PYTHON_WORKER HISTORY\n");
  return 2;
}
