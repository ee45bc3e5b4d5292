// `--learner integrator`: the integral of a function of one number, to a tolerance.

#include "../learner_registration.hpp"
#include "taskmaster/learners/integrator_learner.hpp"

namespace taskmaster::cli {
namespace {

using Integrator = ScalarOutputLearner<IntegratorLearner>;

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<Integrator>(
    {.name = "integrator",
     .input = InputKind::number,
     .dimensions = {.count = 1},
     .params = {"tol"},
     .finishes = true,
     .default_goal = until_done},
    {.make =
         [](const RunConfig& c) {
           return Integrator(IntegratorLearner(c.bounds.at(0)[0], c.bounds.at(0)[1],
                                               learner_param(c, "tol").value_or(1e-6)));
         },
     .picture = [](cairo_t* cr, const Integrator& l,
                   const Picture& p) { draw_integrand(cr, l.inner(), p); },
     .estimate = [](const Integrator& l) -> std::optional<double> { return l.inner().igral(); },
     .estimate_line =
         [](const Integrator& l) {
           const auto& integrator = l.inner();
           return fmt::format("integral  {:.15g} ± {:.3g} ({} the tolerance {:g})\n",
                              integrator.igral(), integrator.err(),
                              integrator.done() ? "within" : "not yet within",
                              integrator.tolerance());
         }});

}  // namespace
}  // namespace taskmaster::cli
