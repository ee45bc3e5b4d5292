#include "taskmaster/core/run_record.hpp"

namespace taskmaster {

const char* to_string(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::ask: return "ask";
    case EventKind::tell: return "tell";
    case EventKind::fail: return "fail";
    case EventKind::capacity: return "capacity";
    case EventKind::stop: return "stop";
    case EventKind::cancel: return "cancel";
    case EventKind::end: return "end";
    case EventKind::resume: return "resume";
  }
  return "?";
}

const char* to_string(OnFailure on_failure) noexcept {
  return on_failure == OnFailure::stop_run ? "stop" : "continue";
}

}  // namespace taskmaster
