#pragma once
// Process plumbing shared by the out-of-process masters: starting a child
// with pipes on its standard streams, reading and writing without blocking,
// killing its whole process group and reaping it. An internal of the
// masters: what a user meets of it is SpawnError (thrown by the masters that
// start workers) and kill_every_child_group (for a signal handler).

#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace taskmaster::subprocess {

/// A child could not be started (the program is missing, not executable, ...).
///
/// @code
/// try {
///   auto child = taskmaster::subprocess::Child::spawn({.argv = {"./missing"}});
/// } catch (const taskmaster::subprocess::SpawnError& e) {
///   // e.what(): "cannot start './missing': No such file or directory"
/// }
/// @endcode
class SpawnError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  SpawnError(const std::string& what, int error) : std::runtime_error(what), error_(error) {}

  /// The errno value behind the failure (0 if none).
  [[nodiscard]] int error() const noexcept { return error_; }
  /// Whether this process ran out of something its other children give
  /// back when they end (file descriptors, processes): worth waiting for
  /// one of them rather than failing.
  [[nodiscard]] bool out_of_resources() const noexcept {
    return error_ == EMFILE || error_ == ENFILE || error_ == EAGAIN;
  }

 private:
  int error_ = 0;
};

/// How to start a child.
///
/// @code
/// taskmaster::subprocess::SpawnOptions options{.argv = {"/usr/bin/python3", "worker.py"}};
/// options.environment["MODEL"] = "fast";
/// @endcode
struct SpawnOptions {
  /// Program and arguments; argv[0] is looked up in PATH when it has no '/'.
  std::vector<std::string> argv;
  /// Run the child in this directory (the parent's when empty).
  std::optional<std::filesystem::path> working_directory{};
  /// Set (or override) these variables in the child's environment.
  std::map<std::string, std::string> environment{};
  /// Give the child a pipe on stdin (otherwise /dev/null).
  bool pipe_stdin = true;
};

/// A running (or finished but not yet reaped) child process in a process
/// group of its own, with non-blocking pipes to its stdin, stdout and stderr.
/// The child is started with posix_spawn (no fork of a threaded parent);
/// every descriptor is close-on-exec in the parent, so children never
/// inherit each other's pipes. Destroying a Child kills its group and reaps
/// it: no process outlives its owner.
///
/// @code
/// auto child = taskmaster::subprocess::Child::spawn({.argv = {"/bin/echo", "hi"}});
/// std::string out;
/// while (child.read_available(child.stdout_fd(), out, 1 << 20) != 0) {}
/// int status = child.wait();  // raw waitpid status
/// @endcode
class Child {
 public:
  static Child spawn(const SpawnOptions& options);

  /// Takes charge of a child this process started some other way, e.g.
  /// forked from an interpreter that already holds the code the child runs:
  /// `pid` leads a process group of its own, and the descriptors are this
  /// process's ends of the child's stdin, stdout and stderr pipes (the
  /// Child owns them from here on). From then on it is listed, watched,
  /// killed and reaped as a spawned child is.
  static Child adopt(pid_t pid, int stdin_fd, int stdout_fd, int stderr_fd);

  Child() = default;
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] int stdin_fd() const noexcept { return stdin_; }
  [[nodiscard]] int stdout_fd() const noexcept { return stdout_; }
  [[nodiscard]] int stderr_fd() const noexcept { return stderr_; }
  [[nodiscard]] bool running() const noexcept { return pid_ > 0 && !status_; }

  /// A descriptor that poll(2) reports readable once the child has ended
  /// (a pidfd, opened on first use and owned by the Child).
  int exit_fd();

  /// Closes the child's stdin (the polite way to ask a worker to finish).
  void close_stdin() noexcept;
  void close_stdout() noexcept;
  void close_stderr() noexcept;

  /// Writes as much of `data` as the pipe takes now and returns how many
  /// bytes went; throws nothing. Returns -1 when the child's stdin is gone
  /// (EPIPE, closed), without raising SIGPIPE in the parent.
  long write_some(std::string_view data) noexcept;

  /// Appends what can be read from `fd` now (at most `limit` bytes) to `out`.
  /// Returns the number of bytes read, 0 at end of file, -1 when nothing is
  /// there yet.
  static long read_available(int fd, std::string& out, std::size_t limit);

  /// SIGKILL to the child's whole process group (the child and whatever it
  /// started).
  void kill_group() noexcept;

  /// The raw waitpid status if the child has ended, without waiting.
  std::optional<int> try_wait() noexcept;
  /// Waits up to `patience` for the child to end by itself.
  std::optional<int> wait_for(std::chrono::milliseconds patience) noexcept;
  /// Waits for the child to end (kill it first if it must end now).
  int wait() noexcept;

 private:
  void release() noexcept;

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  int exit_fd_ = -1;
  std::optional<int> status_;
};

/// SIGKILL to the process group of every child this process started with
/// Child::spawn and has not reaped yet. Async-signal-safe: for a signal
/// handler that must not leave programs running when it gives up on them
/// (the owning Child objects still reap them, or the process exits).
///
/// @code
/// void on_second_interrupt(int) { taskmaster::subprocess::kill_every_child_group(); }
/// @endcode
void kill_every_child_group() noexcept;

/// This process's end of the socket to the process that kills its
/// children's groups if it dies (-1 before the first child is started). A
/// child forked without exec must close it: while the child holds it, the
/// guard never sees this process end.
int child_guard_descriptor() noexcept;

/// "exited with status 3", "killed by signal 11 (SIGSEGV)".
std::string describe_wait_status(int status);

/// Keeps the last `capacity` bytes written to it: the end of a child's
/// stderr, for error messages.
///
/// @code
/// taskmaster::subprocess::Tail tail(1024);
/// tail.append("lots of text");
/// std::string end = tail.text();
/// @endcode
class Tail {
 public:
  explicit Tail(std::size_t capacity = 2048) : capacity_(capacity) {}
  void append(std::string_view text);
  [[nodiscard]] std::string text() const;
  void clear() noexcept { text_.clear(); }

 private:
  std::size_t capacity_;
  std::string text_;
};

/// The path of the running executable (/proc/self/exe resolved).
std::filesystem::path current_executable();

}  // namespace taskmaster::subprocess
