#include "taskmaster/history/history_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <unordered_set>

namespace taskmaster {

const char* to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::ask: return "ask";
    case EventKind::tell: return "tell";
    case EventKind::fail: return "fail";
    case EventKind::capacity: return "capacity";
    case EventKind::stop: return "stop";
    case EventKind::cancel: return "cancel";
    case EventKind::end: return "end";
    case EventKind::resume: return "resume";
  }
  return "?";
}

const char* to_string(OnFailure on_failure) noexcept {
  return on_failure == OnFailure::stop_run ? "stop" : "continue";
}

HistoryError::HistoryError(const std::string& source, std::size_t line, const std::string& message)
    : std::runtime_error(line == 0 ? fmt::format("{}: {}", source, message)
                                   : fmt::format("{}:{}: {}", source, line, message)),
      line_(line) {}

namespace detail {

void append_time(std::string& out, double seconds) {
  fmt::format_to(std::back_inserter(out), "{}", seconds);
}

void append_json_string(std::string& out, std::string_view text) {
  out += nlohmann::json(std::string(text))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_settings_fields(std::string& out, const RunSettings& s) {
  fmt::format_to(std::back_inserter(out),
                 ",\"seed\":{},\"retries\":{},\"on_failure\":\"{}\",\"ask_batch\":{}", s.seed,
                 s.retry.retries, to_string(s.retry.on_failure), s.ask_batch);
  out += ",\"started\":";
  append_json_string(out, s.started);
  if (!s.metadata.is_null()) {
    out += ",\"meta\":";
    out += s.metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

}  // namespace detail

std::string format_header(const RunSettings& settings) {
  std::string out = fmt::format("{{\"taskmaster_history\":{}", history_format_version);
  detail::append_settings_fields(out, settings);
  out += '}';
  return out;
}

namespace {

/// Reads the fields of one line, turning every shape problem into a
/// HistoryError that names the file, the line and the field.
class LineReader {
 public:
  LineReader(const std::string& source, std::size_t line, const nlohmann::json& object)
      : source_(source), line_(line), object_(object) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw HistoryError(source_, line_, message);
  }
  const nlohmann::json& field(const char* name) const {
    auto it = object_.find(name);
    if (it == object_.end()) fail(fmt::format("missing field \"{}\"", name));
    return *it;
  }
  bool has(const char* name) const { return object_.contains(name); }
  std::uint64_t unsigned_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0)) {
      fail(fmt::format("field \"{}\" must be a non-negative integer, got {}", name, v.dump()));
    }
    return v.get<std::uint64_t>();
  }
  int int_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_number_integer())
      fail(fmt::format("field \"{}\" must be an integer, got {}", name, v.dump()));
    return v.get<int>();
  }
  double number_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_number()) fail(fmt::format("field \"{}\" must be a number, got {}", name, v.dump()));
    return v.get<double>();
  }
  std::string string_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_string()) fail(fmt::format("field \"{}\" must be a string, got {}", name, v.dump()));
    return v.get<std::string>();
  }
  bool bool_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_boolean())
      fail(fmt::format("field \"{}\" must be true or false, got {}", name, v.dump()));
    return v.get<bool>();
  }

  RunSettings settings() const {
    RunSettings s;
    s.seed = unsigned_field("seed");
    s.retry.retries = static_cast<unsigned>(unsigned_field("retries"));
    const std::string on_failure = string_field("on_failure");
    if (on_failure == "continue") {
      s.retry.on_failure = OnFailure::record_and_continue;
    } else if (on_failure == "stop") {
      s.retry.on_failure = OnFailure::stop_run;
    } else {
      fail(fmt::format("field \"on_failure\" must be \"continue\" or \"stop\", got \"{}\"",
                       on_failure));
    }
    s.ask_batch = unsigned_field("ask_batch");
    if (s.ask_batch == 0) fail("field \"ask_batch\" must be at least 1");
    s.started = string_field("started");
    if (has("meta")) s.metadata = field("meta");
    return s;
  }

 private:
  const std::string& source_;
  std::size_t line_;
  const nlohmann::json& object_;
};

EventKind parse_kind(const LineReader& reader, const std::string& name) {
  for (EventKind k : {EventKind::ask, EventKind::tell, EventKind::fail, EventKind::capacity,
                      EventKind::stop, EventKind::cancel, EventKind::end, EventKind::resume}) {
    if (name == to_string(k)) return k;
  }
  reader.fail(fmt::format("unknown event kind \"{}\"", name));
}

/// Tracks which tasks are outstanding so that every result can be checked
/// against an ask that is still waiting for it.
class Consistency {
 public:
  Consistency(const std::string& source) : source_(source) {}

  void check(const RawEvent& e) {
    auto fail = [&](const std::string& message) { throw HistoryError(source_, e.line, message); };
    if (ended_ && e.kind != EventKind::resume) {
      fail(fmt::format("{} event after the end of the run (only \"resume\" may follow \"end\")",
                       to_string(e.kind)));
    }
    switch (e.kind) {
      case EventKind::ask:
        if (e.step != asks_)
          fail(fmt::format("ask step {} out of order (expected {})", e.step, asks_));
        if (!seen_.insert(e.id).second) fail(fmt::format("task id {} asked twice", e.id));
        outstanding_.insert(e.id);
        ++asks_;
        break;
      case EventKind::tell:
      case EventKind::fail:
      case EventKind::cancel:
        if (outstanding_.count(e.id) == 0) {
          fail(
              fmt::format("{} for task id {}, which is not outstanding (never asked, or already "
                          "resolved)",
                          to_string(e.kind), e.id));
        }
        if (!(e.kind == EventKind::fail && e.retry)) outstanding_.erase(e.id);
        break;
      case EventKind::end: ended_ = true; break;
      case EventKind::resume:
        ended_ = false;
        if (e.step != ++segments_) {
          fail(fmt::format("resume opens segment {} (expected {})", e.step, segments_));
        }
        break;
      case EventKind::capacity:
      case EventKind::stop: break;
    }
  }

 private:
  const std::string& source_;
  std::unordered_set<TaskId> seen_;
  std::unordered_set<TaskId> outstanding_;
  std::uint64_t asks_ = 0;
  std::uint64_t segments_ = 0;
  bool ended_ = false;
};

}  // namespace

RawHistory parse_raw_history(std::istream& in, const std::string& source, ReadOptions options) {
  RawHistory history;
  Consistency consistency(source);
  std::string text;
  std::size_t line = 0;
  std::uint64_t bytes = 0;
  while (std::getline(in, text)) {
    ++line;
    const bool complete = !in.eof();  // getline stopped at a newline
    if (!complete) {
      if (options.allow_truncated_tail) {
        history.truncated_tail = true;
        break;
      }
      throw HistoryError(source, line,
                         "last line is incomplete (no newline at its end): the run was probably "
                         "killed while writing it; resuming drops such a line");
    }
    bytes += text.size() + 1;
    if (text.empty()) throw HistoryError(source, line, "empty line");
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw HistoryError(source, line, fmt::format("not valid JSON ({})", e.what()));
    }
    if (!object.is_object()) throw HistoryError(source, line, "expected a JSON object");
    LineReader reader(source, line, object);
    if (line == 1) {
      if (!object.contains("taskmaster_history")) {
        reader.fail(
            "not a taskmaster history: the first line has no \"taskmaster_history\" version");
      }
      const auto version = reader.int_field("taskmaster_history");
      if (version != history_format_version) {
        reader.fail(
            fmt::format("history format version {} is not supported (this build reads version {})",
                        version, history_format_version));
      }
      history.segments.push_back(reader.settings());
      continue;
    }
    RawEvent e;
    e.line = line;
    e.kind = parse_kind(reader, reader.string_field("e"));
    switch (e.kind) {
      case EventKind::ask:
        e.step = reader.unsigned_field("step");
        e.id = reader.unsigned_field("id");
        e.entropy = reader.unsigned_field("entropy");
        e.x = reader.field("x");
        break;
      case EventKind::tell:
        e.id = reader.unsigned_field("id");
        e.y = reader.field("y");
        e.worker = reader.int_field("worker");
        e.duration = reader.number_field("dt");
        break;
      case EventKind::fail:
        e.id = reader.unsigned_field("id");
        e.text = reader.string_field("error");
        e.retry = reader.bool_field("retry");
        e.worker = reader.int_field("worker");
        e.duration = reader.number_field("dt");
        break;
      case EventKind::capacity: e.capacity = reader.unsigned_field("n"); break;
      case EventKind::cancel: e.id = reader.unsigned_field("id"); break;
      case EventKind::stop:
      case EventKind::end: e.text = reader.string_field("reason"); break;
      case EventKind::resume:
        e.step = reader.unsigned_field("segment");
        history.segments.push_back(reader.settings());
        break;
    }
    e.time = reader.number_field("t");
    consistency.check(e);
    history.events.push_back(std::move(e));
  }
  if (line == 0 || history.segments.empty()) {
    throw HistoryError(source, 0, "empty file: expected a history header on line 1");
  }
  history.complete_bytes = bytes;
  return history;
}

RawHistory read_raw_history(const std::filesystem::path& path, ReadOptions options) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw HistoryError(path.string(), 0, fmt::format("cannot open: {}", std::strerror(errno)));
  return parse_raw_history(in, path.string(), options);
}

HistorySink::HistorySink(const std::filesystem::path& path, Mode mode) : path_(path) {
  const int flags = O_WRONLY | O_CLOEXEC | O_CREAT | (mode == Mode::create ? O_TRUNC : O_APPEND);
  fd_ = ::open(path.c_str(), flags, 0644);
  if (fd_ < 0) {
    throw HistoryError(path.string(), 0,
                       fmt::format("cannot open for writing: {}", std::strerror(errno)));
  }
}

HistorySink::~HistorySink() {
  if (fd_ >= 0) ::close(fd_);
}

void HistorySink::write(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw HistoryError(path_.string(), 0, fmt::format("write failed: {}", std::strerror(errno)));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void HistorySink::sync() {
  if (::fsync(fd_) != 0) {
    throw HistoryError(path_.string(), 0, fmt::format("fsync failed: {}", std::strerror(errno)));
  }
}

void HistorySink::truncate(std::uint64_t bytes) {
  if (::ftruncate(fd_, static_cast<off_t>(bytes)) != 0) {
    throw HistoryError(path_.string(), 0, fmt::format("truncate failed: {}", std::strerror(errno)));
  }
}

}  // namespace taskmaster
