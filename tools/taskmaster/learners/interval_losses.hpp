#pragma once
// The losses of the learners that split one interval (1d, average1d).

#include <vector>

#include "../learner_type.hpp"
#include "taskmaster/learners/learner_1d.hpp"

namespace taskmaster::cli {

/// `--loss` for a learner of intervals: distance first, the default.
inline const std::vector<LossChoice<IntervalLoss>>& interval_losses() {
  static const std::vector<LossChoice<IntervalLoss>> choices{
      {{"distance"}, [](const LossParams&) { return losses_1d::distance(); }},
      {{"uniform"}, [](const LossParams&) { return losses_1d::uniform(); }},
      {{"curvature", {"area_factor", "euclid_factor", "horizontal_factor"}},
       [](const LossParams& p) {
         return losses_1d::curvature(p.get("area_factor", 1.0), p.get("euclid_factor", 0.02),
                                     p.get("horizontal_factor", 0.02));
       }},
      {{"triangle"}, [](const LossParams&) { return losses_1d::triangle(); }},
      {{"abs_min_log"}, [](const LossParams&) { return losses_1d::abs_min_log(); }},
      {{"resolution", {"min_length", "max_length"}},
       [](const LossParams& p) {
         return losses_1d::resolution(p.get("min_length", 0.0), p.get("max_length", 1.0));
       }},
  };
  return choices;
}

}  // namespace taskmaster::cli
