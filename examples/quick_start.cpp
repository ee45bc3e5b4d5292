// The README's short example, kept compiling.
#include <taskmaster/taskmaster.hpp>

#include <cmath>

int main() {
  using namespace taskmaster;
  SequenceLearner<double, double> learner({0.0, 0.5, 1.0, 1.5, 2.0});
  ThreadMaster<double, double> master([](double x) { return std::exp(x); }, 4);

  auto summary = evaluate(master, learner, stop::learner_done() || stop::duration(60),
                          {.retry = {.retries = 2}, .history_file = "run.jsonl"});

  // Later, or in another process: replay the record into a fresh learner.
  SequenceLearner<double, double> fresh({0.0, 0.5, 1.0, 1.5, 2.0});
  replay(read_history<double, double>("run.jsonl"), fresh);
  return summary.progress.told == 5 && fresh.done() ? 0 : 1;
}
