#pragma once
// The binary encoding of inputs and outputs between ProcessMaster and its
// workers (docs/worker-protocol.md, "binary frames"). Both ends are the same
// program on the same machine, so values travel in native byte order:
//
//   arithmetic types   their bytes (sizeof(T))
//   std::string        u64 length, then the bytes
//   std::vector<T>     u64 count, then the elements
//   std::array<T, N>   the N elements
//   std::pair, tuple   the members in order
//
// Any other type travels once `taskmaster::BinaryCodec<T>` is specialised
// with `static void encode(std::string& out, const T&)` and
// `static T decode(BinaryReader&)`.

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace taskmaster {

/// The bytes did not hold the value expected.
///
/// @code
/// taskmaster::BinaryReader reader("ab");
/// reader.read<std::uint64_t>();  // throws BinaryCodecError: needs 8 more bytes, 2 left
/// @endcode
class BinaryCodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads values one after the other from a byte buffer.
///
/// @code
/// taskmaster::BinaryReader reader(bytes);
/// auto n = reader.read<std::uint64_t>();
/// auto text = reader.bytes(n);
/// @endcode
class BinaryReader {
 public:
  explicit BinaryReader(std::string_view data) : data_(data) {}

  /// The next `n` bytes.
  std::string_view bytes(std::size_t n) {
    if (n > data_.size() - pos_) {
      throw BinaryCodecError(
          fmt::format("a value needs {} more bytes, only {} are left", n, data_.size() - pos_));
    }
    auto out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  /// A trivially copyable value, in native byte order.
  template <class T>
  requires std::is_trivially_copyable_v<T> T read() {
    T value;
    std::memcpy(&value, bytes(sizeof(T)).data(), sizeof(T));
    return value;
  }

  [[nodiscard]] std::size_t left() const noexcept { return data_.size() - pos_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

/// Appends a trivially copyable value's bytes.
template <class T>
requires std::is_trivially_copyable_v<T>
void append_bytes(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

/// How T travels in binary; specialise it for your own types.
///
/// @code
/// struct Point { double x, y; std::string label; };
/// template <>
/// struct taskmaster::BinaryCodec<Point> {
///   static void encode(std::string& out, const Point& p) {
///     binary_encode(out, p.x); binary_encode(out, p.y); binary_encode(out, p.label);
///   }
///   static Point decode(BinaryReader& in) {
///     double x = binary_decode<double>(in), y = binary_decode<double>(in);
///     return {x, y, binary_decode<std::string>(in)};
///   }
/// };
/// @endcode
template <class T, class = void>
struct BinaryCodec {
  static_assert(sizeof(T) == 0,
                "no binary encoding for this type: specialise taskmaster::BinaryCodec<T>");
};

template <class T>
void binary_encode(std::string& out, const T& value) {
  BinaryCodec<T>::encode(out, value);
}

template <class T>
T binary_decode(BinaryReader& in) {
  return BinaryCodec<T>::decode(in);
}

template <class T>
struct BinaryCodec<T, std::enable_if_t<std::is_arithmetic_v<T>>> {
  static void encode(std::string& out, T value) { append_bytes(out, value); }
  static T decode(BinaryReader& in) { return in.read<T>(); }
};

template <>
struct BinaryCodec<std::string> {
  static void encode(std::string& out, const std::string& value) {
    append_bytes(out, static_cast<std::uint64_t>(value.size()));
    out += value;
  }
  static std::string decode(BinaryReader& in) {
    const auto n = in.read<std::uint64_t>();
    return std::string(in.bytes(static_cast<std::size_t>(n)));
  }
};

template <class T, class A>
struct BinaryCodec<std::vector<T, A>> {
  static void encode(std::string& out, const std::vector<T, A>& values) {
    append_bytes(out, static_cast<std::uint64_t>(values.size()));
    if constexpr (std::is_arithmetic_v<T>) {
      if (!values.empty()) {
        out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
      }
    } else {
      for (const auto& v : values) binary_encode(out, v);
    }
  }
  static std::vector<T, A> decode(BinaryReader& in) {
    const auto n = static_cast<std::size_t>(in.read<std::uint64_t>());
    std::vector<T, A> values;
    if constexpr (std::is_arithmetic_v<T>) {
      if (n > in.left() / sizeof(T)) {
        throw BinaryCodecError(
            fmt::format("a vector of {} values cannot fit in {} bytes", n, in.left()));
      }
      const auto raw = in.bytes(n * sizeof(T));
      values.resize(n);
      if (n != 0) std::memcpy(values.data(), raw.data(), raw.size());
    } else {
      if (n > in.left()) {
        throw BinaryCodecError(
            fmt::format("a vector of {} values cannot fit in {} bytes", n, in.left()));
      }
      values.reserve(n);
      for (std::size_t i = 0; i < n; ++i) values.push_back(binary_decode<T>(in));
    }
    return values;
  }
};

template <class T, std::size_t N>
struct BinaryCodec<std::array<T, N>> {
  static void encode(std::string& out, const std::array<T, N>& values) {
    for (const auto& v : values) binary_encode(out, v);
  }
  static std::array<T, N> decode(BinaryReader& in) {
    std::array<T, N> values{};
    for (auto& v : values) v = binary_decode<T>(in);
    return values;
  }
};

template <class... Ts>
struct BinaryCodec<std::tuple<Ts...>> {
  static void encode(std::string& out, const std::tuple<Ts...>& values) {
    std::apply([&out](const auto&... v) { (binary_encode(out, v), ...); }, values);
  }
  static std::tuple<Ts...> decode(BinaryReader& in) {
    // Braced initialisation evaluates left to right, as the bytes were written.
    return std::tuple<Ts...>{binary_decode<Ts>(in)...};
  }
};

template <class A, class B>
struct BinaryCodec<std::pair<A, B>> {
  static void encode(std::string& out, const std::pair<A, B>& value) {
    binary_encode(out, value.first);
    binary_encode(out, value.second);
  }
  static std::pair<A, B> decode(BinaryReader& in) {
    A a = binary_decode<A>(in);
    B b = binary_decode<B>(in);
    return {std::move(a), std::move(b)};
  }
};

}  // namespace taskmaster
