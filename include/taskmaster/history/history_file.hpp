#pragma once
// History files: JSON Lines, one event per line, written as the run goes.
// The format is described in docs/history-format.md.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/history.hpp"

namespace taskmaster {

/// A history file could not be read or written. `what()` names the file and,
/// where there is one, the line ("run.jsonl:17: ...").
class HistoryError : public std::runtime_error {
 public:
  HistoryError(const std::string& source, std::size_t line, const std::string& message);
  [[nodiscard]] std::size_t line() const noexcept { return line_; }

 private:
  std::size_t line_;
};

/// An event as read from a file, with its values still in JSON form.
struct RawEvent {
  EventKind kind = EventKind::ask;
  std::size_t line = 0;
  TaskId id = 0;
  std::uint64_t step = 0;
  Entropy entropy = 0;
  nlohmann::json x;
  nlohmann::json y;
  std::string text;
  bool retry = false;
  int worker = -1;
  double duration = 0.0;
  double time = 0.0;
  std::size_t capacity = 0;
};

struct RawHistory {
  std::vector<RunSettings> segments;
  std::vector<RawEvent> events;
  /// The file ended in a line without its newline, which was left out. Only
  /// possible with `ReadOptions::allow_truncated_tail`.
  bool truncated_tail = false;
  /// Bytes of the file up to the end of the last complete line.
  std::uint64_t complete_bytes = 0;
};

struct ReadOptions {
  /// Accept (and leave out) a last line without its newline, as a run killed
  /// while writing leaves it. Resuming uses this; plain reading does not.
  bool allow_truncated_tail = false;
};

/// Reads and checks a history: the header, every event's fields, step order,
/// and that every result or failure belongs to an outstanding task.
RawHistory read_raw_history(const std::filesystem::path& path, ReadOptions options = {});
RawHistory parse_raw_history(std::istream& in, const std::string& source, ReadOptions options = {});

/// Reads a history and converts its values to X and Y.
template <class X, class Y>
History<X, Y> read_history(const std::filesystem::path& path, ReadOptions options = {});
template <class X, class Y>
History<X, Y> to_history(const RawHistory& raw, const std::string& source);

/// The header line (without newline) for a run with these settings.
std::string format_header(const RunSettings& settings);

/// Appends one event as a JSON line (with newline) to `out`.
template <class X, class Y>
void format_event(std::string& out, const HistoryEvent<X, Y>& event,
                  const RunSettings* resume_settings = nullptr);

/// An open history file. Every `write` reaches the operating system before it
/// returns (one write(2) per line), so a process killed with SIGKILL loses
/// nothing it already wrote; `sync()` also forces it to disk.
///
/// One writer at a time: the sink holds an exclusive lock (flock) on its file
/// for as long as it lives, and a sink for a file another process (or sink)
/// is writing is refused with HistoryBusy. The kernel drops the lock when its
/// holder dies, even by SIGKILL, so a killed run never blocks its resumption.
///
/// `Mode::create` writes a new file that takes the name (replacing a file
/// there that nobody is writing) only once its first `write` (the header) is
/// complete and on disk: a run killed, or a disk that fills, before that
/// leaves no file, or the old one, never an empty or headless one.
/// `Mode::append` appends to an existing file.
///
/// @code
/// taskmaster::HistorySink sink("run.jsonl", taskmaster::HistorySink::Mode::create);
/// sink.write(taskmaster::format_header(settings) + "\n");  // "run.jsonl" appears here
/// @endcode
class HistorySink {
 public:
  enum class Mode { create, append };
  HistorySink(const std::filesystem::path& path, Mode mode);
  HistorySink(const HistorySink&) = delete;
  HistorySink& operator=(const HistorySink&) = delete;
  ~HistorySink();

  void write(std::string_view text);
  void sync();
  /// Cuts the file to `bytes` (used to drop a torn last line before appending).
  void truncate(std::uint64_t bytes);
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void publish();

  std::filesystem::path path_;
  int fd_ = -1;
  int replaced_fd_ = -1;        ///< create: the file to replace, locked until it is replaced
  std::string temporary_path_;  ///< create: the new file's own name, where it has one
  bool published_ = true;       ///< create: the new file has taken its name
};

/// A second writer for a history file: another process (or sink) is writing
/// it now. `what()` names the file.
class HistoryBusy : public HistoryError {
 public:
  explicit HistoryBusy(const std::string& source);
};

// ---------------------------------------------------------------------------

namespace detail {
void append_time(std::string& out, double seconds);
void append_json_string(std::string& out, std::string_view text);
void append_settings_fields(std::string& out, const RunSettings& settings);
}  // namespace detail

template <class X, class Y>
void format_event(std::string& out, const HistoryEvent<X, Y>& e,
                  const RunSettings* resume_settings) {
  auto field_u = [&out](const char* name, std::uint64_t v) {
    fmt::format_to(std::back_inserter(out), ",\"{}\":{}", name, v);
  };
  out += "{\"e\":\"";
  out += to_string(e.kind);
  out += '"';
  switch (e.kind) {
    case EventKind::ask:
      field_u("step", e.step);
      field_u("id", e.id);
      field_u("entropy", e.entropy);
      out += ",\"x\":";
      encode(out, *e.x);
      break;
    case EventKind::tell:
      field_u("id", e.id);
      out += ",\"y\":";
      encode(out, *e.y);
      fmt::format_to(std::back_inserter(out), ",\"worker\":{}", e.worker);
      out += ",\"dt\":";
      detail::append_time(out, e.duration);
      break;
    case EventKind::fail:
      field_u("id", e.id);
      out += ",\"error\":";
      detail::append_json_string(out, e.text);
      out += e.retry ? ",\"retry\":true" : ",\"retry\":false";
      fmt::format_to(std::back_inserter(out), ",\"worker\":{}", e.worker);
      out += ",\"dt\":";
      detail::append_time(out, e.duration);
      break;
    case EventKind::capacity: field_u("n", e.capacity); break;
    case EventKind::cancel: field_u("id", e.id); break;
    case EventKind::stop:
    case EventKind::end:
      out += ",\"reason\":";
      detail::append_json_string(out, e.text);
      break;
    case EventKind::resume:
      field_u("segment", e.step);
      if (resume_settings != nullptr) detail::append_settings_fields(out, *resume_settings);
      break;
  }
  out += ",\"t\":";
  detail::append_time(out, e.time);
  out += "}\n";
}

template <class X, class Y>
History<X, Y> to_history(const RawHistory& raw, const std::string& source) {
  History<X, Y> history;
  history.segments = raw.segments;
  history.events.reserve(raw.events.size());
  std::unordered_map<TaskId, std::size_t> ask_of;  // id -> index of its ask event
  for (const RawEvent& r : raw.events) {
    HistoryEvent<X, Y> e;
    e.kind = r.kind;
    e.id = r.id;
    e.step = r.step;
    e.entropy = r.entropy;
    e.text = r.text;
    e.retry = r.retry;
    e.worker = r.worker;
    e.duration = r.duration;
    e.time = r.time;
    e.capacity = r.capacity;
    e.line = r.line;
    try {
      if (r.kind == EventKind::ask) {
        e.x = decode<X>(r.x);
        ask_of[r.id] = history.events.size();
      } else if (r.kind == EventKind::tell || r.kind == EventKind::fail ||
                 r.kind == EventKind::cancel) {
        e.x = history.events[ask_of.at(r.id)].x;
        if (r.kind == EventKind::tell) e.y = decode<Y>(r.y);
      }
    } catch (const CodecError& error) {
      throw HistoryError(source, r.line,
                         fmt::format("{} of the {} event: {}", r.kind == EventKind::ask ? "x" : "y",
                                     to_string(r.kind), error.what()));
    }
    history.events.push_back(std::move(e));
  }
  return history;
}

template <class X, class Y>
History<X, Y> read_history(const std::filesystem::path& path, ReadOptions options) {
  return to_history<X, Y>(read_raw_history(path, options), path.string());
}

}  // namespace taskmaster
