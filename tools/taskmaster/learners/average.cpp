// `--learner average`: the mean of a noisy quantity, sampled with seeds.

#include "../learner_registration.hpp"
#include "taskmaster/learners/average_learner.hpp"

namespace taskmaster::cli {
namespace {

using Average = ScalarOutputLearner<AverageLearner>;

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<Average>(
    {.name = "average",
     .input = InputKind::seed,
     .dimensions = {.count = 0, .why_no_bounds = "estimates one mean from samples {x} = seed"},
     .params = {"atol", "rtol", "min_npoints"},
     .finishes = true,
     .default_goal = until_done},
    {.make =
         [](const RunConfig& c) {
           const auto atol = learner_param(c, "atol");
           const auto rtol = learner_param(c, "rtol");
           return Average(AverageLearner(!atol && !rtol ? std::optional<double>(0.01) : atol, rtol,
                                         count_param(c, "min_npoints").value_or(2)));
         },
     .picture = [](cairo_t* cr, const Average& l,
                   const Picture& p) { draw_samples(cr, l.inner(), p); },
     .estimate = [](const Average& l) -> std::optional<double> { return l.inner().mean(); },
     .estimate_line =
         [](const Average& l) {
           const auto& average = l.inner();
           return fmt::format("mean      {:.15g} ± {:.3g} (standard error of {} samples)\n",
                              average.mean(), average.standard_error(), average.npoints());
         }});

}  // namespace
}  // namespace taskmaster::cli
