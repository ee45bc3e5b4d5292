#pragma once
// How Learner2D and LearnerND replay the changes of a saved state. Private
// to the library.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "taskmaster/learners/saved_state.hpp"

namespace taskmaster::detail {

/// Replays a triangulation learner's saved `changes` into `learner`, in
/// order: `["pending", POINT, [values]]`, `["tell", POINT, [values]]`,
/// `["fail", POINT]`, `["remove_unfinished"]`, and, for a learner that has
/// `tell_many`, `["tell_many", [[x, y], ...], [values]]`. How POINT is
/// written is the learner's own (Learner2D writes x and y in line, LearnerND
/// one array): `read_point(change)` gives the point and the index of the
/// first element after it.
///
/// A pending point's recorded value is passed on (`tell_pending(x, {},
/// &value)`): a replay must not recompute it, since the interpolation
/// depends in its last bits on which of the simplices sharing a face the
/// search lands in.
template <class Learner, class ReadPoint>
void replay_mesh_changes(const nlohmann::json& changes, Learner& learner, ReadPoint read_point) {
  const auto values = [](const nlohmann::json& a) { return decode<std::vector<double>>(a); };
  for (const auto& c : changes) {
    const auto kind = c.at(0).get<std::string>();
    if (kind == "remove_unfinished") {
      learner.remove_unfinished();
      continue;
    }
    if constexpr (requires {
                    learner.tell_many(std::vector<decltype(read_point(c).first)>{}, values(c));
                  }) {
      if (kind == "tell_many") {
        using Point = decltype(read_point(c).first);
        learner.tell_many(c.at(1).template get<std::vector<Point>>(), values(c.at(2)));
        continue;
      }
    }
    if (kind != "pending" && kind != "tell" && kind != "fail") {
      throw std::invalid_argument(fmt::format("unknown change {}", json_excerpt(c)));
    }
    const auto [x, next] = read_point(c);
    if (kind == "pending") {
      const auto value = c.size() > next ? values(c.at(next)) : std::vector<double>{};
      learner.tell_pending(x, {}, &value);
    } else if (kind == "tell") {
      learner.tell(x, values(c.at(next)));
    } else {
      learner.fail(x);
    }
  }
}

}  // namespace taskmaster::detail
