#include "history_commands.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <ranges>
#include <regex>
#include <vector>

#include "history_input.hpp"
#include "learner_descriptor.hpp"
#include "learner_operations.hpp"
#include "progress.hpp"
#include "run.hpp"

namespace taskmaster::cli {
namespace {

/// A failure reason without the task and process numbers, so that the same
/// failure of many tasks is counted as one reason.
std::string without_task_details(const std::string& reason) {
  static const std::regex task_and_pid(R"( ?\(task \d+, pid \d+\)| ?\(pid \d+\))");
  return std::regex_replace(reason, task_and_pid, "");
}

}  // namespace

int replay_command(const std::filesystem::path& path) {
  const HistoryInput input = HistoryInput::read(path);
  return learner_named(input.config.learner).operations->replay(input);
}

int info_command(const std::filesystem::path& path) {
  const HistoryInput input = HistoryInput::read(path);
  const RunConfig& c = input.config;
  std::uint64_t asks = 0, tells = 0, failed = 0, retried = 0, cancelled = 0;
  std::map<std::string, std::uint64_t> reasons;
  struct WorkerUse {
    std::uint64_t tasks = 0;
    double busy = 0;
  };
  std::map<int, WorkerUse> workers;
  double duration = 0, segment_end = 0;
  std::optional<std::string> last_ending;  // how the last segment ended, if it did
  for (const auto& e : input.raw.events) {
    switch (e.kind) {
      case EventKind::ask: ++asks; break;
      case EventKind::tell: ++tells; break;
      case EventKind::fail:
        if (e.retry) {
          ++retried;
        } else {
          ++failed;
          ++reasons[without_task_details(e.text)];
        }
        break;
      case EventKind::cancel: ++cancelled; break;
      case EventKind::resume:
        duration += segment_end;
        segment_end = 0;
        last_ending.reset();
        break;
      case EventKind::end: last_ending = e.text; break;
      default: break;
    }
    if (e.kind == EventKind::tell || e.kind == EventKind::fail) {
      auto& w = workers[e.worker];
      ++w.tasks;
      w.busy += e.duration;
    }
    segment_end = std::max(segment_end, e.time);
  }
  duration += segment_end;
  const LearnerDescriptor& learner = learner_named(c.learner);
  const RecordedSummary recorded = learner.operations->summarize(input);
  std::string program;
  for (const auto& a : c.command.empty() ? c.worker : c.command) {
    if (!program.empty()) program += ' ';  // not "" + string: GCC 12 -O3 warns falsely
    program += shell_quote(a);
  }
  fmt::print("history   {}\n", path.string());
  if (learner.dimensions.of_points) {
    fmt::print("learner   {} of {} points in {} dimension{}\n", c.learner, c.points.size(),
               c.dimension(), c.dimension() == 1 ? "" : "s");
  } else if (learner.input == InputKind::seed) {
    fmt::print("learner   {} of samples, seed as input\n", c.learner);
  } else {
    fmt::print("learner   {} on {}, loss {}\n", c.learner,
               fmt::join(c.bounds | std::views::transform([](const auto& b) {
                           return fmt::format("[{}, {}]", b[0], b[1]);
                         }),
                         " x "),
               c.loss.empty() ? learner.default_loss() : c.loss);
  }
  if (!c.learner_params.empty()) {
    std::vector<std::string> params;
    for (const auto& [name, value] : c.learner_params)
      params.push_back(fmt::format("{}={}", name, value));
    fmt::print("params    {}\n", fmt::join(params, " "));
  }
  fmt::print("program   {} ({}, master {})\n", program,
             c.command.empty() ? "workers, JSON Lines" : "one process per point", c.master);
  fmt::print("settings  workers {}{}, retries {}, timeout {}, seed {}, goal {}\n", c.workers,
             c.prefetch == 0 ? "" : fmt::format(" (each sent {} ahead)", c.prefetch), c.retries,
             c.timeout ? format_seconds(*c.timeout) : "none", c.seed,
             fmt::join(input.latest_config.goals |
                           std::views::transform([](const Goal& g) { return g.to_string(); }),
                       " or "));
  fmt::print("points    {} evaluated, {} failed, {} retried, {} asked, {} cancelled\n", tells,
             failed, retried, asks, cancelled);
  fmt::print("loss      {:.6g}\n", recorded.loss);
  fmt::print("{}", recorded.estimate);
  // Only the last segment tells whether the run can go on as it is: one
  // killed earlier was resumed since.
  const bool ended_in_error = last_ending && last_ending->rfind("error:", 0) == 0;
  fmt::print("duration  {} in {} segment{}{}\n", format_seconds(duration),
             input.raw.segments.size(), input.raw.segments.size() == 1 ? "" : "s",
             !last_ending     ? " (the last did not end cleanly: resume it)"
             : ended_in_error ? " (the last ended with an error: resume it)"
                              : "");
  if (last_ending) fmt::print("ended     {}\n", *last_ending);
  if (!reasons.empty()) {
    fmt::print("failures\n");
    for (const auto& [reason, n] : reasons) fmt::print("  {:>5} x {}\n", n, reason);
  }
  if (!workers.empty()) {
    fmt::print("workers   tasks   busy     use\n");
    for (const auto& [id, w] : workers) {
      fmt::print("  {:>5}   {:>5}   {:>7}  {:>4.0f}%\n", id, w.tasks, format_seconds(w.busy),
                 duration > 0 ? 100.0 * w.busy / duration : 0.0);
    }
  }
  return 0;
}

int export_command(const std::filesystem::path& path,
                   const std::optional<std::filesystem::path>& out) {
  const HistoryInput input = HistoryInput::read(path);
  std::vector<ResultRow> rows = learner_named(input.config.learner).operations->results(input);
  std::sort(rows.begin(), rows.end());
  const std::size_t components = input.components();
  std::string text;
  std::vector<std::string> header = input.config.input_names();
  for (std::size_t i = 0; i < components; ++i)
    header.push_back(components == 1 ? "y" : fmt::format("y{}", i));
  text += fmt::format("{}\n", fmt::join(header, ","));
  for (const auto& [x, y] : rows)
    text += fmt::format("{},{}\n", fmt::join(x, ","), fmt::join(y, ","));
  if (!out) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream file(*out, std::ios::binary);
  file << text;
  if (!file.flush()) throw std::runtime_error(fmt::format("cannot write {}", out->string()));
  fmt::print(stderr, "taskmaster: {} points written to {}\n", rows.size(), out->string());
  return 0;
}

}  // namespace taskmaster::cli
