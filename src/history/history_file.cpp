#include "taskmaster/history/history_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "taskmaster/history/json_text.hpp"

namespace taskmaster {

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
    const std::string meta =
        s.metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    // Written, it could not be read back: refuse it before the run starts.
    if (json_nesting_exceeds(meta)) {
      throw std::invalid_argument(fmt::format(
          "the run's metadata is nested deeper than {} levels: no history could read it back",
          max_json_depth));
    }
    out += ",\"meta\":";
    out += meta;
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
      fail(fmt::format("field \"{}\" must be a non-negative integer, got {}", name,
                       json_excerpt(v)));
    }
    return v.get<std::uint64_t>();
  }
  int int_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_number_integer())
      fail(fmt::format("field \"{}\" must be an integer, got {}", name, json_excerpt(v)));
    return v.get<int>();
  }
  double number_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_number())
      fail(fmt::format("field \"{}\" must be a number, got {}", name, json_excerpt(v)));
    return v.get<double>();
  }
  std::string string_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_string())
      fail(fmt::format("field \"{}\" must be a string, got {}", name, json_excerpt(v)));
    return v.get<std::string>();
  }
  bool bool_field(const char* name) const {
    const auto& v = field(name);
    if (!v.is_boolean())
      fail(fmt::format("field \"{}\" must be true or false, got {}", name, json_excerpt(v)));
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
        // The loop reads the master's capacity (and records it) before it
        // asks, and asks only below it: a record that says otherwise would
        // have a replay wait for workers that never come.
        if (!capacity_) fail("ask before any \"capacity\" event: the master's capacity is unknown");
        if (outstanding_.size() >= *capacity_) {
          fail(fmt::format("ask with {} task{} outstanding at a capacity of {}",
                           outstanding_.size(), outstanding_.size() == 1 ? "" : "s", *capacity_));
        }
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
      case EventKind::capacity: capacity_ = e.capacity; break;
      case EventKind::stop: break;
    }
  }

 private:
  const std::string& source_;
  std::unordered_set<TaskId> seen_;
  std::unordered_set<TaskId> outstanding_;
  std::uint64_t asks_ = 0;
  std::uint64_t segments_ = 0;
  std::optional<std::uint64_t> capacity_;
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
    if (json_nesting_exceeds(text)) {
      throw HistoryError(source, line,
                         fmt::format("JSON nested deeper than {} levels", max_json_depth));
    }
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // a syntax error, a number out of range
      std::string why = e.what();
      if (why.size() > 200) why = why.substr(0, 200) + "...";
      throw HistoryError(source, line, fmt::format("not valid JSON ({})", why));
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

namespace {

namespace fs = std::filesystem;

/// Takes the writer's lock on an open file; false when another holds it. On
/// a file system without flock (some network ones) the file is written
/// unlocked, as before there were locks.
bool lock_for_writing(int fd) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    return errno != EWOULDBLOCK;
  }
  return true;
}

bool same_file(int fd, const fs::path& path) {
  struct stat opened {};
  struct stat named {};
  return ::fstat(fd, &opened) == 0 && ::stat(path.c_str(), &named) == 0 &&
         opened.st_dev == named.st_dev && opened.st_ino == named.st_ino;
}

/// Opens the file at `path` and takes its writer's lock; -1 when there is
/// no file. Throws HistoryBusy when another writer holds the lock.
int open_locked(const fs::path& path, int flags) {
  for (;;) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return -1;
      throw HistoryError(path.string(), 0,
                         fmt::format("cannot open for writing: {}", std::strerror(errno)));
    }
    if (!lock_for_writing(fd)) {
      ::close(fd);
      throw HistoryBusy(path.string());
    }
    // While this waited for the lock, the writer holding it may have put a
    // new file under the name: that one is the file to lock.
    if (same_file(fd, path)) return fd;
    ::close(fd);
  }
}

/// Where a file named `path` really is: a history reached through a
/// symbolic link is written where the link points, the link left in place.
fs::path through_links(fs::path path) {
  std::error_code ec;
  for (int i = 0; i < 40 && fs::is_symlink(path, ec); ++i) {
    const fs::path target = fs::read_symlink(path, ec);
    if (ec) break;
    path = target.is_absolute() ? target : path.parent_path() / target;
  }
  return path;
}

fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

/// Forces a directory entry just made (a link, a rename) to disk.
void sync_directory(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

[[noreturn]] void fail_to_create(const fs::path& path, int error) {
  throw HistoryError(path.string(), 0, fmt::format("cannot create: {}", std::strerror(error)));
}

}  // namespace

HistoryBusy::HistoryBusy(const std::string& source)
    : HistoryError(source, 0,
                   "another process is writing this history now (a run or a resume of it is "
                   "still going on): wait for it to end, or stop it, and try again") {}

HistorySink::HistorySink(const fs::path& path, Mode mode) : path_(path) {
  if (mode == Mode::append) {
    fd_ = open_locked(path, O_WRONLY | O_APPEND);
    if (fd_ < 0) {
      throw HistoryError(path.string(), 0,
                         fmt::format("cannot open for appending: {}", std::strerror(ENOENT)));
    }
    return;
  }
  const fs::path where = through_links(path);
  replaced_fd_ = open_locked(where, O_RDONLY);
  const fs::path directory = directory_of(where);
  // Without a name until its header is written, so that nothing is left
  // behind if this process dies first.
  if (::access("/proc/self/fd", X_OK) == 0) {
    fd_ = ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  } else {
    errno = EOPNOTSUPP;
  }
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // Appended piece by piece: GCC 12 at -O3 misreads `"." + string + ...`
    // as an overlapping copy (-Wrestrict).
    std::string leaf = ".";
    leaf += path.filename().string();
    leaf += ".XXXXXX";
    std::string name = (directory / leaf).string();
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ >= 0) {
      temporary_path_ = std::move(name);
      ::fchmod(fd_, 0644);
    }
  }
  if (fd_ < 0) {
    const int error = errno;
    if (replaced_fd_ >= 0) ::close(replaced_fd_);
    fail_to_create(path, error);
  }
  lock_for_writing(fd_);  // nobody else can reach it yet
  published_ = false;
}

void HistorySink::publish() {
  if (::fdatasync(fd_) != 0) fail_to_create(path_, errno);
  const fs::path where = through_links(path_);
  const fs::path directory = directory_of(where);
  auto name_it = [&] {
    // An unnamed file gets a hidden name of its own first, to be renamed.
    for (unsigned n = 0; temporary_path_.empty(); ++n) {
      const std::string name =
          (directory / fmt::format(".{}.{}.{}", where.filename().string(), ::getpid(), n)).string();
      if (::linkat(AT_FDCWD, fmt::format("/proc/self/fd/{}", fd_).c_str(), AT_FDCWD, name.c_str(),
                   AT_SYMLINK_FOLLOW) == 0) {
        temporary_path_ = name;
      } else if (errno != EEXIST || n > 1000) {
        fail_to_create(path_, errno);
      }
    }
  };
  for (;;) {
    if (replaced_fd_ < 0) {
      // The name was free: take it only if it still is.
      const int linked = temporary_path_.empty()
                             ? ::linkat(AT_FDCWD, fmt::format("/proc/self/fd/{}", fd_).c_str(),
                                        AT_FDCWD, where.c_str(), AT_SYMLINK_FOLLOW)
                             : ::link(temporary_path_.c_str(), where.c_str());
      if (linked == 0) {
        if (!temporary_path_.empty()) ::unlink(temporary_path_.c_str());
        break;
      }
      if (errno != EEXIST) fail_to_create(path_, errno);
      // Another process made the file meanwhile: replace it, unless it is
      // writing it.
      replaced_fd_ = open_locked(where, O_RDONLY);
      continue;
    }
    // Held locked until now, so no other writer can have started on it.
    name_it();
    if (::rename(temporary_path_.c_str(), where.c_str()) != 0) fail_to_create(path_, errno);
    break;
  }
  temporary_path_.clear();
  if (replaced_fd_ >= 0) {
    ::close(replaced_fd_);
    replaced_fd_ = -1;
  }
  published_ = true;
  sync_directory(directory);
}

HistorySink::~HistorySink() {
  if (fd_ >= 0) ::close(fd_);
  if (replaced_fd_ >= 0) ::close(replaced_fd_);
  if (!temporary_path_.empty()) ::unlink(temporary_path_.c_str());
}

void HistorySink::write(std::string_view text) {
  const std::string_view whole = text;
  while (!text.empty()) {
    const ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw HistoryError(path_.string(), 0, fmt::format("write failed: {}", std::strerror(errno)));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (!published_ && !whole.empty()) publish();
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
