// Parallel efficiency of every learner, from 1 to 10,000 workers, on a
// virtual clock (SimulatedMaster): how much of N workers' time a learner
// turns into progress when it must propose N points before it knows their
// results.
//
//   parallel_efficiency [--quick] [--json] [--duration DIST] [--png FILE]
//
// efficiency(N) = T1 / (N TN), where TN is the virtual time at which the run
// on N workers first reaches the learner's quality goal (a loss, or the
// learner's own tolerance). Tasks take 1 virtual second unless --duration
// says otherwise (fixed:S, uniform:LO,HI, lognormal:MU,SIGMA, pareto:SCALE,SHAPE).
// Also: the CPU seconds a simulation of 10,000 workers and 1e6 tasks takes.

#include <cairo.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <functional>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

#include "report.hpp"
#include "taskmaster/evaluate.hpp"
#include "taskmaster/learners/average_learner.hpp"
#include "taskmaster/learners/balancing_learner.hpp"
#include "taskmaster/learners/ignorant_learner.hpp"
#include "taskmaster/learners/integrator_learner.hpp"
#include "taskmaster/learners/learner_1d.hpp"
#include "taskmaster/learners/learner_2d.hpp"
#include "taskmaster/learners/learner_nd.hpp"
#include "taskmaster/masters/simulated_master.hpp"
#include "test_functions.hpp"

namespace {

using namespace taskmaster;
using taskmaster::cli::find_test_function;
using taskmaster::cli::test_point;

/// What one simulated run to the goal measured.
struct Outcome {
  double virtual_seconds = 0;  ///< when the goal first held
  std::uint64_t points = 0;    ///< told by then
  double cpu_seconds = 0;      ///< the simulation's own cost
  bool reached = false;
};

/// Runs `learner` on `workers` virtual workers until `goal` holds.
template <class L, class F>
Outcome run_to_goal(L learner, F f, const StopCondition& goal, std::size_t workers,
                    const TaskDurations& durations) {
  using X = input_of<L>;
  using Y = output_of<L>;
  const std::clock_t started = std::clock();
  SimulatedMaster<X, Y> master(std::move(f), workers, durations, {.seed = 1});
  Outcome o;
  const StopCondition stop = stop::when(goal.describe(), [&](const Progress& p) {
    const bool holds = goal(p);
    if (holds && !o.reached) {
      o.reached = true;
      o.virtual_seconds = master.now();
      o.points = p.told;
    }
    return holds;
  });
  RunOptions<X, Y> options;
  options.drain = false;
  options.keep_history = false;
  evaluate(master, learner, stop, options);
  if (!o.reached) o.virtual_seconds = master.now();
  o.cpu_seconds = static_cast<double>(std::clock() - started) / CLOCKS_PER_SEC;
  return o;
}

/// A learner, a public test function and a quality goal.
struct Case {
  std::string name;
  std::string goal;
  std::function<Outcome(std::size_t workers, const TaskDurations&)> run;
};

template <class X>
double value_of(const char* function, const X& x) {
  const auto p = test_point(x);
  return find_test_function(function)->f(p.x, p.seed);
}

std::vector<Case> cases(bool quick) {
  std::vector<Case> out;
  const double loss_1d = quick ? 2e-3 : 5e-5;
  out.push_back({"1d", fmt::format("peak, loss <= {}", loss_1d), [=](auto n, const auto& d) {
                   return run_to_goal(
                       Learner1D<double>(-1, 1), [](double x) { return value_of("peak", x); },
                       stop::loss_below(loss_1d), n, d);
                 }});
  const double loss_2d = quick ? 5e-3 : 1e-4;
  out.push_back({"2d", fmt::format("ring, loss <= {}", loss_2d), [=](auto n, const auto& d) {
                   return run_to_goal(
                       Learner2D<double>(Bounds2D{{{-1, 1}, {-1, 1}}}),
                       [](const Point2& x) { return value_of("ring", x); },
                       stop::loss_below(loss_2d), n, d);
                 }});
  const double loss_nd = quick ? 2e-2 : 2e-4;
  out.push_back({"nd", fmt::format("sphere 3D, loss <= {}", loss_nd), [=](auto n, const auto& d) {
                   return run_to_goal(
                       LearnerND<double>({{-1, 1}, {-1, 1}, {-1, 1}}),
                       [](const std::vector<double>& x) { return value_of("sphere", x); },
                       stop::loss_below(loss_nd), n, d);
                 }});
  const double tol = quick ? 1e-6 : 1e-8;
  for (const char* integrand : {"1/sqrt", "cos100"}) {
    out.push_back({fmt::format("integrator {}", integrand), fmt::format("tol {}", tol),
                   [=](auto n, const auto& d) {
                     return run_to_goal(
                         IntegratorLearner(0, 1, tol),
                         [=](double x) { return value_of(integrand, x); }, stop::learner_done(), n,
                         d);
                   }});
  }
  const double atol = quick ? 0.02 : 0.005;
  out.push_back({"average", fmt::format("noise, atol {}", atol), [=](auto n, const auto& d) {
                   return run_to_goal(
                       AverageLearner(atol),
                       [](std::uint64_t seed) { return value_of("noise", seed); },
                       stop::learner_done(), n, d);
                 }});
  const double loss_balancing = quick ? 5e-3 : 1e-3;
  out.push_back({"balancing", fmt::format("8 x 1d peak, loss <= {}", loss_balancing),
                 [=](auto n, const auto& d) {
                   BalancingLearner<double, double> learner;
                   for (int i = 0; i < 8; ++i) learner.add(Learner1D<double>(-1, 1));
                   // Learner i samples the peak shifted by i / 10.
                   return run_to_goal(
                       std::move(learner),
                       [](const std::pair<std::size_t, double>& p) {
                         return value_of("peak", p.second - static_cast<double>(p.first) / 10);
                       },
                       stop::loss_below(loss_balancing), n, d);
                 }});
  return out;
}

struct Curve {
  std::string name;
  std::vector<std::pair<std::size_t, double>> points;  ///< (workers, efficiency)
};

/// Efficiency against workers (log scale), one line per learner.
void draw(const std::vector<Curve>& curves, const std::vector<std::size_t>& workers,
          const std::string& file, const std::string& title) {
  const int width = 900;
  const int height = 560;
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
  cairo_t* cr = cairo_create(surface);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  const double left = 70, top = 40, w = 600, h = 460;
  const double lo = std::log10(1.0), hi = std::log10(static_cast<double>(workers.back()));
  const auto px = [&](double n) { return left + w * (std::log10(n) - lo) / (hi - lo); };
  const auto py = [&](double e) { return top + h * (1 - std::min(e, 1.1) / 1.1); };
  cairo_set_line_width(cr, 1);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);
  for (double e = 0; e <= 1.01; e += 0.1) {
    cairo_set_source_rgba(cr, 0, 0, 0, 0.1);
    cairo_move_to(cr, left, py(e));
    cairo_line_to(cr, left + w, py(e));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    const std::string label = fmt::format("{:.1f}", e);
    cairo_move_to(cr, left - 30, py(e) + 4);
    cairo_show_text(cr, label.c_str());
  }
  for (std::size_t n : workers) {
    cairo_set_source_rgba(cr, 0, 0, 0, 0.1);
    cairo_move_to(cr, px(static_cast<double>(n)), top);
    cairo_line_to(cr, px(static_cast<double>(n)), top + h);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    const std::string label = std::to_string(n);
    cairo_move_to(cr, px(static_cast<double>(n)) - 3.5 * static_cast<double>(label.size()),
                  top + h + 18);
    cairo_show_text(cr, label.c_str());
  }
  cairo_rectangle(cr, left, top, w, h);
  cairo_stroke(cr);
  cairo_set_font_size(cr, 14);
  cairo_move_to(cr, left, top - 14);
  cairo_show_text(cr, title.c_str());
  cairo_move_to(cr, left + w / 2 - 30, top + h + 42);
  cairo_show_text(cr, "workers");
  cairo_save(cr);
  cairo_move_to(cr, left - 45, top + h / 2 + 70);
  cairo_rotate(cr, -std::numbers::pi / 2);
  cairo_show_text(cr, "parallel efficiency T1 / (N TN)");
  cairo_restore(cr);
  const double colours[][3] = {{0.12, 0.47, 0.71}, {1.0, 0.5, 0.05},  {0.17, 0.63, 0.17},
                               {0.84, 0.15, 0.16}, {0.58, 0.4, 0.74}, {0.55, 0.34, 0.29},
                               {0.89, 0.47, 0.76}, {0.5, 0.5, 0.5}};
  cairo_set_font_size(cr, 12);
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const auto& c = colours[i % 8];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_set_line_width(cr, 2);
    bool first = true;
    for (const auto& [n, e] : curves[i].points) {
      const double x = px(static_cast<double>(n));
      if (first) {
        cairo_move_to(cr, x, py(e));
      } else {
        cairo_line_to(cr, x, py(e));
      }
      first = false;
    }
    cairo_stroke(cr);
    for (const auto& [n, e] : curves[i].points) {
      cairo_arc(cr, px(static_cast<double>(n)), py(e), 3, 0, 2 * std::numbers::pi);
      cairo_fill(cr);
    }
    const double ly = top + 20 + 22 * static_cast<double>(i);
    cairo_move_to(cr, left + w + 20, ly);
    cairo_line_to(cr, left + w + 45, ly);
    cairo_stroke(cr);
    cairo_move_to(cr, left + w + 52, ly + 4);
    cairo_show_text(cr, curves[i].name.c_str());
  }
  cairo_destroy(cr);
  cairo_surface_write_to_png(surface, file.c_str());
  cairo_surface_destroy(surface);
}

/// Seconds of CPU time to simulate `tasks` tasks on `workers` workers with
/// `learner` (the simulation runs on one core; CPU time does not depend on
/// what else the machine runs).
template <class L, class F>
double seconds_to_simulate(L learner, F f, std::size_t workers, std::uint64_t tasks) {
  const std::clock_t started = std::clock();
  SimulatedMaster<input_of<L>, output_of<L>> master(std::move(f), workers,
                                                    TaskDurations::lognormal(0, 1), {.seed = 1});
  RunOptions<input_of<L>, output_of<L>> options;
  options.keep_history = false;
  evaluate(master, learner, stop::points(tasks), options);
  return static_cast<double>(std::clock() - started) / CLOCKS_PER_SEC;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(
      argc, argv,
      {.program = "parallel_efficiency",
       .value_options = {{"--duration", "DIST", "task durations (default fixed:1)"},
                         {"--png", "FILE", "draw the curves into FILE (default: none)"},
                         {"--only", "LEARNER", "measure only this learner (repeatable)"}}});
  const TaskDurations durations =
      TaskDurations::parse(report.value("--duration").value_or("fixed:1"));
  const std::string duration_text = report.value("--duration").value_or("fixed:1");
  const std::vector<std::size_t> workers =
      report.quick() ? std::vector<std::size_t>{1, 2, 8, 64}
                     : std::vector<std::size_t>{1, 2, 8, 64, 512, 4096, 10000};
  const auto only = report.values("--only");

  report.heading("parallel efficiency T1 / (N TN) on a virtual clock, durations {}", duration_text);
  std::vector<Curve> curves;
  for (const auto& c : cases(report.quick())) {
    if (!only.empty() && std::find(only.begin(), only.end(), c.name) == only.end()) continue;
    report.heading("{} ({})", c.name, c.goal);
    Curve curve{c.name, {}};
    Outcome one;
    for (std::size_t n : workers) {
      const Outcome o = c.run(n, durations);
      if (n == 1) one = o;
      const double efficiency = one.virtual_seconds / (static_cast<double>(n) * o.virtual_seconds);
      curve.points.emplace_back(n, efficiency);
      report.add({.name = fmt::format("{} efficiency N={}", c.name, n),
                  .value = efficiency,
                  .unit = "",
                  .parameters = {{"learner", c.name},
                                 {"goal", c.goal},
                                 {"workers", n},
                                 {"durations", duration_text},
                                 {"virtual_seconds", o.virtual_seconds},
                                 {"points", o.points},
                                 {"points_1_worker", one.points},
                                 {"goal_reached", o.reached},
                                 {"cpu_seconds", o.cpu_seconds},
                                 {"cpu_us_per_point",
                                  1e6 * o.cpu_seconds /
                                      static_cast<double>(std::max<std::uint64_t>(o.points, 1))}},
                  .note = fmt::format("{} points, {} virtual s, {:.2f} CPU s", o.points,
                                      o.virtual_seconds, o.cpu_seconds)});
    }
    curves.push_back(std::move(curve));
  }
  if (const auto png = report.value("--png")) {
    draw(curves, workers, *png,
         fmt::format("Parallel efficiency on a virtual clock (task durations {})", duration_text));
  }

  const std::uint64_t tasks = report.quick() ? 100000 : 1000000;
  const std::size_t many = 10000;
  report.heading("a simulation of {} workers and {} tasks (lognormal:0,1 durations)", many, tasks);
  // IgnorantLearner: the loop and the master alone (a SequenceLearner would
  // scan its 10,000 pending points at every tell).
  report.add({.name = "simulate 10000 workers, ignorant",
              .value = seconds_to_simulate(
                  IgnorantLearner<double, double>(
                      [x = 0.0]() mutable -> std::optional<double> { return x += 1; }),
                  [](double x) { return x; }, many, tasks),
              .unit = "s",
              .parameters = {{"workers", many}, {"tasks", tasks}, {"learner", "ignorant"}},
              .target = 10.0,
              .lower_is_better = true,
              .note = "CPU time; the loop and the master alone"});
  report.add(
      {.name = "simulate 10000 workers, learner 1d",
       .value = seconds_to_simulate(
           Learner1D<double>(-1, 1), [](double x) { return value_of("peak", x); }, many, tasks),
       .unit = "s",
       .parameters = {{"workers", many}, {"tasks", tasks}, {"learner", "1d"}},
       .target = 10.0,
       .lower_is_better = true,
       .note = "CPU time, 10,000 points pending in the learner throughout"});
  return report.exit_status();
}
