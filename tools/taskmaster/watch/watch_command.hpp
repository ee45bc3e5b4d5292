#pragma once
// `taskmaster watch HISTORY`: the live view of a run in the browser, for as
// long as the user wants it (Ctrl-C ends it).

#include <filesystem>

#include "live_server.hpp"

namespace taskmaster::cli::watch {

/// Serves the live view of `history`, prints its address and waits for
/// Ctrl-C (or SIGTERM, SIGHUP); returns the exit status.
///
/// @code
/// return taskmaster::cli::watch::watch_command("run.jsonl", {.port = 8000, .port_given = true});
/// @endcode
int watch_command(const std::filesystem::path& history, const LiveOptions& options);

}  // namespace taskmaster::cli::watch
