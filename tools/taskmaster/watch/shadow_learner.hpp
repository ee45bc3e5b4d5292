#pragma once
// A learner beside the watched run, told every result the history records,
// so that the page can show what only a learner knows: the loss, the 2D
// triangulation, the interpolated slice of an ND run.

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "../config.hpp"

namespace taskmaster::cli::watch {

/// Which picture of the learned function `/api/mesh` draws: the plane
/// spanned by inputs `x` and `y`, the other inputs held at `at`, coloured
/// by output component `component`.
struct MeshQuery {
  std::size_t x = 0;
  std::size_t y = 1;
  std::vector<double> at;  ///< one value per input; empty: the domain's centre
  std::size_t component = 0;
};

/// A fresh learner of the run's kind, told the recorded results in order.
/// Not the run's learner: it is never asked, so its state can differ where
/// pending points matter, but its loss and triangulation are those of the
/// same data. A learner that refuses a result (the integrator takes only the
/// points it asked) stops being told and has no loss to show.
///
/// @code
/// auto shadow = taskmaster::cli::watch::ShadowLearner::make(config);
/// shadow->tell(nlohmann::json::parse("[0.5, 0.25]"), {1.0});
/// std::optional<double> loss = shadow->loss();
/// @endcode
class ShadowLearner {
 public:
  virtual ~ShadowLearner() = default;
  /// The learner `config` describes; throws UsageError if it cannot be built.
  static std::unique_ptr<ShadowLearner> make(const RunConfig& config);

  /// Tells a recorded result (x as the history writes it).
  virtual void tell(const nlohmann::json& x, const std::vector<double>& y) = 0;
  /// The learner's loss, if it has one and still follows the run.
  [[nodiscard]] virtual std::optional<double> loss() const = 0;
  /// The picture of the learned function as JSON text: 2D learners
  /// `{"kind":"triangles","points":[x,y,v,...],"triangles":[i,j,k,...]}`,
  /// ND `{"kind":"grid","nx":..,"ny":..,"x":[lo,hi],"y":[lo,hi],"values":[...]}`,
  /// others `{"kind":"none"}`.
  [[nodiscard]] virtual std::string mesh(const MeshQuery& query) const = 0;
};

}  // namespace taskmaster::cli::watch
