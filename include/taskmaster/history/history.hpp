#pragma once
// The record of a run (core/run_record.hpp) and the version of the file
// format history/ writes it in.

#include "taskmaster/core/run_record.hpp"

namespace taskmaster {

/// The version of the history file format this build writes and reads
/// (see docs/history-format.md).
inline constexpr int history_format_version = 1;

}  // namespace taskmaster
