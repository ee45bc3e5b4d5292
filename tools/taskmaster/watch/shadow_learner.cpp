#include "shadow_learner.hpp"

#include "../learner_descriptor.hpp"
#include "../learner_operations.hpp"

namespace taskmaster::cli::watch {

std::unique_ptr<ShadowLearner> ShadowLearner::make(const RunConfig& config) {
  return learner_named(config.learner).operations->shadow(config);
}

}  // namespace taskmaster::cli::watch
