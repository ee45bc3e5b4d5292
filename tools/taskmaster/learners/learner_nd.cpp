// `--learner nd`: a box of any dimension split into simplices.

#include "../learner_registration.hpp"

namespace taskmaster::cli {
namespace {

const std::vector<LossChoice<SimplexLoss>>& losses() {
  static const std::vector<LossChoice<SimplexLoss>> choices{
      {{"default"}, [](const LossParams&) { return losses_nd::default_loss(); }},
      {{"uniform"}, [](const LossParams&) { return losses_nd::uniform(); }},
      {{"std"}, [](const LossParams&) { return losses_nd::std_loss(); }},
      {{"triangle"}, [](const LossParams&) { return losses_nd::triangle(); }},
      {{"curvature", {"exploration"}},
       [](const LossParams& p) { return losses_nd::curvature(p.get("exploration", 0.05)); }},
  };
  return choices;
}

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<LearnerN>(
    {.name = "nd",
     .input = InputKind::point,
     .dimensions = {.count = 2, .at_least = true},
     .losses = loss_descriptors(losses()),
     .default_goal = hundred_points},
    {.make = [](const RunConfig& c) { return LearnerN(c.bounds, make_loss(losses(), c)); },
     .picture = draw_slice});

}  // namespace
}  // namespace taskmaster::cli
