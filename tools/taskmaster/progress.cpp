#include "progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>

namespace taskmaster::cli {

ProgressReporter::ProgressReporter(Settings settings)
    : settings_(settings), terminal_(::isatty(STDERR_FILENO) != 0) {}

std::string format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f} s", s);
  const auto whole = static_cast<long long>(s);
  if (s < 3600) return fmt::format("{} min {:02} s", whole / 60, whole % 60);
  return fmt::format("{} h {:02} min", whole / 3600, (whole % 3600) / 60);
}

std::string ProgressReporter::describe(const Progress& p) const {
  const double elapsed = p.seconds();
  const double rate =
      elapsed > 0 ? static_cast<double>(p.told + p.failed -
                                        std::min(p.told + p.failed, settings_.points_before)) /
                        elapsed
                  : 0.0;
  std::string loss = "-";
  try {
    loss = fmt::format("{:.4g}", p.loss());
  } catch (const std::exception&) {
    // a learner without a loss: nothing to show
  }
  std::string text =
      fmt::format("{} points  loss {}  {:.1f} points/s  {}/{} busy  {} failed  {}", p.told, loss,
                  rate, p.in_flight, p.capacity, p.failed, format_seconds(elapsed));
  // Time left toward the goal that will be met first.
  std::optional<double> left;
  if (settings_.npoints_goal && rate > 0) {
    const double to_go =
        static_cast<double>(*settings_.npoints_goal) - static_cast<double>(p.asked);
    left = std::max(0.0, to_go / rate);
  }
  if (settings_.duration_goal) {
    const double d = std::max(0.0, *settings_.duration_goal - elapsed);
    left = left ? std::min(*left, d) : d;
  }
  if (left) text += fmt::format("  ~{} left", format_seconds(*left));
  return text;
}

void ProgressReporter::print(const Progress& p) {
  const std::string text = describe(p);
  if (terminal_) {
    fmt::print(stderr, "\r\033[K{}", text);
    live_line_open_ = true;
  } else {
    fmt::print(stderr, "taskmaster: {}\n", text);
  }
  std::fflush(stderr);
}

void ProgressReporter::update(const Progress& p) {
  if (settings_.quiet) return;
  const auto now = std::chrono::steady_clock::now();
  const auto period = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000);
  if (now - last_print_ < period) return;
  last_print_ = now;
  print(p);
}

void ProgressReporter::finish(const Progress& p) {
  if (settings_.quiet) return;
  print(p);
  if (live_line_open_) fmt::print(stderr, "\n");
  live_line_open_ = false;
}

}  // namespace taskmaster::cli
