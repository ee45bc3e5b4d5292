// A taskmaster worker written in C++: any function becomes a program that
// StdioMaster (or any other master speaking the JSON Lines worker protocol,
// docs/worker-protocol.md) can run, here a damped oscillation of a 2-d input.
//
//   ./cpp_worker        (started by the master; talks on stdin and stdout)
//
//   taskmaster::StdioMaster<std::array<double, 2>, double> master({"./cpp_worker"}, {.workers =
//   4});

#include <taskmaster/masters/stdio_worker.hpp>

#include <array>
#include <cmath>
#include <stdexcept>

namespace {
double damped_oscillation(const std::array<double, 2>& p) {
  const auto [t, damping] = p;
  if (damping < 0) throw std::domain_error("a negative damping makes no sense");
  return std::exp(-damping * t) * std::cos(10 * t);
}
}  // namespace

int main() {
  return taskmaster::serve_json_lines<std::array<double, 2>, double>(damped_oscillation);
}
