// BatchMaster: what a batch costs the loop, and what batching gains when
// every call has a fixed cost (a kernel launch, a round trip to a device).
//
//   batch_master [--quick] [--json]
//
// A SequenceLearner hands out N inputs, asked as many at a time as a batch
// holds. The trivial function doubles its inputs; the "launch" function
// sleeps 1 ms per call before doing the same, like a GPU call dominated by
// its launch latency. ThreadMaster with one worker, one call per input, is
// the baseline measured in the same run.

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <numeric>
#include <span>
#include <thread>
#include <vector>

#include "report.hpp"
#include "taskmaster/learners/sequence_learner.hpp"
#include "taskmaster/masters/batch_master.hpp"
#include "taskmaster/masters/thread_master.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

namespace tk = taskmaster;

std::vector<double> doubled(std::span<const double> xs) {
  std::vector<double> ys(xs.begin(), xs.end());
  for (double& y : ys) y *= 2;
  return ys;
}

/// Inputs per second through `master` for `n` inputs asked `ask_batch` at a time.
template <class M>
double rate(M& master, std::size_t n, std::size_t ask_batch) {
  std::vector<double> inputs(n);
  std::iota(inputs.begin(), inputs.end(), 0.0);
  tk::SequenceLearner<double, double> learner(std::move(inputs));
  const auto start = std::chrono::steady_clock::now();
  const auto summary = tk::evaluate(master, learner, tk::stop::exhausted(),
                                    {.ask_batch = ask_batch, .keep_history = false});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(summary.progress.told) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  bench::Report report(argc, argv, {.program = "batch_master"});
  const std::size_t n = report.quick() ? 20000 : 400000;

  report.heading("BatchMaster, {} trivial inputs (the loop's own cost)", n);
  tk::ThreadMaster<double, double> one_thread([](double x) { return 2 * x; }, 1);
  const double baseline = rate(one_thread, n, 1);
  report.add({.name = "thread_master_1_worker_trivial",
              .value = baseline,
              .unit = "tasks/s",
              .parameters = {{"tasks", n}},
              .note = "baseline: one call per input on one worker thread"});
  for (std::size_t batch : {1, 16, 256}) {
    tk::BatchMaster<double, double> master(doubled, {.max_batch = batch});
    const double value = rate(master, n, batch);
    report.add({.name = fmt::format("batch_master_trivial_batch_{}", batch),
                .value = value,
                .unit = "tasks/s",
                .parameters = {{"tasks", n}, {"max_batch", batch}},
                .note = fmt::format("{:.2f}x the baseline", value / baseline)});
  }

  const std::size_t launches = report.quick() ? 2000 : 20000;
  report.heading("BatchMaster, {} inputs, 1 ms fixed cost per call", launches);
  const auto with_launch = [](std::span<const double> xs) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return doubled(xs);
  };
  double single = 0;
  for (std::size_t batch : {1, 256}) {
    tk::BatchMaster<double, double> master(with_launch, {.max_batch = batch});
    const double value = rate(master, batch == 1 ? launches / 10 : launches, batch);
    if (batch == 1) single = value;
    report.add(
        {.name = fmt::format("batch_master_1ms_launch_batch_{}", batch),
         .value = value,
         .unit = "tasks/s",
         .parameters = {{"tasks", batch == 1 ? launches / 10 : launches}, {"max_batch", batch}},
         .note = "each call sleeps 1 ms, then doubles its inputs"});
    if (batch == 256) {
      report.add({.name = "batching_gain_1ms_launch",
                  .value = value / single,
                  .unit = "ratio",
                  .parameters = {{"max_batch", batch}},
                  .note = "batches of 256 over batches of 1, same function"});
    }
  }
  return report.exit_status();
}
