#include "watch_command.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <system_error>

#include "../config.hpp"

namespace taskmaster::cli::watch {

int watch_command(const std::filesystem::path& history, const LiveOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(history, ec))
    throw UsageError(
        fmt::format("HISTORY: {} is a directory, not a history file", history.string()));
  // The signals are taken by this thread alone (the server's threads inherit
  // the mask), which waits for them: no handler runs inside the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  LiveServer server(history, options);
  server.start();
  if (!std::filesystem::exists(history, ec)) {
    fmt::print(stderr,
               "taskmaster: {} does not exist yet; the page shows it once a run writes it\n",
               history.string());
  }
  fmt::print(stderr, "taskmaster: live view of {} at {}\n(Ctrl-C to stop)\n", history.string(),
             server.url());
  std::fflush(stderr);
  int signal = 0;
  sigwait(&signals, &signal);
  server.stop();
  fmt::print(stderr, "taskmaster: live view stopped\n");
  return 0;
}

}  // namespace taskmaster::cli::watch
