// `--learner sequence`: the points of a file, each once, in order.

#include "../learner_registration.hpp"

namespace taskmaster::cli {
namespace {

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<Sequence>(
    {.name = "sequence",
     .input = InputKind::point,
     .dimensions = {.of_points = true},
     .finishes = true,
     // A sequence runs to its end unless a goal says otherwise.
     .default_goal =
         [](const RunConfig& c) {
           return c.points.empty() ? std::string("npoints=100")
                                   : fmt::format("npoints={}", c.points.size());
         }},
    {.make = [](const RunConfig& c) { return Sequence(c.points); },
     .picture = draw_points,
     // It takes results only for the points it handed out.
     .ready_for_results =
         [](Sequence& s) {
           while (s.ask(Entropy{0})) {
           }
         }});

}  // namespace
}  // namespace taskmaster::cli
