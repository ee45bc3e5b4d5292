#pragma once
// The worker side of StdioMaster for C++ programs: serve a function over the
// JSON Lines worker protocol (docs/worker-protocol.md).

#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/json_text.hpp"
#include "taskmaster/masters/json_lines_wire.hpp"

namespace taskmaster {

/// Says hello, then answers every task line on `in` with `f(x)` on `out`
/// until `in` ends; returns the exit code for main. An exception from `f`, or
/// an x that does not decode, is an error reply and the worker goes on; a
/// line that is not a task ends the worker with status 2 (the master will
/// start another).
///
/// @code
/// int main() {
///   return taskmaster::serve_json_lines<double, double>([](double x) { return x * x; });
/// }
/// @endcode
template <class X, class Y, class F>
int serve_json_lines(F&& f, std::istream& in = std::cin, std::ostream& out = std::cout) {
  std::ios::sync_with_stdio(false);
  out << fmt::format("{{\"hello\":\"taskmaster-worker\",\"protocol\":{}}}\n",
                     worker_protocol_version)
      << std::flush;
  std::string line;
  std::string reply;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto task = parse_json(line);
    if (task.is_discarded() || !task.is_object() || !task.contains("id") ||
        !task["id"].is_number_unsigned() || !task.contains("x")) {
      std::cerr << "not a task: " << detail::excerpt(line) << "\n";
      return 2;
    }
    const auto id = task["id"].get<TaskId>();
    reply = fmt::format("{{\"id\":{},", id);
    try {
      const Y y = f(taskmaster::decode<X>(task["x"]));
      reply += "\"y\":";
      taskmaster::encode(reply, y);
    } catch (const std::exception& e) {
      reply.resize(reply.find(',') + 1);
      reply += "\"error\":" + nlohmann::json(std::string(e.what())).dump();
    }
    reply += "}\n";
    out << reply << std::flush;
  }
  return 0;
}

}  // namespace taskmaster
