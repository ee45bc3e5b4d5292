#pragma once
// Reading a history written by this tool: its configuration and its records.

#include <filesystem>
#include <string>

#include "config.hpp"
#include "taskmaster/history/history_file.hpp"

namespace taskmaster::cli {

/// A history file with the configuration recorded in its header.
///
/// @code
/// auto input = taskmaster::cli::HistoryInput::read("run.jsonl");
/// fmt::print("{} events of a {} run\n", input.raw.events.size(), input.config.learner);
/// @endcode
struct HistoryInput {
  std::filesystem::path path;
  RawHistory raw;
  RunConfig config;         ///< of the first segment
  RunConfig latest_config;  ///< of the last segment (a resume may change goals)

  /// Reads `path` (a last line torn by a killed run is left out); throws
  /// UsageError if it is missing or was not written by this tool.
  static HistoryInput read(const std::filesystem::path& path);
  /// Components of the outputs recorded (0 if none was told).
  [[nodiscard]] std::size_t components() const;
};

}  // namespace taskmaster::cli
