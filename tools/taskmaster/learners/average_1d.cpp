// `--learner average1d`: a noisy function of one number, sampled where its
// means are least certain.

#include "../learner_registration.hpp"
#include "interval_losses.hpp"
#include "taskmaster/learners/average_learner_1d.hpp"

namespace taskmaster::cli {
namespace {

using Average1 = ScalarOutputLearner<AverageLearner1D>;

[[maybe_unused]] const LearnerDescriptor& registered = register_learner<Average1>(
    {.name = "average1d",
     .input = InputKind::seed_and_number,
     .dimensions = {.count = 1},
     .losses = loss_descriptors(interval_losses()),
     .params = {"delta", "alpha", "neighbor_sampling", "min_samples", "max_samples", "min_error"},
     .default_goal = hundred_points},
    {.make =
         [](const RunConfig& c) {
           AverageLearner1DOptions o;
           o.delta = learner_param(c, "delta").value_or(o.delta);
           o.alpha = learner_param(c, "alpha").value_or(o.alpha);
           o.neighbor_sampling =
               learner_param(c, "neighbor_sampling").value_or(o.neighbor_sampling);
           o.min_samples = count_param(c, "min_samples").value_or(o.min_samples);
           o.max_samples = count_param(c, "max_samples").value_or(o.max_samples);
           o.min_error = learner_param(c, "min_error").value_or(o.min_error);
           return Average1(AverageLearner1D(c.bounds.at(0)[0], c.bounds.at(0)[1], o,
                                            make_loss(interval_losses(), c)));
         },
     .picture = [](cairo_t* cr, const Average1& l,
                   const Picture& p) { draw_means(cr, l.inner(), p); }});

}  // namespace
}  // namespace taskmaster::cli
