#include "taskmaster/version.hpp"

#define TASKMASTER_STRINGIFY_(x) #x
#define TASKMASTER_STRINGIFY(x) TASKMASTER_STRINGIFY_(x)

namespace taskmaster {

const char* version() noexcept {
  return TASKMASTER_STRINGIFY(TASKMASTER_VERSION_MAJOR) "." TASKMASTER_STRINGIFY(
      TASKMASTER_VERSION_MINOR) "." TASKMASTER_STRINGIFY(TASKMASTER_VERSION_PATCH);
}

}  // namespace taskmaster
