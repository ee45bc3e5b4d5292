#pragma once
// What the loop does with an evaluation that fails.

namespace taskmaster {

/// What a point that keeps failing does to the run.
enum class OnFailure {
  record_and_continue,  ///< the point is recorded as failed and the run goes on
  stop_run,             ///< the run stops asking and ends after draining
};

/// How often a failed evaluation is submitted again before it counts as failed.
///
/// @code
/// taskmaster::RetryPolicy retry{.retries = 2, .on_failure = taskmaster::OnFailure::stop_run};
/// @endcode
struct RetryPolicy {
  unsigned retries = 0;
  OnFailure on_failure = OnFailure::record_and_continue;
};

[[nodiscard]] const char* to_string(OnFailure on_failure) noexcept;

}  // namespace taskmaster
