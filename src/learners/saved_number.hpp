#pragma once
// How the learners' save() writes a number. Private to the library.

#include <cmath>

#include <nlohmann/json.hpp>

#include "taskmaster/history/codec.hpp"

namespace taskmaster::detail {

/// A finite number as a JSON number; NaN and infinities, which JSON lacks,
/// in the history codec's spelling (which `decode<double>` reads back).
///
/// @code
/// nlohmann::json a = saved_number(0.5);       // 0.5
/// nlohmann::json b = saved_number(INFINITY);  // as the codec writes it
/// @endcode
inline nlohmann::json saved_number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json::parse(encode(v));
}

}  // namespace taskmaster::detail
