#pragma once
// The worker side of ProcessMaster: serving a C++ function over binary
// frames on stdin and stdout.

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "taskmaster/masters/binary_codec.hpp"
#include "taskmaster/masters/binary_wire.hpp"

namespace taskmaster {

/// The argument that turns a program into a ProcessMaster worker for one of
/// its functions: `--taskmaster-process-worker=<name>`.
inline constexpr std::string_view process_worker_flag = "--taskmaster-process-worker=";

namespace detail {
/// Writes all of `data` or gives up (the master is gone).
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}
}  // namespace detail

/// Answers the binary task frames on `in_fd` with `f(x)` on `out_fd` until
/// `in_fd` ends; returns the exit code for main. An exception thrown by `f`
/// becomes an error reply and the worker goes on.
///
/// @code
/// int main() { return taskmaster::serve_process_worker<double, double>([](double x) { return x *
/// x; }); }
/// @endcode
template <class X, class Y, class F>
int serve_process_worker(F&& f, int in_fd = STDIN_FILENO, int out_fd = STDOUT_FILENO) {
  if (!detail::write_all(out_fd, detail::binary_hello())) return 1;
  std::string in;
  std::size_t pos = 0;
  std::string out;
  char chunk[1 << 16];
  for (;;) {
    while (in.size() - pos >= sizeof(std::uint32_t)) {
      std::uint32_t length;
      std::memcpy(&length, in.data() + pos, sizeof(length));
      if (in.size() - pos - sizeof(length) < length) break;
      BinaryReader reader(std::string_view(in).substr(pos + sizeof(length), length));
      pos += sizeof(length) + length;
      const auto id = reader.read<std::uint64_t>();
      const std::size_t at = detail::begin_frame(out);
      append_bytes(out, id);
      const std::size_t status_at = out.size();
      try {
        X x = binary_decode<X>(reader);
        Y y = f(x);
        append_bytes(out, std::uint8_t{0});
        binary_encode(out, y);
      } catch (const std::exception& e) {
        out.resize(status_at);
        append_bytes(out, std::uint8_t{1});
        out += e.what();
      } catch (...) {
        out.resize(status_at);
        append_bytes(out, std::uint8_t{1});
        out += "unknown exception";
      }
      detail::finish_frame(out, at);
    }
    if (!out.empty()) {
      if (!detail::write_all(out_fd, out)) return 1;
      out.clear();
    }
    if (pos == in.size()) {
      in.clear();
      pos = 0;
    } else if (pos > (1 << 16)) {
      in.erase(0, pos);
      pos = 0;
    }
    const ssize_t n = ::read(in_fd, chunk, sizeof(chunk));
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    in.append(chunk, static_cast<std::size_t>(n));
  }
}

/// Call first thing in main(): when the program was started as the
/// ProcessMaster worker for `name`, serves `f` and returns the exit code;
/// otherwise returns nothing and main goes on. The worker asks the kernel to
/// kill it if its parent thread dies, and ends when its stdin closes.
///
/// @code
/// double model(double x) { return x * x; }
/// int main(int argc, char** argv) {
///   if (auto code = taskmaster::process_worker_entry<double, double>(argc, argv, "model", model))
///     return *code;
///   taskmaster::ProcessMaster<double, double> master("model", {.workers = 4});
///   // ...
/// }
/// @endcode
template <class X, class Y, class F>
std::optional<int> process_worker_entry(int argc, char** argv, std::string_view name, F&& f) {
  if (argc < 2 ||
      std::string_view(argv[1]) != std::string(process_worker_flag) + std::string(name)) {
    return std::nullopt;
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  return serve_process_worker<X, Y>(f);
}

}  // namespace taskmaster
