// Uses the installed mesh learners' library the way a user's project would.
#include <taskmaster/learners/learner_2d.hpp>
#include <taskmaster/masters/serial_master.hpp>
#include <taskmaster/taskmaster.hpp>

#include <iostream>

int main() {
  taskmaster::Learner2D<double> learner({{{-1.0, 1.0}, {-1.0, 1.0}}});
  taskmaster::SerialMaster<taskmaster::Point2, double> master(
      [](const taskmaster::Point2& p) { return p[0] * p[1]; });
  auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(30));
  std::cout << "mesh told " << summary.progress.told << "\n";
  return summary.progress.told == 30 ? 0 : 1;
}
