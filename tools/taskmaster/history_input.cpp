#include "history_input.hpp"

#include <fmt/format.h>

namespace taskmaster::cli {

HistoryInput HistoryInput::read(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw UsageError(fmt::format("HISTORY: no such file: {}", path.string()));
  }
  HistoryInput input;
  input.path = path;
  try {
    input.raw = read_raw_history(path, {.allow_truncated_tail = true});
  } catch (const HistoryError& e) {
    throw UsageError(fmt::format("HISTORY: {}", e.what()));  // the file named is not usable
  }
  input.config = RunConfig::from_json(input.raw.segments.front().metadata, path.string());
  input.latest_config = input.config;
  const auto& last = input.raw.segments.back().metadata;
  if (last.is_object() && last.contains("tool")) {
    input.latest_config = RunConfig::from_json(last, path.string());
  }
  return input;
}

std::size_t HistoryInput::components() const {
  for (const auto& e : raw.events) {
    if (e.kind == EventKind::tell) return e.y.is_array() ? e.y.size() : 1;
  }
  return 0;
}

}  // namespace taskmaster::cli
