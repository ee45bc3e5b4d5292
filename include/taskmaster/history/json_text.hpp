#pragma once
// Parsing JSON text that comes from outside the program: history files,
// programs' outputs, workers' replies. nlohmann::json parses iteratively but
// copies, compares, prints and converts values recursively, so a value
// nested 100,000 deep (a program printing "[[[[...") would overflow the
// stack long after it was parsed. Every such text is parsed here, and text
// nested deeper than `max_json_depth` is refused before a value exists.

#include <fmt/format.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace taskmaster {

/// The deepest nesting of arrays and objects accepted in JSON from outside:
/// far more than any input, output or header needs, far less than the stack
/// can take.
inline constexpr std::size_t max_json_depth = 100;

/// Whether `text` opens more than `limit` arrays or objects inside each
/// other. Linear, no allocation; strings (with their escapes) are skipped,
/// and text that is not JSON at all is left to the parser to refuse.
///
/// @code
/// bool deep = taskmaster::json_nesting_exceeds("[[[1]]]", 2);  // true
/// @endcode
[[nodiscard]] inline bool json_nesting_exceeds(std::string_view text,
                                               std::size_t limit = max_json_depth) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

/// Parses `text` like `nlohmann::json::parse(text, nullptr, false)`: a value
/// that is discarded (`is_discarded()`) when the text is not JSON or is
/// nested deeper than `max_json_depth`. `why`, when given, says which.
///
/// @code
/// std::string why;
/// auto j = taskmaster::parse_json(std::string(100000, '['), &why);
/// // j.is_discarded(); why == "nested deeper than 100 levels"
/// @endcode
[[nodiscard]] inline nlohmann::json parse_json(std::string_view text, std::string* why = nullptr) {
  if (json_nesting_exceeds(text)) {
    if (why != nullptr) *why = fmt::format("nested deeper than {} levels", max_json_depth);
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() && why != nullptr) *why = "not valid JSON";
  return j;
}

/// `j` as JSON text for an error message, cut short (with its length) when
/// long: a message must stay readable whatever the input held.
///
/// @code
/// auto text = taskmaster::json_excerpt(nlohmann::json(std::string(5000, 'a')));
/// // "\"aaaa...aaa... (5002 bytes)"
/// @endcode
[[nodiscard]] inline std::string json_excerpt(const nlohmann::json& j, std::size_t limit = 120) {
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > limit)
    text = fmt::format("{}... ({} bytes)", text.substr(0, limit), text.size());
  return text;
}

}  // namespace taskmaster
