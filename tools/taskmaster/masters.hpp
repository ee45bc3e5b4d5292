#pragma once
// The masters the tool offers: one process per point (a command after
// `--`) or long-running workers speaking the JSON Lines protocol (--worker).

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/stdio_master.hpp"

namespace taskmaster::cli {

/// Builds the master `c` asks for, with JSON outputs, and calls `f(master)`.
///
/// @code
/// taskmaster::cli::with_master<double>(config, [&](auto& master) { /* evaluate */ });
/// @endcode
template <class X, class F>
decltype(auto) with_master(const RunConfig& c, F&& f) {
  if (!c.command.empty()) {
    CommandMaster<X, nlohmann::json> master(
        c.command, CommandOptions{.workers = c.workers, .timeout = c.timeout});
    return f(master);
  }
  StdioMaster<X, nlohmann::json> master(c.worker,
                                        WorkerOptions{.workers = c.workers, .timeout = c.timeout});
  return f(master);
}

}  // namespace taskmaster::cli
