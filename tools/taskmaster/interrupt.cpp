#include "interrupt.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "taskmaster/detail/subprocess.hpp"

namespace taskmaster::cli {
namespace {

// 0 running, 1 no new points (draining), 2 the tasks in flight given up.
std::atomic<int> stage{0};
// The signal that first stopped the run (0: none).
std::atomic<int> stopped_by{0};
// Written before the handlers are installed, only read inside them.
char last_press_message[1024];
std::size_t last_press_length = 0;
constexpr int handled_signals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction previous[3]{};

void say(const char* text, std::size_t length) {
  [[maybe_unused]] auto w = ::write(STDERR_FILENO, text, length);
}

template <std::size_t N>
void say(const char (&text)[N]) {
  say(text, N - 1);
}

/// Once the terminal is gone its descriptors fail every write; the run still
/// has to end and say so, to /dev/null rather than by an error.
void detach_from_a_hung_up_terminal() {
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null < 0) return;
  for (int fd : {STDOUT_FILENO, STDERR_FILENO}) {
    if (::isatty(fd) != 0) ::dup2(null, fd);
  }
  ::close(null);
}

void on_signal(int signal) {
  int none = 0;
  stopped_by.compare_exchange_strong(none, signal);
  if (signal == SIGHUP) detach_from_a_hung_up_terminal();
  // Ctrl-C escalates one step at a time; SIGTERM and SIGHUP (a batch
  // system's or a closed terminal's way to say "end now") give up the tasks
  // in flight at once, and exit at once when repeated.
  int now = stage.load();
  int next = 0;
  do {
    next = signal == SIGINT ? now + 1 : std::max(now + 1, 2);
  } while (!stage.compare_exchange_weak(now, next));
  if (next == 1) {
    say("\ntaskmaster: interrupted: no new points; waiting for the tasks in flight "
        "(Ctrl-C again gives them up)\n");
  } else if (next == 2) {
    // The programs in flight die here; the master then reports them and the
    // tool's master wrapper ends the run (see AbandonableMaster). Masters
    // without child processes (SLURM) look at abandoned() themselves.
    if (signal == SIGINT) {
      say("\ntaskmaster: giving up the tasks in flight (Ctrl-C again exits at once)\n");
    } else if (signal == SIGTERM) {
      say("\ntaskmaster: terminated (SIGTERM): giving up the tasks in flight\n");
    } else {
      say("\ntaskmaster: hung up (SIGHUP): giving up the tasks in flight\n");
    }
    subprocess::kill_every_child_group();
  } else {
    // Everything recorded so far is on disk (one write per event); the
    // abandoned points are asked again on resume.
    subprocess::kill_every_child_group();
    say(last_press_message, last_press_length);
    ::_exit(128 + stopped_by.load());
  }
}

}  // namespace

InterruptGuard::InterruptGuard(const std::string& resume_hint) {
  const std::string text = "\ntaskmaster: exiting; to carry on: " + resume_hint + "\n";
  last_press_length = std::min(text.size(), sizeof last_press_message);
  std::memcpy(last_press_message, text.data(), last_press_length);
  stage = 0;
  stopped_by = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  // One handler at a time: a SIGTERM arriving during a Ctrl-C's handler waits.
  for (int s : handled_signals) sigaddset(&action.sa_mask, s);
  action.sa_flags = SA_RESTART;
  for (std::size_t i = 0; i < std::size(handled_signals); ++i) {
    sigaction(handled_signals[i], &action, &previous[i]);
  }
}

InterruptGuard::~InterruptGuard() {
  for (std::size_t i = 0; i < std::size(handled_signals); ++i) {
    sigaction(handled_signals[i], &previous[i], nullptr);
  }
}

bool InterruptGuard::interrupted() noexcept { return stage.load() > 0; }

bool InterruptGuard::abandoned() noexcept { return stage.load() > 1; }

int InterruptGuard::signal() noexcept { return stopped_by.load(); }

}  // namespace taskmaster::cli
