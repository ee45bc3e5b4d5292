// A C++ worker for the StdioMaster tests, made with serve_json_lines:
// y = 3 x, and an error reply for negative x.

#include <stdexcept>

#include "taskmaster/masters/stdio_worker.hpp"

int main() {
  return taskmaster::serve_json_lines<double, double>([](double x) {
    if (x < 0) throw std::domain_error("negative input");
    return 3 * x;
  });
}
