#pragma once
// The commands that read a finished (or stopped) run: replay, info, export.

#include <filesystem>
#include <optional>

namespace taskmaster::cli {

/// Replays the history through a fresh learner; prints "identical" and
/// returns 0, or prints the first divergence and returns 1.
///
/// @code
/// int status = taskmaster::cli::replay_command("run.jsonl");
/// @endcode
int replay_command(const std::filesystem::path& history);

/// Prints points, failures with their reasons, loss, duration and worker use.
int info_command(const std::filesystem::path& history);

/// Writes the evaluated points as CSV (to stdout without `out`).
int export_command(const std::filesystem::path& history,
                   const std::optional<std::filesystem::path>& out);

}  // namespace taskmaster::cli
