#pragma once
// The Master concept: whatever evaluates tasks, in parallel and in any order.

#include <concepts>
#include <cstddef>
#include <optional>

#include "taskmaster/core/task.hpp"

namespace taskmaster {

/// A master evaluates tasks and hands results back in any order.
///
/// - `capacity()` is how many tasks may be unresolved at once (TaskMaster's
///   `nparallel`). It may change during a run as workers join or leave; the
///   loop reads it before every decision.
/// - `submit(task)` must not block waiting for the evaluation.
/// - `next()` blocks until some submitted task is resolved and returns its
///   result, or `std::nullopt` when the master will deliver nothing more
///   (it was cancelled, or it replays a record that has ended).
/// - `cancel()` drops every task not yet resolved, as far as the master can.
template <class M>
concept Master = requires(M& master, const M& const_master, Task<typename M::input_type> task) {
  typename M::input_type;
  typename M::output_type;
  { const_master.capacity() } -> std::convertible_to<std::size_t>;
  master.submit(std::move(task));
  {
    master.next()
    } -> std::same_as<std::optional<Result<typename M::input_type, typename M::output_type>>>;
  master.cancel();
};

/// A master whose inputs and outputs fit learner L.
template <class M, class L>
concept MasterFor = Master<M> && std::same_as<typename M::input_type, typename L::input_type> &&
    std::same_as<typename M::output_type, typename L::output_type>;

}  // namespace taskmaster
