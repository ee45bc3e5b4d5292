#pragma once
// A master that evaluates a C++ function in worker processes, so that a
// crash in the function cannot take the run down.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"
#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/masters/binary_wire.hpp"
#include "taskmaster/masters/process_worker.hpp"
#include "taskmaster/masters/worker_pool.hpp"

namespace taskmaster {

/// Evaluates a C++ function in `options.workers` worker processes, one task
/// at a time each: a segfault, an abort or an `exit()` in the function
/// fails that task (with the signal or status and the end of stderr), and a
/// fresh worker takes the place of the dead one. Inputs and outputs travel
/// as binary frames (binary_codec.hpp: numbers, arrays, vectors, strings,
/// pairs, tuples, or your own `BinaryCodec<T>`).
///
/// Workers are started cleanly with posix_spawn, never forked from the
/// running (threaded) program: by default the program runs itself again
/// with `--taskmaster-process-worker=<name>`, which `process_worker_entry`
/// at the top of main() recognises; `executable` names a dedicated worker
/// program instead. Everything else (timeouts, replacement, add/release,
/// shutdown) is as in StdioMaster.
///
/// @code
/// double simulate(double x);  // may crash on some inputs
/// int main(int argc, char** argv) {
///   if (auto code = taskmaster::process_worker_entry<double, double>(argc, argv, "simulate",
///                                                                   simulate))
///     return *code;
///   taskmaster::ProcessMaster<double, double> master("simulate", {.workers = 4, .timeout = 10});
///   auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(1000));
/// }
/// @endcode
template <class X, class Y>
class ProcessMaster {
 public:
  using input_type = X;
  using output_type = Y;

  explicit ProcessMaster(const std::string& function_name, WorkerOptions options = {},
                         std::optional<std::filesystem::path> executable = std::nullopt)
      : pool_("ProcessMaster",
              subprocess::SpawnOptions{.argv = {executable
                                                    ? executable->string()
                                                    : subprocess::current_executable().string(),
                                                std::string(process_worker_flag) + function_name}},
              std::move(options)) {}

  [[nodiscard]] std::size_t capacity() const noexcept { return pool_.capacity(); }
  /// Starts `n` more workers (from the loop's next step on). Any thread.
  void add_workers(std::size_t n) { pool_.add_workers(n); }
  /// Capacity drops by `n` at once; idle workers leave at the loop's next
  /// step, busy ones after their task. Any thread.
  void release_workers(std::size_t n) { pool_.release_workers(n); }
  void submit(Task<X> task) { pool_.submit(std::move(task)); }
  std::optional<Result<X, Y>> next() { return pool_.next(); }
  /// Drops queued tasks and results not yet taken; running tasks finish and
  /// their results are discarded.
  void cancel() { pool_.cancel(); }
  /// The pids of the current workers.
  [[nodiscard]] std::vector<pid_t> worker_pids() const { return pool_.worker_pids(); }

 private:
  detail::WorkerPool<X, Y, detail::BinaryWire<X, Y>> pool_;
};

}  // namespace taskmaster
