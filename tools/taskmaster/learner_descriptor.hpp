#pragma once
// What the tool knows about a learner, in one record: its name, the inputs
// it takes, its losses and parameters, its default goal and what it can do
// (run, replay, plot, ...). Each learner registers one record from its own
// file under learners/; everything else in the tool reads the registry.
// A new learner is one new file there (see learners/learner_1d.cpp), named
// in CMakeLists.txt.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"

namespace taskmaster::cli {

class LearnerOperations;

/// The form of a learner's input, as a program's placeholders and the
/// history see it.
enum class InputKind {
  number,           ///< one number in one interval: {x}
  seed,             ///< a whole number >= 0 drawn by the learner: {x}
  seed_and_number,  ///< a pair [seed, x]: {x0} the seed, {x1} the number
  point,            ///< an array of numbers: {x0}, {x1}, ...
};

/// How many intervals (`--bounds`) a learner takes.
struct Dimensions {
  std::size_t count = 1;   ///< exactly this many, or at least this many when `at_least`
  bool at_least = false;   ///< any number from `count` on
  bool of_points = false;  ///< no bounds: the dimension of `--points`
  /// Why a learner of no bounds takes none (said when some are given). A
  /// view of a literal: a std::string here trips GCC 12's
  /// -Wmaybe-uninitialized at -O3 in the learners' static records.
  std::string_view why_no_bounds{};
};

/// A loss a learner can take with `--loss`, and the parameters it takes
/// with `--loss-param`.
struct LossDescriptor {
  std::string name;
  std::vector<std::string> params{};
};

/// One learner of the tool.
///
/// @code
/// const taskmaster::cli::LearnerDescriptor& d = taskmaster::cli::learner_named("2d");
/// d.dimensions.count;  // 2
/// @endcode
struct LearnerDescriptor {
  std::string name;
  InputKind input = InputKind::number;
  Dimensions dimensions{};
  std::vector<LossDescriptor> losses{};  ///< the first is the default
  std::vector<std::string> params{};     ///< what `--learner-param` may set
  /// Whether the learner says when it is done (so `--goal done` applies).
  bool finishes = false;
  /// Whether it takes outputs of one component (the program's first and only).
  bool scalar_output = false;
  /// The goal of a run that names none.
  std::string (*default_goal)(const RunConfig&) = nullptr;
  /// Everything the tool does with a learner of this kind.
  const LearnerOperations* operations = nullptr;

  /// The loss used when `--loss` is not given ("default" for learners of one loss).
  [[nodiscard]] std::string default_loss() const;
  [[nodiscard]] const LossDescriptor* loss_named(const std::string& loss) const;
};

/// Adds `descriptor` to the registry (once per learner, from its file's
/// static initialisation); returns it for that file to keep.
const LearnerDescriptor& register_learner(LearnerDescriptor descriptor);
/// Every registered learner, in the order their files were linked.
const std::vector<const LearnerDescriptor*>& registered_learners();
/// The learner named `name`; throws UsageError listing the known ones otherwise.
const LearnerDescriptor& learner_named(const std::string& name);
/// "1d, 2d, ...": the registered learners, for messages and `--help`.
std::string learner_names();
/// "1d, 2d, ... or average1d", for `--help`.
std::string learner_choices();
/// What `--learner-param` may set, learner by learner, for `--help`.
std::string learner_params_help();
/// The losses of each learner, for `--help`.
std::string losses_help();
/// "done for integrator and average": the learners whose runs go until
/// they are done unless told otherwise, for `--help`.
std::string default_goals_help();
/// The goals `texts` names, or the learner's default goal when it names none.
std::vector<Goal> goals_or_default(const std::vector<std::string>& texts, const RunConfig& c);

}  // namespace taskmaster::cli
