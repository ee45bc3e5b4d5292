#pragma once
// Which processes are alive, read from /proc: for tests that check that no
// worker outlives its master. Not part of the library; declared in the
// namespace of the process plumbing it checks, under the names the tests use.

#include <dirent.h>
#include <fmt/format.h>
#include <sys/types.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "taskmaster/detail/subprocess.hpp"

namespace taskmaster::subprocess {

/// Whether a process is alive (running or sleeping, not a zombie).
inline bool is_alive(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string line;
  if (!std::getline(stat, line)) return false;
  // The state follows the command name, which is in parentheses and may
  // itself hold spaces or parentheses.
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

/// The pids of live processes whose command line contains `marker`.
inline std::vector<pid_t> live_processes_with(std::string_view marker) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) continue;
    std::ifstream cmdline(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
    std::ostringstream text;
    text << cmdline.rdbuf();
    if (text.str().find(marker) != std::string::npos && is_alive(static_cast<pid_t>(pid))) {
      found.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(proc);
  return found;
}

}  // namespace taskmaster::subprocess
