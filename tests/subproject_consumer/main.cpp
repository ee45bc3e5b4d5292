// A program of a project that builds taskmaster as its subproject: the whole
// public API is included, ThreadMaster and Learner1D are used, and neither
// CGAL nor Eigen may come in through any header.
#include <taskmaster/taskmaster.hpp>

#include <cmath>
#include <iostream>

#ifdef CGAL_VERSION
#error "a public taskmaster header includes CGAL"
#endif
#ifdef EIGEN_WORLD_VERSION
#error "a public taskmaster header includes Eigen"
#endif

int main() {
  taskmaster::Learner1D<> learner(-1.0, 1.0);
  taskmaster::ThreadMaster<double, double> master([](double x) { return std::tanh(10 * x); }, 2);
  auto summary = taskmaster::evaluate(master, learner, taskmaster::stop::points(20));
  std::cout << "taskmaster " << taskmaster::version() << ": told " << summary.progress.told << "\n";
  return summary.progress.told == 20 ? 0 : 1;
}
