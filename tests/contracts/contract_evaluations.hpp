#pragma once
// The evaluations the master contract asks of a master, by name, so that a
// worker in another process (contract_worker.cpp) computes exactly what an
// in-process master's function does, and an overlap count that holds across
// processes.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace contract {

/// 2 x, after a pause long enough for a master with free capacity to start
/// other evaluations meanwhile (even when each start is a process spawn);
/// each evaluation is counted in the overlap file while it runs.
inline constexpr std::string_view doubled_slowly = "doubled_slowly";
/// x squared, at once.
inline constexpr std::string_view squared = "squared";
/// The square root of x; a negative x fails with "no square root of <x>".
inline constexpr std::string_view square_root = "square_root";

inline constexpr std::array evaluation_names = {doubled_slowly, squared, square_root};

/// The environment variable that points an out-of-process worker at the
/// overlap file.
inline constexpr const char* overlap_file_variable = "TASKMASTER_CONTRACT_OVERLAP_FILE";

/// How many evaluations run now, and the most that ever ran at once.
struct OverlapCounts {
  int running = 0;
  int most = 0;
};

/// Counts the evaluations running at once across threads and processes: the
/// file holds an OverlapCounts, and every change is made under an exclusive
/// flock on a descriptor of its own. The count is exact, whatever the load:
/// an evaluation is counted from its start to its end, both inside the time
/// the master holds a slot for it, so a master within its capacity can never
/// be seen above it. A worker killed mid-evaluation leaves its count up
/// (never a half-written record: its lock goes with it).
class OverlapFile {
 public:
  explicit OverlapFile(std::filesystem::path path) : path_(std::move(path)) {}

  /// Starts from zero.
  void reset() const {
    update([](OverlapCounts& counts) { counts = {}; });
  }
  void enter() const {
    update([](OverlapCounts& counts) {
      ++counts.running;
      counts.most = std::max(counts.most, counts.running);
    });
  }
  void leave() const {
    update([](OverlapCounts& counts) { --counts.running; });
  }
  [[nodiscard]] OverlapCounts counts() const {
    return update([](OverlapCounts&) {});
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  template <class Change>
  OverlapCounts update(Change change) const {
    struct Descriptor {
      int fd;
      ~Descriptor() { ::close(fd); }  // also drops the lock
    };
    const Descriptor file{::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)};
    if (file.fd < 0) fail("open");
    if (::flock(file.fd, LOCK_EX) != 0) fail("lock");
    OverlapCounts counts;
    const auto read = ::pread(file.fd, &counts, sizeof(counts), 0);
    if (read < 0) fail("read");
    if (read != static_cast<ssize_t>(sizeof(counts))) counts = {};  // a new file
    change(counts);
    if (::pwrite(file.fd, &counts, sizeof(counts), 0) != static_cast<ssize_t>(sizeof(counts))) {
      fail("write");
    }
    return counts;
  }

  [[noreturn]] void fail(const char* what) const {
    throw std::system_error(errno, std::generic_category(),
                            std::string("overlap file ") + path_.string() + ": cannot " + what);
  }

  std::filesystem::path path_;
};

/// Evaluates the evaluation called `name` at x, counting overlap in
/// `overlap_file`.
inline double evaluate(std::string_view name, double x, const OverlapFile& overlap_file) {
  if (name == doubled_slowly) {
    overlap_file.enter();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    overlap_file.leave();
    return 2 * x;
  }
  if (name == squared) return x * x;
  if (name == square_root) {
    if (x < 0) throw std::domain_error("no square root of " + std::to_string(x));
    return std::sqrt(x);
  }
  throw std::invalid_argument("no contract evaluation called '" + std::string(name) + "'");
}

/// What an out-of-process master needs to have its workers run an
/// evaluation: its name, and the environment that names the overlap file.
struct WorkerEvaluation {
  std::string name;
  std::map<std::string, std::string> environment;
};

}  // namespace contract
