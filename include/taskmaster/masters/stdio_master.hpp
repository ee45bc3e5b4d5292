#pragma once
// A master whose workers are long-running programs of any language speaking
// the JSON Lines worker protocol (docs/worker-protocol.md).

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"
#include "taskmaster/detail/subprocess.hpp"
#include "taskmaster/masters/json_lines_wire.hpp"
#include "taskmaster/masters/worker_pool.hpp"

namespace taskmaster {

/// Runs `options.workers` copies of a command that speak the JSON Lines
/// worker protocol, each evaluating one task at a time: an instrument
/// driver, a Python model, a long-lived simulation. Capacity is the number
/// of workers, times 1 + `options.prefetch` when tasks are sent ahead.
///
/// A worker that crashes, exits, closes its stdout, breaks the protocol
/// (garbage, a line over `max_message_bytes`, a reply to an id it was not
/// given) or takes longer than `options.timeout` is killed, with its whole
/// process group, and replaced; its task fails with a reason naming the
/// worker, its exit status or signal and the end of its stderr, and the
/// loop's retry policy decides what happens next. A worker's own
/// `{"id":..,"error":".."}` fails the task and keeps the worker.
///
/// All calls except `add_workers`, `release_workers` and `capacity` belong
/// to the loop's thread; the pipes are served from inside `next()`, so no
/// extra thread runs. The destructor closes the workers' stdin, gives them
/// `shutdown_grace` seconds, kills what is left and reaps everything.
///
/// @code
/// taskmaster::StdioMaster<double, double> master(
///     {"/usr/bin/python3", "examples/workers/python_worker.py"}, {.workers = 4, .timeout = 60});
/// auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(100),
///                                     {.retry = {.retries = 1}});
/// @endcode
template <class X, class Y>
class StdioMaster {
 public:
  using input_type = X;
  using output_type = Y;

  StdioMaster(std::vector<std::string> command, WorkerOptions options = {})
      : pool_("StdioMaster", subprocess::SpawnOptions{.argv = std::move(command)},
              std::move(options)) {}

  /// The same, with workers the caller has started already and hands over
  /// (subprocess::Child::adopt): they are used first, and `command` starts
  /// the rest and every replacement. A Python run forks its first workers
  /// from the interpreter that holds the function, which saves each the
  /// start of a new interpreter.
  StdioMaster(std::vector<std::string> command, WorkerOptions options,
              std::vector<subprocess::Child> started)
      : pool_("StdioMaster", subprocess::SpawnOptions{.argv = std::move(command)},
              std::move(options), std::move(started)) {}

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
  detail::WorkerPool<X, Y, detail::JsonLinesWire<X, Y>> pool_;
};

}  // namespace taskmaster
