// Samples a function with a sharp peak in parallel, where it changes most,
// streams the run's history to a file, then replays the file into a fresh
// learner to show the run is reproducible exactly.
//
//   parallel_sampling [--points N] [--workers W] [--history FILE] [--seed S]

#include <fmt/format.h>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "taskmaster/taskmaster.hpp"

namespace {

/// A minimal adaptive learner on [a, b]: it splits the interval whose
/// straight-line piece is longest (in x and y), so points gather where the
/// function changes fast. The entropy decides where inside the interval the
/// split falls, so the learner stays replayable.
class RefiningLearner {
 public:
  using input_type = double;
  using output_type = double;

  RefiningLearner(double a, double b) : a_(a), b_(b) {}

  std::optional<double> ask(taskmaster::Entropy entropy) {
    if (points_.empty()) return take(a_);
    if (points_.size() == 1) return take(b_);
    double best = -1.0;
    double left = a_;
    double right = b_;
    for (auto it = points_.begin(), next = std::next(it); next != points_.end(); ++it, ++next) {
      const double dx = (next->first - it->first) / (b_ - a_);
      const double dy = it->second && next->second ? *next->second - *it->second : 0.0;
      const double length = std::hypot(dx, dy);
      if (length > best) {
        best = length;
        left = it->first;
        right = next->first;
      }
    }
    const double where = 0.4 + 0.2 * taskmaster::unit_interval(entropy);
    return take(left + (right - left) * where);
  }
  void tell(const double& x, const double& y) { points_[x] = y; }
  void fail(const double& x) { points_.erase(x); }

  [[nodiscard]] const std::map<double, std::optional<double>>& points() const { return points_; }

 private:
  double take(double x) {
    points_.emplace(x, std::nullopt);
    return x;
  }
  double a_;
  double b_;
  std::map<double, std::optional<double>> points_;
};

/// An "expensive" function: a Lorentzian peak, with a random evaluation time
/// so results come back out of order.
double peak(double x) {
  thread_local std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution(100, 2000)(rng)));
  const double a = 0.01;
  return x + a * a / (a * a + x * x);
}

struct Arguments {
  std::uint64_t points = 200;
  std::size_t workers = 4;
  std::string history = "parallel_sampling.jsonl";
  std::uint64_t seed = 1;
};

Arguments parse(int argc, char** argv) {
  Arguments args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(fmt::format("{} needs a value", flag));
    const std::string value = argv[++i];
    if (flag == "--points") {
      args.points = std::stoull(value);
    } else if (flag == "--workers") {
      args.workers = std::stoull(value);
    } else if (flag == "--history") {
      args.history = value;
    } else if (flag == "--seed") {
      args.seed = std::stoull(value);
    } else {
      throw std::invalid_argument(fmt::format("unknown option {}", flag));
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) try {
  const Arguments args = parse(argc, argv);
  using namespace taskmaster;

  RefiningLearner learner(-1.0, 1.0);
  ThreadMaster<double, double> master(peak, args.workers);
  auto summary =
      evaluate(master, learner, stop::points(args.points),
               {.seed = args.seed,
                .history_file = args.history,
                .hook = [](const auto& event, const Progress& progress) {
                  if (event.kind == EventKind::tell && progress.told % 50 == 0) {
                    fmt::print("  {:5} points told, {:.2f} s\n", progress.told, progress.seconds());
                  }
                }});
  std::size_t near_peak = 0;
  for (const auto& [x, y] : learner.points()) near_peak += std::fabs(x) < 0.05 ? 1 : 0;
  fmt::print(
      "sampled {} points on {} workers in {:.2f} s ({}); {} of them within 0.05 of the peak\n",
      summary.progress.told, args.workers, summary.progress.seconds(), summary.reason, near_peak);
  fmt::print("history written to {}\n", args.history);

  const auto history = read_history<double, double>(args.history);
  RefiningLearner fresh(-1.0, 1.0);
  const auto replayed = replay(history, fresh);
  const bool same = fresh.points() == learner.points();
  fmt::print("replayed {} results from the file: final learner state {}\n", replayed.told,
             same ? "identical" : "DIFFERENT");
  return same ? 0 : 1;
} catch (const std::exception& e) {
  fmt::print(stderr, "parallel_sampling: {}\n", e.what());
  return 2;
}
