// `--learner 1d`: one interval split where the function changes most.

#include "../learner_registration.hpp"
#include "interval_losses.hpp"

namespace taskmaster::cli {
namespace {

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<Learner1>(
    {.name = "1d",
     .input = InputKind::number,
     .dimensions = {.count = 1},
     .losses = loss_descriptors(interval_losses()),
     .default_goal = hundred_points},
    {.make =
         [](const RunConfig& c) {
           return Learner1(c.bounds.at(0)[0], c.bounds.at(0)[1], make_loss(interval_losses(), c));
         },
     .picture = draw_curve});

}  // namespace
}  // namespace taskmaster::cli
