#include "taskmaster/detail/subprocess.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

extern char** environ;

namespace taskmaster::subprocess {

namespace {

// The process groups of the children alive now, for kill_every_child_group.
// Lock-free slots, because a signal handler reads them; a child that finds
// every slot taken is simply not listed (its Child still kills and reaps it).
constexpr std::size_t live_group_slots = 4096;
std::array<std::atomic<pid_t>, live_group_slots> live_groups{};
static_assert(std::atomic<pid_t>::is_always_lock_free);

void list_group(pid_t pid) noexcept {
  for (auto& slot : live_groups) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

// Before the child is reaped: once reaped, its pid may name another group.
void unlist_group(pid_t pid) noexcept {
  for (auto& slot : live_groups) {
    pid_t listed = pid;
    if (slot.compare_exchange_strong(listed, 0)) return;
  }
}

/// A small process outside this one that kills the process groups of this
/// process's children when it dies without reaping them (SIGKILL, a crash,
/// an abort): the destructors that normally kill and reap them never run
/// then, and a hung program would otherwise run for ever. This process tells
/// it "+ PID" for each child started and "- PID" before reaping one; when its
/// end of the socket closes (this process is gone, however it went) it kills
/// the groups still listed. It is a shell, started once, in a process group
/// of its own and not a child of this process (the shell that starts it
/// exits at once), so it neither shows up among our children nor receives
/// our terminal's signals.
class ChildGuard {
 public:
  static ChildGuard& instance() {
    static ChildGuard guard;  // never destroyed: its socket closes with the process
    return guard;
  }

  /// This process's end of the socket, -1 before the guard starts (read
  /// without starting it: a fork must close it).
  static int descriptor() noexcept { return fd_.load(); }

  void started(pid_t pid) noexcept { tell('+', pid); }
  void reaping(pid_t pid) noexcept { tell('-', pid); }

 private:
  ChildGuard() noexcept { start(); }

  static constexpr const char* script = R"(trap '' INT TERM HUP QUIT PIPE
(
  exec 0<&3 3<&-
  live=' '
  while read -r op pid; do
    case $op in
      +) live="$live$pid " ;;
      -) case $live in *" $pid "*) live="${live%% $pid *} ${live#* $pid }" ;; esac ;;
    esac
  done
  for pid in $live; do kill -s KILL -- "-$pid" 2>/dev/null; done
) &
)";

  void start() noexcept {
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
      posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, sockets[1], 3);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGQUIT}) sigaddset(&defaults, s);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &empty);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(
        &attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    char sh[] = "/bin/sh";
    char dash_c[] = "-c";
    std::string text = script;
    char name[] = "taskmaster-child-guard";
    char* argv[] = {sh, dash_c, text.data(), name, nullptr};
    pid_t shell = -1;
    const int failed = ::posix_spawn(&shell, sh, &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(sockets[1]);
    if (failed != 0) {
      ::close(sockets[0]);
      return;  // no shell: children are still killed by their owners, only not after a crash
    }
    int status = 0;
    while (::waitpid(shell, &status, 0) < 0 && errno == EINTR) {
    }
    fd_.store(sockets[0]);
  }

  void tell(char op, pid_t pid) noexcept {
    const std::string line = fmt::format("{} {}\n", op, pid);
    const std::lock_guard<std::mutex> lock(mutex_);
    std::size_t sent = 0;
    while (fd_.load() >= 0 && sent < line.size()) {
      const ssize_t n = ::send(fd_.load(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fd_.exchange(-1));  // the guard is gone: carry on without it
        return;
      }
      sent += static_cast<std::size_t>(n);
    }
  }

  std::mutex mutex_;
  static inline std::atomic<int> fd_{-1};
};

struct Pipe {
  int read = -1;
  int write = -1;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    const int error = errno;
    throw SpawnError(fmt::format("cannot create a pipe: {}", std::strerror(error)), error);
  }
  return {fds[0], fds[1]};
}

void close_fd(int& fd) noexcept {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/// posix_spawn's C resources, released whatever happens.
struct SpawnAttributes {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnAttributes() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('='));
    if (!extra.contains(std::string(name))) env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

Child Child::spawn(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv.front().empty()) {
    throw SpawnError("cannot start a process: the command is empty");
  }
  Pipe in{-1, -1};
  if (options.pipe_stdin) in = make_pipe();
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  auto close_all = [&] {
    for (int* fd : {&in.read, &in.write, &out.read, &out.write, &err.read, &err.write}) {
      close_fd(*fd);
    }
  };

  SpawnAttributes spawn;
  if (options.pipe_stdin) {
    posix_spawn_file_actions_adddup2(&spawn.actions, in.read, STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&spawn.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&spawn.actions, out.write, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&spawn.actions, err.write, STDERR_FILENO);
  std::string directory;
  if (options.working_directory) {
    directory = options.working_directory->string();
    posix_spawn_file_actions_addchdir_np(&spawn.actions, directory.c_str());
  }
  // A group of its own, so that killing a worker also kills what it started;
  // default signal handling and an empty mask, whatever the parent set.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD, SIGHUP}) sigaddset(&defaults, s);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&spawn.attributes, &defaults);
  posix_spawnattr_setsigmask(&spawn.attributes, &empty);
  posix_spawnattr_setpgroup(&spawn.attributes, 0);
  posix_spawnattr_setflags(&spawn.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> argv = options.argv;
  std::vector<std::string> env = child_environment(options.environment);
  auto argv_c = c_strings(argv);
  auto env_c = c_strings(env);
  pid_t pid = -1;
  const int failed = ::posix_spawnp(&pid, argv.front().c_str(), &spawn.actions, &spawn.attributes,
                                    argv_c.data(), env_c.data());
  if (failed != 0) {
    close_all();
    throw SpawnError(fmt::format("cannot start '{}'{}: {}", options.argv.front(),
                                 options.working_directory
                                     ? fmt::format(" in '{}'", options.working_directory->string())
                                     : std::string(),
                                 std::strerror(failed)),
                     failed);
  }
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);

  return adopt(pid, in.write, out.read, err.read);
}

int child_guard_descriptor() noexcept { return ChildGuard::descriptor(); }

Child Child::adopt(pid_t pid, int stdin_fd, int stdout_fd, int stderr_fd) {
  if (pid <= 0 || stdout_fd < 0 || stderr_fd < 0) {
    throw SpawnError(
        fmt::format("cannot take charge of process {}: it needs a pid and its "
                    "stdout and stderr pipes (got descriptors {} and {})",
                    pid, stdout_fd, stderr_fd));
  }
  ChildGuard& guard = ChildGuard::instance();
  list_group(pid);
  guard.started(pid);
  Child child;
  child.pid_ = pid;
  child.stdin_ = stdin_fd;
  child.stdout_ = stdout_fd;
  child.stderr_ = stderr_fd;
  for (int fd : {stdin_fd, stdout_fd, stderr_fd}) {
    if (fd < 0) continue;
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    set_nonblocking(fd);
  }
  return child;
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdin_(std::exchange(other.stdin_, -1)),
      stdout_(std::exchange(other.stdout_, -1)),
      stderr_(std::exchange(other.stderr_, -1)),
      exit_fd_(std::exchange(other.exit_fd_, -1)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    release();
    pid_ = std::exchange(other.pid_, -1);
    stdin_ = std::exchange(other.stdin_, -1);
    stdout_ = std::exchange(other.stdout_, -1);
    stderr_ = std::exchange(other.stderr_, -1);
    exit_fd_ = std::exchange(other.exit_fd_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Child::~Child() { release(); }

void Child::release() noexcept {
  close_fd(stdin_);
  close_fd(stdout_);
  close_fd(stderr_);
  close_fd(exit_fd_);
  if (pid_ > 0 && !status_) {
    kill_group();
    wait();
  }
  pid_ = -1;
}

int Child::exit_fd() {
  if (exit_fd_ < 0 && pid_ > 0) {
    exit_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (exit_fd_ < 0) {
      const int error = errno;
      throw SpawnError(fmt::format("cannot watch process {}: {}", pid_, std::strerror(error)),
                       error);
    }
    ::fcntl(exit_fd_, F_SETFD, FD_CLOEXEC);
  }
  return exit_fd_;
}

void Child::close_stdin() noexcept { close_fd(stdin_); }
void Child::close_stdout() noexcept { close_fd(stdout_); }
void Child::close_stderr() noexcept { close_fd(stderr_); }

long Child::write_some(std::string_view data) noexcept {
  if (stdin_ < 0) return -1;
  // Block SIGPIPE in this thread for the write, and swallow the one it may
  // raise: a dead worker must be an error code, not the end of the parent.
  sigset_t pipe_signal, previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  ssize_t n;
  do {
    n = ::write(stdin_, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  const int error = errno;
  if (n < 0 && error == EPIPE) {
    const timespec zero{0, 0};
    while (::sigtimedwait(&pipe_signal, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (n >= 0) return static_cast<long>(n);
  if (error == EAGAIN || error == EWOULDBLOCK) return 0;
  return -1;
}

long Child::read_available(int fd, std::string& out, std::size_t limit) {
  if (fd < 0) return 0;
  const std::size_t old_size = out.size();
  const std::size_t chunk = std::min<std::size_t>(limit, 1 << 16);
  out.resize(old_size + chunk);
  ssize_t n;
  do {
    n = ::read(fd, out.data() + old_size, chunk);
  } while (n < 0 && errno == EINTR);
  out.resize(old_size + (n > 0 ? static_cast<std::size_t>(n) : 0));
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : 0;
  return static_cast<long>(n);
}

void Child::kill_group() noexcept {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);  // in case it left its group
  }
}

std::optional<int> Child::try_wait() noexcept {
  if (status_ || pid_ <= 0) return status_;
  // Look without reaping first: while the child is a zombie its pid (the
  // group's id) cannot be reused, so killing what it started hits nothing else.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != pid_) {
    return std::nullopt;
  }
  return wait();
}

std::optional<int> Child::wait_for(std::chrono::milliseconds patience) noexcept {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    if (auto s = try_wait()) return s;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
}

int Child::wait() noexcept {
  if (status_ || pid_ <= 0) return status_.value_or(0);
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) != 0 &&
         errno == EINTR) {
  }
  ::kill(-pid_, SIGKILL);  // whatever the child started dies with it
  unlist_group(pid_);
  ChildGuard::instance().reaping(pid_);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  status_ = r == pid_ ? status : 0;
  return *status_;
}

void kill_every_child_group() noexcept {
  for (const auto& slot : live_groups) {
    if (const pid_t pid = slot.load(); pid > 0) ::kill(-pid, SIGKILL);
  }
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int s = WTERMSIG(status);
    const char* name = sigabbrev_np(s);
    return name != nullptr ? fmt::format("killed by signal {} (SIG{})", s, name)
                           : fmt::format("killed by signal {}", s);
  }
  return fmt::format("ended with wait status {}", status);
}

void Tail::append(std::string_view text) {
  if (text.size() >= capacity_) {
    text_.assign(text.substr(text.size() - capacity_));
    return;
  }
  text_ += text;
  if (text_.size() > 2 * capacity_) text_.erase(0, text_.size() - capacity_);
}

std::string Tail::text() const {
  if (text_.size() <= capacity_) return text_;
  return text_.substr(text_.size() - capacity_);
}

std::filesystem::path current_executable() {
  return std::filesystem::read_symlink("/proc/self/exe");
}

}  // namespace taskmaster::subprocess
