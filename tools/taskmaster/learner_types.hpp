#pragma once
// The learner types the tool's pictures and live view draw: every input and
// output a vector of numbers, as the programs the tool runs give them.

#include <vector>

#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/learners/learner_2d.hpp"
#include "taskmaster/learners/learner_nd.hpp"
#include "taskmaster/learners/sequence_learner.hpp"

namespace taskmaster::cli {

using Learner1 = Learner1D<std::vector<double>>;
using Learner2 = Learner2D<std::vector<double>>;
using LearnerN = LearnerND<std::vector<double>>;
using Sequence = SequenceLearner<std::vector<double>, std::vector<double>>;

}  // namespace taskmaster::cli
