#pragma once
// `--master local`: programs on this machine, one process per point (a
// command after `--`) or long-running workers speaking the JSON Lines
// protocol (`--worker`).

#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

#include "../config.hpp"
#include "../master_descriptor.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"

namespace taskmaster::cli {

/// What `f` returns for a master of inputs `X` (the same for every master).
template <class X, class F>
using MasterResult = std::invoke_result_t<F&, CommandMaster<X, nlohmann::json>&>;

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
  StdioMaster<X, nlohmann::json> master(
      c.worker, WorkerOptions{.workers = workers, .timeout = c.timeout, .prefetch = c.prefetch});
  return f(master);
}

/// The programs on this machine.
struct LocalPrograms {
  static constexpr MasterDescriptor descriptor{
      .name = "local", .help = "this machine", .workers_change_during_run = true};

  template <class X, class F>
  static decltype(auto) open(const RunConfig& c, bool /*resuming*/, F&& f) {
    return with_local_programs<X>(c, c.workers, std::forward<F>(f));
  }
};

}  // namespace taskmaster::cli
