#include "taskmaster/history/replay_divergence.hpp"

#include <fmt/format.h>

namespace taskmaster {

namespace {
std::string describe(std::uint64_t step, const std::string& recorded, const std::string& asked,
                     std::size_t line) {
  const std::string where = line == 0 ? "" : fmt::format(" (history line {})", line);
  return fmt::format("replay diverged at step {}{}: recorded {}, but the learner asked {}", step,
                     where, recorded, asked);
}
}  // namespace

ReplayDivergence::ReplayDivergence(std::uint64_t step, std::string recorded, std::string asked,
                                   std::size_t line)
    : std::runtime_error(describe(step, recorded, asked, line)),
      step_(step),
      recorded_(std::move(recorded)),
      asked_(std::move(asked)),
      line_(line) {}

}  // namespace taskmaster
