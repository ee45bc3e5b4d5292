#pragma once
// The binary frames between ProcessMaster and its workers
// (docs/worker-protocol.md, "binary frames"). Every frame is a u32 length
// followed by that many bytes:
//
//   worker -> master   hello:  "TMPW", u32 version
//   master -> worker   task:   u64 id, x
//   worker -> master   reply:  u64 id, u8 0, y      or   u64 id, u8 1, error text

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "taskmaster/masters/binary_codec.hpp"
#include "taskmaster/masters/worker_pool.hpp"

namespace taskmaster {

/// The version of the binary frame protocol this build speaks.
inline constexpr std::uint32_t binary_protocol_version = 1;

namespace detail {

inline constexpr std::string_view binary_hello_magic = "TMPW";

/// Appends a frame holding `payload`.
inline void append_frame(std::string& out, std::string_view payload) {
  append_bytes(out, static_cast<std::uint32_t>(payload.size()));
  out += payload;
}

/// Starts a frame whose payload the caller appends; `finish_frame` fills in
/// its length.
inline std::size_t begin_frame(std::string& out) {
  const std::size_t at = out.size();
  append_bytes(out, std::uint32_t{0});
  return at;
}

inline void finish_frame(std::string& out, std::size_t at) {
  const auto length = static_cast<std::uint32_t>(out.size() - at - sizeof(std::uint32_t));
  std::memcpy(out.data() + at, &length, sizeof(length));
}

/// The hello frame a worker sends first.
inline std::string binary_hello() {
  std::string payload(binary_hello_magic);
  append_bytes(payload, binary_protocol_version);
  std::string frame;
  append_frame(frame, payload);
  return frame;
}

/// Writes tasks and reads replies as binary frames.
template <class X, class Y>
struct BinaryWire {
  static void write_task(std::string& out, TaskId id, const X& x) {
    const std::size_t at = begin_frame(out);
    append_bytes(out, static_cast<std::uint64_t>(id));
    binary_encode(out, x);
    finish_frame(out, at);
  }

  static WireMessage<Y> read(std::string_view in, bool greeted, std::size_t limit) {
    using Kind = typename WireMessage<Y>::Kind;
    WireMessage<Y> m;
    if (in.size() < sizeof(std::uint32_t)) return m;
    std::uint32_t length;
    std::memcpy(&length, in.data(), sizeof(length));
    if (length > limit) {
      m.kind = Kind::violation;
      m.error = fmt::format("announced a message of {} bytes, over the limit of {}", length, limit);
      return m;
    }
    if (in.size() < sizeof(length) + length) return m;
    m.consumed = sizeof(length) + length;
    const std::string_view payload = in.substr(sizeof(length), length);
    if (!greeted) {
      m.kind = Kind::hello;
      if (payload.size() != binary_hello_magic.size() + sizeof(std::uint32_t) ||
          payload.substr(0, binary_hello_magic.size()) != binary_hello_magic) {
        m.error = "did not start with the binary hello (is it a taskmaster process worker?)";
        return m;
      }
      std::uint32_t version;
      std::memcpy(&version, payload.data() + binary_hello_magic.size(), sizeof(version));
      if (version != binary_protocol_version) {
        m.error = fmt::format("speaks binary protocol {}, this master speaks {}", version,
                              binary_protocol_version);
      }
      return m;
    }
    try {
      BinaryReader reader(payload);
      m.id = reader.read<std::uint64_t>();
      const auto status = reader.read<std::uint8_t>();
      m.kind = Kind::reply;
      if (status == 1) {
        m.error = std::string(reader.bytes(reader.left()));
        if (m.error.empty()) m.error = "failed (empty error message)";
      } else if (status == 0) {
        m.y = binary_decode<Y>(reader);
        if (reader.left() != 0) {
          m.y.reset();
          m.error = fmt::format("returned {} bytes more than its output type holds", reader.left());
        }
      } else {
        m.kind = Kind::violation;
        m.error = fmt::format("sent a reply with the unknown status {}", status);
      }
    } catch (const BinaryCodecError& e) {
      m.kind = Kind::violation;
      m.error = fmt::format("sent a malformed reply: {}", e.what());
    }
    return m;
  }
};

}  // namespace detail
}  // namespace taskmaster
