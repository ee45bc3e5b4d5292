#pragma once
// Ends a run at the second Ctrl-C without waiting for the tasks in flight.

#include <optional>
#include <utility>

#include "interrupt.hpp"
#include "taskmaster/core/master.hpp"

namespace taskmaster::cli {

/// Wraps the tool's master: once Ctrl-C has been pressed twice (the signal
/// handler has killed the programs in flight), the failures those programs
/// report are not results but the end of the run: the inner master is
/// cancelled and `next()` returns nothing more, so the loop records the end
/// of the run and leaves the abandoned points unresolved in the history,
/// where `taskmaster resume` asks them again. A result that arrived intact
/// is still handed on.
///
/// @code
/// taskmaster::cli::AbandonableMaster master(programs);
/// taskmaster::evaluate(master, learner, stop);
/// @endcode
template <Master M>
class AbandonableMaster {
 public:
  using input_type = typename M::input_type;
  using output_type = typename M::output_type;

  explicit AbandonableMaster(M& inner) : inner_(inner) {}

  [[nodiscard]] std::size_t capacity() const { return inner_.capacity(); }
  void submit(Task<input_type> task) { inner_.submit(std::move(task)); }
  void cancel() { inner_.cancel(); }

  std::optional<Result<input_type, output_type>> next() {
    if (!InterruptGuard::abandoned()) {
      auto r = inner_.next();
      if (!InterruptGuard::abandoned() || (r && r->ok())) return r;
    }
    inner_.cancel();
    return std::nullopt;
  }

 private:
  M& inner_;
};

}  // namespace taskmaster::cli
