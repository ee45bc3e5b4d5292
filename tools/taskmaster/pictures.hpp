#pragma once
// The pictures `taskmaster plot` can draw: each learner's record names the
// one that shows it (LearnerType::picture).

#include <cairo.h>

#include <string>

#include "config.hpp"
#include "learner_types.hpp"
#include "plot.hpp"
#include "taskmaster/learners/average_learner.hpp"
#include "taskmaster/learners/average_learner_1d.hpp"
#include "taskmaster/learners/integrator_learner.hpp"

namespace taskmaster::cli {

/// Where and how a picture is drawn.
///
/// @code
/// taskmaster::cli::Picture picture{.size = {}, .title = "peak (100 points)", .config = config};
/// taskmaster::cli::draw_curve(cr, learner, picture);
/// @endcode
struct Picture {
  PlotSize size;
  std::string title;
  const RunConfig& config;
};

/// One line with points per output component, over the learner's interval.
void draw_curve(cairo_t* cr, const Learner1& learner, const Picture& picture);
/// The triangulation coloured by value (first component), with a colour bar.
void draw_triangulation(cairo_t* cr, const Learner2& learner, const Picture& picture);
/// The slice through the centre of the domain spanned by x0 and x1.
void draw_slice(cairo_t* cr, const LearnerN& learner, const Picture& picture);
/// The results as the learner of their dimension draws them (curve,
/// triangulation or slice) over the box the points span.
void draw_points(cairo_t* cr, const Sequence& sequence, const Picture& picture);
/// The integrand's samples.
void draw_integrand(cairo_t* cr, const IntegratorLearner& learner, const Picture& picture);
/// The samples of an average against their seeds.
void draw_samples(cairo_t* cr, const AverageLearner& learner, const Picture& picture);
/// The means of a noisy function.
void draw_means(cairo_t* cr, const AverageLearner1D& learner, const Picture& picture);

}  // namespace taskmaster::cli
