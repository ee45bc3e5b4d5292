#pragma once
// The worker protocol of StdioMaster, version 1 (docs/worker-protocol.md):
// one JSON object per line on the worker's stdin and stdout.
//
//   worker -> master   {"hello":"taskmaster-worker","protocol":1}
//   master -> worker   {"id":7,"x":0.25}
//   worker -> master   {"id":7,"y":1.5}    or    {"id":7,"error":"why"}
//
// Inputs and outputs are written as in history files (history/codec.hpp):
// numbers read back bit for bit, NaN and infinities as "nan", "inf", "-inf".

#include <fmt/format.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/json_text.hpp"
#include "taskmaster/masters/worker_pool.hpp"

namespace taskmaster {

/// The version of the JSON Lines worker protocol this build speaks.
inline constexpr int worker_protocol_version = 1;

namespace detail {

/// Shortens text quoted in an error message.
inline std::string excerpt(std::string_view text, std::size_t limit = 200) {
  if (text.size() <= limit) return std::string(text);
  return fmt::format("{}... ({} bytes)", text.substr(0, limit), text.size());
}

/// Writes tasks and reads replies as JSON lines.
template <class X, class Y>
struct JsonLinesWire {
  static void write_task(std::string& out, TaskId id, const X& x) {
    fmt::format_to(std::back_inserter(out), "{{\"id\":{},\"x\":", id);
    taskmaster::encode(out, x);
    out += "}\n";
  }

  static WireMessage<Y> read(std::string_view in, bool greeted, std::size_t limit) {
    using Kind = typename WireMessage<Y>::Kind;
    WireMessage<Y> m;
    const auto end = in.find('\n');
    if (end == std::string_view::npos) {
      if (in.size() > limit) {
        m.kind = Kind::violation;
        m.error = fmt::format("a line longer than the limit of {} bytes", limit);
      }
      return m;
    }
    m.consumed = end + 1;
    std::string_view line = in.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      m.kind = Kind::ignore;
      return m;
    }
    if (line.size() > limit) {
      m.kind = Kind::violation;
      m.error = fmt::format("a line longer than the limit of {} bytes", limit);
      return m;
    }
    if (json_nesting_exceeds(line)) {
      m.kind = Kind::violation;
      m.error = fmt::format("sent JSON nested deeper than {} levels: '{}'", max_json_depth,
                            excerpt(line));
      return m;
    }
    const auto j = parse_json(line);
    if (j.is_discarded() || !j.is_object()) {
      m.kind = Kind::violation;
      m.error = fmt::format("sent a line that is not a JSON object: '{}'", excerpt(line));
      return m;
    }
    if (!greeted) {
      m.kind = Kind::hello;
      const auto hello = j.find("hello");
      const auto protocol = j.find("protocol");
      if (hello == j.end() || *hello != "taskmaster-worker" || protocol == j.end()) {
        m.error = fmt::format(
            "expected the hello {{\"hello\":\"taskmaster-worker\",\"protocol\":{}}}, got '{}'",
            worker_protocol_version, excerpt(line));
      } else if (*protocol != worker_protocol_version) {
        m.error = fmt::format("speaks protocol {}, this master speaks {}", json_excerpt(*protocol),
                              worker_protocol_version);
      }
      return m;
    }
    const auto id = j.find("id");
    if (id == j.end() || !id->is_number_unsigned()) {
      m.kind = Kind::violation;
      m.error = fmt::format("sent a reply without a task id: '{}'", excerpt(line));
      return m;
    }
    m.kind = Kind::reply;
    m.id = id->get<TaskId>();
    if (const auto error = j.find("error"); error != j.end()) {
      m.error = error->is_string() ? error->get<std::string>() : json_excerpt(*error);
      if (m.error.empty()) m.error = "failed (empty error message)";
      return m;
    }
    const auto y = j.find("y");
    if (y == j.end()) {
      m.kind = Kind::violation;
      m.error = fmt::format("sent a reply with neither \"y\" nor \"error\": '{}'", excerpt(line));
      return m;
    }
    try {
      m.y = taskmaster::decode<Y>(*y);
    } catch (const std::exception& e) {
      m.error = fmt::format("returned a y that does not fit the output type: {}", e.what());
    }
    return m;
  }
};

}  // namespace detail
}  // namespace taskmaster
