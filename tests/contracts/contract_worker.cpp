// The worker program of the master contract's out-of-process masters: it runs
// a contract evaluation (contract_evaluations.hpp) as each of them expects.
//
//   contract_worker --command <name> <x>           CommandMaster: one x, printed result
//   contract_worker --stdio <name>                 StdioMaster: JSON Lines worker
//   contract_worker --taskmaster-process-worker=<name>   ProcessMaster worker
//
// The overlap file comes from $TASKMASTER_CONTRACT_OVERLAP_FILE.

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "contracts/contract_evaluations.hpp"
#include "taskmaster/masters/process_worker.hpp"
#include "taskmaster/masters/stdio_worker.hpp"

namespace {

contract::OverlapFile overlap_file() {
  const char* path = std::getenv(contract::overlap_file_variable);
  return contract::OverlapFile(path != nullptr ? path : "");
}

/// CommandMaster's side: the result on stdout, or `{"error": reason}`.
int run_command(std::string_view name, const char* x_text) {
  char* end = nullptr;
  const double x = std::strtod(x_text, &end);
  if (end == x_text || *end != '\0') {
    std::fprintf(stderr, "contract_worker: not a number: '%s'\n", x_text);
    return 2;
  }
  try {
    fmt::print("{}\n", contract::evaluate(name, x, overlap_file()));
  } catch (const std::exception& e) {
    fmt::print("{{\"error\": {}}}\n", nlohmann::json(std::string(e.what())).dump());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (const auto name : contract::evaluation_names) {
    auto evaluate = [name, overlap = overlap_file()](double x) {
      return contract::evaluate(name, x, overlap);
    };
    if (auto code = taskmaster::process_worker_entry<double, double>(argc, argv, name, evaluate)) {
      return *code;
    }
  }
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "--command" && argc == 4) return run_command(argv[2], argv[3]);
  if (mode == "--stdio" && argc == 3) {
    const std::string name = argv[2];
    return taskmaster::serve_json_lines<double, double>(
        [&name, overlap = overlap_file()](double x) {
          return contract::evaluate(name, x, overlap);
        });
  }
  std::fprintf(stderr,
               "usage: contract_worker --command <name> <x> | --stdio <name> | "
               "--taskmaster-process-worker=<name>\n");
  return 2;
}
