#include "interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace taskmaster::cli {
namespace {

std::atomic<int> presses{0};
// Written before the handler is installed, only read inside it.
char second_press_message[1024];
std::size_t second_press_length = 0;
struct sigaction previous {};

void on_sigint(int) {
  const int n = presses.fetch_add(1) + 1;
  if (n == 1) {
    constexpr char first[] =
        "\ntaskmaster: interrupted: no new points; waiting for the tasks in flight "
        "(Ctrl-C again abandons them)\n";
    [[maybe_unused]] auto w = ::write(STDERR_FILENO, first, sizeof first - 1);
  } else {
    // Everything recorded so far is on disk (one write per event); the
    // abandoned points are asked again on resume.
    [[maybe_unused]] auto w = ::write(STDERR_FILENO, second_press_message, second_press_length);
    ::_exit(130);
  }
}

}  // namespace

InterruptGuard::InterruptGuard(const std::string& resume_hint) {
  const std::string text =
      "\ntaskmaster: abandoned the tasks in flight; to carry on: " + resume_hint + "\n";
  second_press_length = std::min(text.size(), sizeof second_press_message);
  std::memcpy(second_press_message, text.data(), second_press_length);
  presses = 0;
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous);
}

InterruptGuard::~InterruptGuard() { sigaction(SIGINT, &previous, nullptr); }

bool InterruptGuard::interrupted() noexcept { return presses.load() > 0; }

}  // namespace taskmaster::cli
