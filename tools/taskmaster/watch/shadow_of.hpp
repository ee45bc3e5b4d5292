#pragma once
// The live view's learner for one learner type: told recorded results, it
// gives the loss and, for 2D and ND learners, the mesh the page draws.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "../learner_types.hpp"
#include "shadow_learner.hpp"
#include "taskmaster/history/codec.hpp"

namespace taskmaster::cli::watch {

/// A number for JSON text: 7 significant digits are plenty for a picture
/// and keep a large mesh small; JSON has no NaN, so null.
inline void append_number(std::string& out, double v) {
  if (std::isfinite(v)) {
    fmt::format_to(std::back_inserter(out), "{:.7g}", v);
  } else {
    out += "null";
  }
}

/// The live view's learner of type `L`.
template <class L>
class ShadowOf final : public ShadowLearner {
 public:
  /// `ready` (if any) makes the fresh learner ready to be told results it
  /// did not ask for (LearnerType::ready_for_results).
  ShadowOf(L learner, RunConfig config, void (*ready)(L&))
      : learner_(std::move(learner)), config_(std::move(config)) {
    if (ready != nullptr) ready(learner_);
  }

  void tell(const nlohmann::json& x, const std::vector<double>& y) override {
    if (!usable_) return;
    try {
      learner_.tell(decode<input_of<L>>(x), y);
    } catch (const std::exception&) {
      usable_ = false;  // this learner cannot follow the run from its results alone
    }
  }

  [[nodiscard]] std::optional<double> loss() const override {
    if constexpr (requires(const L& l) { l.loss(); }) {
      if (!usable_) return std::nullopt;
      try {
        return learner_.loss();
      } catch (const std::exception&) {
        return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }

  [[nodiscard]] std::string mesh(const MeshQuery& q) const override {
    if (!usable_) return R"({"kind":"none"})";
    if constexpr (std::is_same_v<L, Learner2>) {
      return triangles(q);
    } else if constexpr (std::is_same_v<L, LearnerN>) {
      return slice(q);
    } else {
      return R"({"kind":"none"})";
    }
  }

 private:
  [[nodiscard]] std::string triangles(
      const MeshQuery& q) const requires std::is_same_v<L, Learner2> {
    const auto& points = learner_.points();
    std::map<Point2, std::size_t> index;
    std::string out = R"({"kind":"triangles","points":[)";
    for (std::size_t i = 0; i < points.size(); ++i) {
      index.emplace(points[i], i);
      const auto y = learner_.value(i);
      if (i != 0) out += ',';
      append_number(out, points[i][0]);
      out += ',';
      append_number(out, points[i][1]);
      out += ',';
      append_number(out, q.component < y.size() ? y[q.component] : std::nan(""));
    }
    out += R"(],"triangles":[)";
    bool first = true;
    for (const auto& tri : learner_.triangles()) {
      std::array<std::size_t, 3> ids{};
      bool known = true;
      for (std::size_t k = 0; k < 3; ++k) {
        const auto it = index.find(tri[k]);
        if (it == index.end()) {
          known = false;
          break;
        }
        ids[k] = it->second;
      }
      if (!known) continue;
      fmt::format_to(std::back_inserter(out), "{}{},{},{}", first ? "" : ",", ids[0], ids[1],
                     ids[2]);
      first = false;
    }
    return out + "]}";
  }

  [[nodiscard]] std::string slice(const MeshQuery& q) const requires std::is_same_v<L, LearnerN> {
    const auto& bounds = config_.bounds;
    const std::size_t d = bounds.size();
    if (q.x >= d || q.y >= d || q.x == q.y) return R"({"kind":"none"})";
    std::vector<double> x(d);
    for (std::size_t i = 0; i < d; ++i) {
      x[i] = i < q.at.size() ? std::clamp(q.at[i], bounds[i][0], bounds[i][1])
                             : (bounds[i][0] + bounds[i][1]) / 2;
    }
    // A point location per cell: a coarse grid, smoothed when drawn.
    constexpr int n = 48;
    const auto& bx = bounds[q.x];
    const auto& by = bounds[q.y];
    std::string out =
        fmt::format(R"({{"kind":"grid","nx":{},"ny":{},"dims":[{},{}],"x":[)", n, n, q.x, q.y);
    append_number(out, bx[0]);
    out += ',';
    append_number(out, bx[1]);
    out += R"(],"y":[)";
    append_number(out, by[0]);
    out += ',';
    append_number(out, by[1]);
    out += R"(],"values":[)";
    for (int j = 0; j < n; ++j) {
      for (int i = 0; i < n; ++i) {
        x[q.x] = bx[0] + (i + 0.5) / n * (bx[1] - bx[0]);
        x[q.y] = by[0] + (j + 0.5) / n * (by[1] - by[0]);
        const auto y = learner_.interpolate(x);
        if (i != 0 || j != 0) out += ',';
        append_number(out, y && q.component < y->size() ? (*y)[q.component] : std::nan(""));
      }
    }
    return out + "]}";
  }

  L learner_;
  RunConfig config_;
  bool usable_ = true;
};

}  // namespace taskmaster::cli::watch
