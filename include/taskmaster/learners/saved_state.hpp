#pragma once
// The one shape of a learner's saved state: an envelope naming the kind of
// learner and the version of its payload, numbers written one way, and one
// exception for a state that cannot be loaded.

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/json_text.hpp"

namespace taskmaster {

/// A saved state that cannot be loaded: of another kind of learner, written
/// by a newer version of the library, malformed, made for other parameters,
/// or loaded into a learner that already holds data. It is an
/// std::invalid_argument (the state is the argument that was refused), so
/// callers that caught that before still catch it.
///
/// @code
/// try {
///   learner.load(state);
/// } catch (const taskmaster::StateError& e) {
///   // e.expected_kind() == "Learner1D", e.found_kind() == "Learner2D", e.problem() ...
/// }
/// @endcode
class StateError : public std::invalid_argument {
 public:
  /// `version` is the one the state carries (0 when it has none).
  StateError(std::string expected_kind, std::string found_kind, int version, std::string problem)
      : std::invalid_argument(fmt::format("{}::load: {} (the state says kind {}, version {})",
                                          expected_kind, problem,
                                          found_kind.empty() ? "unknown" : found_kind, version)),
        expected_kind_(std::move(expected_kind)),
        found_kind_(std::move(found_kind)),
        version_(version),
        problem_(std::move(problem)) {}

  /// The kind of learner that was loading ("Learner1D").
  [[nodiscard]] const std::string& expected_kind() const noexcept { return expected_kind_; }
  /// The kind the state names; empty when it names none.
  [[nodiscard]] const std::string& found_kind() const noexcept { return found_kind_; }
  /// The version of the payload the state carries.
  [[nodiscard]] int version() const noexcept { return version_; }
  /// What was wrong, without the kind and version.
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

 private:
  std::string expected_kind_;
  std::string found_kind_;
  int version_;
  std::string problem_;
};

/// A number as a saved state holds it: finite numbers as JSON numbers (which
/// nlohmann::json prints so that they read back bit for bit), NaN and the
/// infinities, which JSON lacks, as the strings the history codec uses
/// ("nan", "inf", "-inf"), so `read_saved_number` and `decode<double>` read
/// every one back.
///
/// @code
/// nlohmann::json a = taskmaster::saved_number(0.1);       // 0.1
/// nlohmann::json b = taskmaster::saved_number(-INFINITY); // "-inf"
/// @endcode
[[nodiscard]] inline nlohmann::json saved_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

/// The number `saved_number` wrote (else CodecError).
[[nodiscard]] inline double read_saved_number(const nlohmann::json& j) { return decode<double>(j); }

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_tuple_like : std::false_type {};
template <class... T>
struct is_tuple_like<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct is_tuple_like<std::pair<A, B>> : std::true_type {};
template <class T>
struct is_sequence : std::false_type {};
template <class T, class A>
struct is_sequence<std::vector<T, A>> : std::true_type {};
template <class T, std::size_t N>
struct is_sequence<std::array<T, N>> : std::true_type {};
}  // namespace detail

/// A value (input, output, statistic) as JSON in a saved state, in the
/// layout the history codec reads back with `decode<T>`: sequences, pairs and
/// tuples as arrays, std::nullopt as null, and every floating-point number
/// through `saved_number`. Types the codec knows only from a user's
/// `Codec<T>` go through their encoding.
///
/// @code
/// auto j = taskmaster::saved_value(std::pair<double, double>{0.5, NAN});  // [0.5, "nan"]
/// @endcode
template <class T>
[[nodiscard]] nlohmann::json saved_value(const T& value) {
  if constexpr (std::is_floating_point_v<T>) {
    return saved_number(static_cast<double>(value));
  } else if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, std::string>) {
    return value;
  } else if constexpr (detail::is_optional<T>::value) {
    return value ? saved_value(*value) : nlohmann::json(nullptr);
  } else if constexpr (detail::is_sequence<T>::value) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(saved_value(item));
    return out;
  } else if constexpr (detail::is_tuple_like<T>::value) {
    nlohmann::json out = nlohmann::json::array();
    std::apply([&out](const auto&... item) { (out.push_back(saved_value(item)), ...); }, value);
    return out;
  } else {
    return nlohmann::json::parse(encode(value));
  }
}

/// Wraps a learner's payload in the envelope every learner's save() writes:
/// `{"kind": kind, "version": version, "payload": payload}`.
///
/// @code
/// nlohmann::json save() const { return taskmaster::seal_state("Counter", 1, {{"n", n_}}); }
/// @endcode
[[nodiscard]] inline nlohmann::json seal_state(std::string_view kind, int version,
                                               nlohmann::json payload) {
  return {{"kind", kind}, {"version", version}, {"payload", std::move(payload)}};
}

/// The payload of a saved state, without checking its kind or version: for
/// code that reads what a learner saved (a binding, a viewer). States saved
/// before the envelope existed are their own payload.
[[nodiscard]] inline const nlohmann::json& state_payload(const nlohmann::json& state) {
  if (state.is_object()) {
    const auto payload = state.find("payload");
    if (payload != state.end()) return *payload;
  }
  return state;
}

/// Checks a saved state and hands its payload to `read`: the one place
/// where a learner's load() refuses a state. Throws StateError when the
/// state is not a JSON object, names another kind, carries a version newer
/// than `version`, when `target_is_empty` is false, or when `read` finds it
/// malformed (a missing or mistyped field, a value the codec cannot read).
/// An std::invalid_argument from `read` (the learner refusing the state: it
/// was saved with other parameters, it holds an impossible point) becomes a
/// StateError with its message; a StateError from a learner inside this one
/// (a child's) is passed on, naming both.
/// `read(payload, version)` gets the version the state carries.
///
/// States saved before the envelope existed (the kind under "learner" or
/// "kind" next to the fields, a version only in some) are read as version 1.
///
/// @code
/// void load(const nlohmann::json& state) {
///   taskmaster::load_state(state, "Counter", 1, n_ == 0,
///                          [&](const nlohmann::json& payload, int /*version*/) {
///                            n_ = payload.at("n").get<int>();
///                          });
/// }
/// @endcode
template <class Read>
void load_state(const nlohmann::json& state, std::string_view kind, int version,
                bool target_is_empty, Read&& read) {
  const std::string expected(kind);
  if (!state.is_object()) {
    throw StateError(expected, "", 0,
                     fmt::format("a saved state is a JSON object, got {}", json_excerpt(state)));
  }
  const bool sealed = state.contains("payload");
  std::string found;
  for (const char* tag : {"kind", "learner"}) {
    const auto it = state.find(tag);
    if (it != state.end() && it->is_string()) {
      found = it->get<std::string>();
      break;
    }
  }
  int found_version = sealed ? 0 : 1;
  if (const auto it = state.find("version"); it != state.end()) {
    found_version = it->is_number_integer() ? it->get<int>() : 0;
  }
  if (found != expected) {
    throw StateError(expected, found, found_version,
                     found.empty() ? "the state names no kind of learner"
                                   : fmt::format("a state saved by a {}, not a {}", found, kind));
  }
  if (found_version < 1) {
    throw StateError(expected, found, found_version,
                     "the state has no valid version (a positive integer)");
  }
  if (found_version > version) {
    throw StateError(expected, found, found_version,
                     fmt::format("saved by a newer library (version {}; this one reads up to {})",
                                 found_version, version));
  }
  if (!target_is_empty) {
    throw StateError(expected, found, found_version,
                     "the learner already holds data (load into a new learner)");
  }
  try {
    read(sealed ? state.at("payload") : state, found_version);
  } catch (const StateError& e) {
    if (e.expected_kind() == expected) throw;
    // A learner inside this one (a child, a wrapped learner) refused its part.
    throw StateError(expected, found, found_version,
                     fmt::format("the state of a learner inside it: {}", e.what()));
  } catch (const nlohmann::json::exception& e) {
    throw StateError(expected, found, found_version, fmt::format("malformed state: {}", e.what()));
  } catch (const CodecError& e) {
    throw StateError(expected, found, found_version, fmt::format("malformed state: {}", e.what()));
  } catch (const std::invalid_argument& e) {
    // What the learner refused, in its words (other parameters, a bad point).
    throw StateError(expected, found, found_version, e.what());
  }
}

}  // namespace taskmaster
