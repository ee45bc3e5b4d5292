// Uses the installed library the way a user's project would.
#include <taskmaster/taskmaster.hpp>

#include <iostream>
#include <ranges>

int main() {
  taskmaster::IgnorantLearner<int, int> learner(std::views::iota(0, 10));
  taskmaster::ThreadMaster<int, int> master([](int x) { return x * x; }, 2);
  auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::exhausted());
  std::cout << "told " << summary.progress.told << "\n";
  return summary.progress.told == 10 ? 0 : 1;
}
