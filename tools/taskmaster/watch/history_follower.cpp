#include "history_follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace taskmaster::cli::watch {

HistoryFollower::HistoryFollower(std::filesystem::path path) : path_(std::move(path)) {}

HistoryFollower::~HistoryFollower() { close_file(); }

void HistoryFollower::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  consumed_ = 0;
}

HistoryFollower::Chunk HistoryFollower::poll() {
  Chunk chunk;
  behind_ = false;
  // The name may point at another file now: a new run took it over.
  struct stat by_name {};
  if (::stat(path_.c_str(), &by_name) != 0) return chunk;  // not there (yet), or gone for now
  if (fd_ < 0 || by_name.st_dev != device_ || by_name.st_ino != inode_) {
    const bool had_file = fd_ >= 0;
    close_file();
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return chunk;
    struct stat opened {};
    if (::fstat(fd_, &opened) != 0 || !S_ISREG(opened.st_mode)) {
      close_file();
      return chunk;
    }
    device_ = opened.st_dev;
    inode_ = opened.st_ino;
    chunk.restarted = had_file;
  }
  struct stat now {};
  if (::fstat(fd_, &now) != 0) return chunk;
  const auto size = static_cast<std::uint64_t>(now.st_size);
  if (size < consumed_) {
    // Cut shorter than what was read: not the file we read any more.
    consumed_ = 0;
    chunk.restarted = true;
  }
  if (size == consumed_) return chunk;
  std::string buffer;
  // Read at least max_read, and on until a newline if one line is longer.
  std::uint64_t offset = consumed_;
  while (offset < size) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(1u << 20, size - offset));
    const std::size_t old = buffer.size();
    buffer.resize(old + want);
    const ssize_t got = ::pread(fd_, buffer.data() + old, want, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) {
      buffer.resize(old);
      continue;
    }
    if (got <= 0) {
      buffer.resize(old);
      break;
    }
    buffer.resize(old + static_cast<std::size_t>(got));
    offset += static_cast<std::uint64_t>(got);
    if (buffer.size() >= max_read && buffer.find('\n', old) != std::string::npos) {
      behind_ = offset < size;
      break;
    }
  }
  std::size_t start = 0;
  for (std::size_t end = buffer.find('\n'); end != std::string::npos;
       end = buffer.find('\n', start)) {
    chunk.lines.emplace_back(buffer, start, end - start);
    start = end + 1;
  }
  // What follows the last newline is a line still being written: next time.
  consumed_ += start;
  return chunk;
}

}  // namespace taskmaster::cli::watch
