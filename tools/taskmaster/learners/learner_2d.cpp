// `--learner 2d`: a rectangle triangulated where the function changes most.

#include "../learner_registration.hpp"

namespace taskmaster::cli {
namespace {

const std::vector<LossChoice<TriangleLoss>>& losses() {
  static const std::vector<LossChoice<TriangleLoss>> choices{
      {{"default"}, [](const LossParams&) { return losses_2d::default_loss(); }},
      {{"uniform"}, [](const LossParams&) { return losses_2d::uniform(); }},
      {{"triangle"}, [](const LossParams&) { return losses_2d::triangle(); }},
      {{"minimize_triangle_surface"},
       [](const LossParams&) { return losses_2d::minimize_triangle_surface(); }},
      {{"resolution", {"min_distance", "max_distance"}},
       [](const LossParams& p) {
         return losses_2d::resolution(p.get("min_distance", 0.0), p.get("max_distance", 1.0));
       }},
  };
  return choices;
}

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<Learner2>(
    {.name = "2d",
     .input = InputKind::point,
     .dimensions = {.count = 2},
     .losses = loss_descriptors(losses()),
     .default_goal = hundred_points},
    {.make =
         [](const RunConfig& c) {
           return Learner2(Bounds2D{c.bounds.at(0), c.bounds.at(1)}, make_loss(losses(), c));
         },
     .picture = draw_triangulation});

}  // namespace
}  // namespace taskmaster::cli
