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
#include <type_traits>
#include <vector>

#include "history_input.hpp"
#include "learners.hpp"
#include "progress.hpp"
#include "recorded_learner.hpp"
#include "run.hpp"
#include "taskmaster/history/replay.hpp"

namespace taskmaster::cli {
namespace {

using Y = std::vector<double>;

std::vector<double> as_row(double x) { return {x}; }
std::vector<double> as_row(const std::array<double, 2>& x) { return {x[0], x[1]}; }
std::vector<double> as_row(const std::vector<double>& x) { return x; }
std::vector<double> as_row(std::uint64_t seed) { return {static_cast<double>(seed)}; }
std::vector<double> as_row(const std::pair<std::int64_t, double>& x) {
  return {static_cast<double>(x.first), x.second};
}

/// A failure reason without the task and process numbers, so that the same
/// failure of many tasks is counted as one reason.
std::string without_task_details(const std::string& reason) {
  static const std::regex task_and_pid(R"( ?\(task \d+, pid \d+\)| ?\(pid \d+\))");
  return std::regex_replace(reason, task_and_pid, "");
}

}  // namespace

int replay_command(const std::filesystem::path& path) {
  const HistoryInput input = HistoryInput::read(path);
  return with_learner(input.config, [&](auto& learner) {
    using X = input_of<std::remove_reference_t<decltype(learner)>>;
    const History<X, Y> history = to_history<X, Y>(input.raw, path.string());
    try {
      const Progress counts = replay(history, learner);
      fmt::print(
          "identical: {} asks, {} results and {} failures replayed through a fresh {} "
          "learner gave exactly the recorded points\n",
          counts.asked, counts.told, counts.failed, input.config.learner);
      return 0;
    } catch (const ReplayDivergence& d) {
      fmt::print("divergent at ask {} ({}:{}): the record has {}, the fresh learner asked {}\n",
                 d.step(), path.string(), d.line(), d.recorded(), d.asked());
      return 1;
    }
  });
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
  std::string estimate;  // what the learners that estimate one number found
  const double loss = with_recorded_learner(input, [&](auto& learner) {
    using L = std::remove_reference_t<decltype(learner)>;
    if constexpr (std::is_same_v<L, Integrator>) {
      const auto& integrator = learner.inner();
      estimate =
          fmt::format("integral  {:.15g} ± {:.3g} ({} the tolerance {:g})\n", integrator.igral(),
                      integrator.err(), integrator.done() ? "within" : "not yet within",
                      integrator.tolerance());
    } else if constexpr (std::is_same_v<L, Average>) {
      const auto& average = learner.inner();
      estimate = fmt::format("mean      {:.15g} ± {:.3g} (standard error of {} samples)\n",
                             average.mean(), average.standard_error(), average.npoints());
    }
    return learner.loss();
  });
  std::string program;
  for (const auto& a : c.command.empty() ? c.worker : c.command)
    program += (program.empty() ? "" : " ") + shell_quote(a);
  fmt::print("history   {}\n", path.string());
  if (c.learner == "sequence") {
    fmt::print("learner   sequence of {} points in {} dimension{}\n", c.points.size(),
               c.dimension(), c.dimension() == 1 ? "" : "s");
  } else if (c.learner == "average") {
    fmt::print("learner   average of samples, seed as input\n");
  } else {
    fmt::print("learner   {} on {}, loss {}\n", c.learner,
               fmt::join(c.bounds | std::views::transform([](const auto& b) {
                           return fmt::format("[{}, {}]", b[0], b[1]);
                         }),
                         " x "),
               c.loss.empty()
                   ? (c.learner == "1d" || c.learner == "average1d" ? "distance" : "default")
                   : c.loss);
  }
  if (!c.learner_params.empty()) {
    std::vector<std::string> params;
    for (const auto& [name, value] : c.learner_params)
      params.push_back(fmt::format("{}={}", name, value));
    fmt::print("params    {}\n", fmt::join(params, " "));
  }
  fmt::print("program   {} ({}, master {})\n", program,
             c.command.empty() ? "workers, JSON Lines" : "one process per point", c.master);
  fmt::print("settings  workers {}, retries {}, timeout {}, seed {}, goal {}\n", c.workers,
             c.retries, c.timeout ? format_seconds(*c.timeout) : "none", c.seed,
             fmt::join(input.latest_config.goals |
                           std::views::transform([](const Goal& g) { return g.to_string(); }),
                       " or "));
  fmt::print("points    {} evaluated, {} failed, {} retried, {} asked, {} cancelled\n", tells,
             failed, retried, asks, cancelled);
  fmt::print("loss      {:.6g}\n", loss);
  fmt::print("{}", estimate);
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
  std::vector<std::pair<std::vector<double>, std::vector<double>>> rows;
  with_learner(input.config, [&](auto& learner) {
    using X = input_of<std::remove_reference_t<decltype(learner)>>;
    for (const auto& [x, y] : to_history<X, Y>(input.raw, path.string()).results()) {
      rows.emplace_back(as_row(x), y);
    }
    return 0;
  });
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
