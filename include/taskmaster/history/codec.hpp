#pragma once
// How inputs and outputs are written to and read from a history file.
//
// Numbers are written so that they read back bit for bit (shortest
// round-trip form), and non-finite floats, which JSON cannot express, are
// written as the strings "nan", "inf" and "-inf". Supported out of the box:
// arithmetic types, std::string, std::vector, std::array, std::pair,
// std::tuple and std::optional of those. Any other type works if
// nlohmann::json can convert it (to_json/from_json found by ADL), or if
// `taskmaster::Codec<T>` is specialised for it.

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskmaster/history/json_text.hpp"

namespace taskmaster {

/// A value in a history file did not have the expected shape.
class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Encodes T as JSON text and decodes it from parsed JSON. The primary
/// template defers to nlohmann::json's own conversions.
template <class T, class = void>
struct Codec {
  static void encode(std::string& out, const T& value) { out += nlohmann::json(value).dump(); }
  static T decode(const nlohmann::json& j) {
    try {
      return j.get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw CodecError(
          fmt::format("cannot read {} as the expected type: {}", json_excerpt(j), e.what()));
    }
  }
};

template <class T>
void encode(std::string& out, const T& value) {
  Codec<T>::encode(out, value);
}

template <class T>
std::string encode(const T& value) {
  std::string out;
  Codec<T>::encode(out, value);
  return out;
}

template <class T>
T decode(const nlohmann::json& j) {
  return Codec<T>::decode(j);
}

template <>
struct Codec<bool> {
  static void encode(std::string& out, bool value) { out += value ? "true" : "false"; }
  static bool decode(const nlohmann::json& j) {
    if (!j.is_boolean())
      throw CodecError(fmt::format("expected true or false, got {}", json_excerpt(j)));
    return j.get<bool>();
  }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static void encode(std::string& out, T value) {
    fmt::format_to(std::back_inserter(out), "{}", value);
  }
  static T decode(const nlohmann::json& j) {
    if (j.is_number_unsigned()) {
      auto v = j.get<std::uint64_t>();
      if (v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(v);
    } else if (j.is_number_integer()) {
      auto v = j.get<std::int64_t>();
      if (v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
          (v < 0 || static_cast<std::uint64_t>(v) <=
                        static_cast<std::uint64_t>(std::numeric_limits<T>::max()))) {
        return static_cast<T>(v);
      }
    }
    throw CodecError(fmt::format("expected an integer in range, got {}", json_excerpt(j)));
  }
};

template <class T>
struct Codec<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static void encode(std::string& out, T value) {
    if (std::isnan(value)) {
      out += "\"nan\"";
    } else if (std::isinf(value)) {
      out += value > 0 ? "\"inf\"" : "\"-inf\"";
    } else if (value == 0 && std::signbit(value)) {
      out += "-0.0";  // "-0" would read back as the integer 0
    } else {
      // fmt's default form is the shortest text that reads back to the same value.
      fmt::format_to(std::back_inserter(out), "{}", value);
    }
  }
  static T decode(const nlohmann::json& j) {
    if (j.is_number()) return j.get<T>();
    if (j.is_string()) {
      const auto& s = j.get_ref<const std::string&>();
      if (s == "nan") return std::numeric_limits<T>::quiet_NaN();
      if (s == "inf") return std::numeric_limits<T>::infinity();
      if (s == "-inf") return -std::numeric_limits<T>::infinity();
    }
    throw CodecError(
        fmt::format("expected a number, \"nan\", \"inf\" or \"-inf\", got {}", json_excerpt(j)));
  }
};

template <>
struct Codec<std::string> {
  static void encode(std::string& out, const std::string& value) {
    out += nlohmann::json(value).dump();
  }
  static std::string decode(const nlohmann::json& j) {
    if (!j.is_string()) throw CodecError(fmt::format("expected a string, got {}", json_excerpt(j)));
    return j.get<std::string>();
  }
};

namespace detail {
template <class Range>
void encode_sequence(std::string& out, const Range& values) {
  out += '[';
  bool first = true;
  for (const auto& v : values) {
    if (!first) out += ',';
    first = false;
    encode(out, v);
  }
  out += ']';
}

inline const nlohmann::json& expect_array(const nlohmann::json& j, std::size_t size_or_zero) {
  if (!j.is_array())
    throw CodecError(fmt::format("expected a JSON array, got {}", json_excerpt(j)));
  if (size_or_zero != 0 && j.size() != size_or_zero) {
    throw CodecError(fmt::format("expected an array of {} values, got {} in {}", size_or_zero,
                                 j.size(), json_excerpt(j)));
  }
  return j;
}
}  // namespace detail

template <class T, class A>
struct Codec<std::vector<T, A>> {
  static void encode(std::string& out, const std::vector<T, A>& values) {
    detail::encode_sequence(out, values);
  }
  static std::vector<T, A> decode(const nlohmann::json& j) {
    detail::expect_array(j, 0);
    std::vector<T, A> values;
    values.reserve(j.size());
    for (const auto& item : j) values.push_back(taskmaster::decode<T>(item));
    return values;
  }
};

template <class T, std::size_t N>
struct Codec<std::array<T, N>> {
  static void encode(std::string& out, const std::array<T, N>& values) {
    detail::encode_sequence(out, values);
  }
  static std::array<T, N> decode(const nlohmann::json& j) {
    detail::expect_array(j, N);
    std::array<T, N> values{};
    for (std::size_t i = 0; i < N; ++i) values[i] = taskmaster::decode<T>(j[i]);
    return values;
  }
};

template <class... Ts>
struct Codec<std::tuple<Ts...>> {
  static void encode(std::string& out, const std::tuple<Ts...>& values) {
    out += '[';
    std::apply(
        [&out](const auto&... v) {
          bool first = true;
          ((out += first ? "" : ",", first = false, taskmaster::encode(out, v)), ...);
        },
        values);
    out += ']';
  }
  static std::tuple<Ts...> decode(const nlohmann::json& j) {
    detail::expect_array(j, sizeof...(Ts));
    return [&j]<std::size_t... I>(std::index_sequence<I...>) {
      return std::tuple<Ts...>(taskmaster::decode<Ts>(j[I])...);
    }
    (std::index_sequence_for<Ts...>{});
  }
};

template <class A, class B>
struct Codec<std::pair<A, B>> {
  static void encode(std::string& out, const std::pair<A, B>& value) {
    Codec<std::tuple<A, B>>::encode(out, std::tuple<A, B>(value.first, value.second));
  }
  static std::pair<A, B> decode(const nlohmann::json& j) {
    auto [a, b] = Codec<std::tuple<A, B>>::decode(j);
    return {std::move(a), std::move(b)};
  }
};

template <class T>
struct Codec<std::optional<T>> {
  static void encode(std::string& out, const std::optional<T>& value) {
    if (value) {
      taskmaster::encode(out, *value);
    } else {
      out += "null";
    }
  }
  static std::optional<T> decode(const nlohmann::json& j) {
    if (j.is_null()) return std::nullopt;
    return taskmaster::decode<T>(j);
  }
};

}  // namespace taskmaster
