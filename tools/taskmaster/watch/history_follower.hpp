#pragma once
// Following a history file while a run writes it: the complete lines added
// since the last look, whoever writes the file (this process, another run,
// a run on a cluster's shared file system).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taskmaster::cli::watch {

/// Reads a growing JSON Lines file a piece at a time. The writer appends one
/// line per write(2), but a reader can still catch a line half written (or
/// torn by a killed run): such a last line is left for the next poll. A file
/// replaced under the same name (`run --overwrite`) or cut shorter than what
/// was read starts the reading over.
///
/// Polling rather than inotify: it also sees files written on other
/// machines (NFS, Lustre), where inotify says nothing.
///
/// @code
/// taskmaster::cli::watch::HistoryFollower follower("run.jsonl");
/// for (;;) {
///   auto chunk = follower.poll();
///   if (chunk.restarted) state.restart();
///   for (const auto& line : chunk.lines) state.apply(line);
///   std::this_thread::sleep_for(std::chrono::milliseconds(100));
/// }
/// @endcode
class HistoryFollower {
 public:
  struct Chunk {
    /// The file was replaced or cut: `lines` start again from line 1.
    bool restarted = false;
    /// Complete lines, without their newline.
    std::vector<std::string> lines;
  };

  /// The most bytes read by one poll, so that a large finished file shows
  /// its first events while the rest is still being read.
  static constexpr std::size_t max_read = 8u << 20;

  explicit HistoryFollower(std::filesystem::path path);
  HistoryFollower(const HistoryFollower&) = delete;
  HistoryFollower& operator=(const HistoryFollower&) = delete;
  ~HistoryFollower();

  /// What was appended since the last poll; nothing while the file does
  /// not exist (yet).
  Chunk poll();
  /// Whether the file has been found (and is being read).
  [[nodiscard]] bool found() const noexcept { return fd_ >= 0; }
  /// Whether the last poll left bytes unread (more than `max_read` were there).
  [[nodiscard]] bool behind() const noexcept { return behind_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  void close_file();

  std::filesystem::path path_;
  int fd_ = -1;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  std::uint64_t consumed_ = 0;  ///< bytes of complete lines handed out
  bool behind_ = false;
};

}  // namespace taskmaster::cli::watch
