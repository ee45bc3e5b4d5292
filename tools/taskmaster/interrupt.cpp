#include "interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "taskmaster/masters/subprocess.hpp"

namespace taskmaster::cli {
namespace {

std::atomic<int> presses{0};
// Written before the handler is installed, only read inside it.
char last_press_message[1024];
std::size_t last_press_length = 0;
struct sigaction previous {};

void say(const char* text, std::size_t length) {
  [[maybe_unused]] auto w = ::write(STDERR_FILENO, text, length);
}

void on_sigint(int) {
  const int n = presses.fetch_add(1) + 1;
  if (n == 1) {
    constexpr char first[] =
        "\ntaskmaster: interrupted: no new points; waiting for the tasks in flight "
        "(Ctrl-C again gives them up)\n";
    say(first, sizeof first - 1);
  } else if (n == 2) {
    // The programs in flight die here; the master then reports them and the
    // tool's master wrapper ends the run (see AbandonableMaster). Masters
    // without child processes (SLURM) look at abandoned() themselves.
    constexpr char second[] =
        "\ntaskmaster: giving up the tasks in flight (Ctrl-C again exits at once)\n";
    say(second, sizeof second - 1);
    subprocess::kill_every_child_group();
  } else {
    // Everything recorded so far is on disk (one write per event); the
    // abandoned points are asked again on resume.
    subprocess::kill_every_child_group();
    say(last_press_message, last_press_length);
    ::_exit(130);
  }
}

}  // namespace

InterruptGuard::InterruptGuard(const std::string& resume_hint) {
  const std::string text = "\ntaskmaster: exiting; to carry on: " + resume_hint + "\n";
  last_press_length = std::min(text.size(), sizeof last_press_message);
  std::memcpy(last_press_message, text.data(), last_press_length);
  presses = 0;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &previous, nullptr); }

bool InterruptGuard::interrupted() noexcept { return presses.load() > 0; }

bool InterruptGuard::abandoned() noexcept { return presses.load() > 1; }

}  // namespace taskmaster::cli
