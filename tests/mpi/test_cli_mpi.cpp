// `taskmaster run --master mpi` under a real mpirun: rank 0 runs the loop,
// every other rank runs the worker program. Not in sanitizer builds
// (OpenMPI's own allocations would drown the reports).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include "helpers/cli_tool.hpp"

using taskmaster::test_support::cli_source_dir;
using taskmaster::test_support::cli_tool;
using taskmaster::test_support::Outcome;
using taskmaster::test_support::read_file;

namespace {

class CliOverMpi : public taskmaster::test_support::CliTest {};

TEST_F(CliOverMpi, MasterRunsTheProgramOnEveryWorkerRank) {
  for (const char* name : {"OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM",
                           "OMPI_MCA_rmaps_base_oversubscribe"}) {
    ::setenv(name, "1", 1);
  }
  ::setenv("OMPI_MCA_oob_tcp_if_include", "lo", 1);
  ::setenv("OMPI_MCA_btl_tcp_if_include", "lo", 1);
  ::setenv("OMPI_MCA_btl", "self,tcp", 1);
  const auto history = path("mpi.jsonl");
  const Outcome o =
      run({"-n",
           "4",
           "--oversubscribe",
           cli_tool,
           "run",
           "--master",
           "mpi",
           "--learner",
           "2d",
           "--bounds",
           "-1,1",
           "--bounds",
           "-1,1",
           "--goal",
           "npoints=40",
           "--quiet",
           "--history",
           history,
           "--worker",
           "/usr/bin/python3 " + cli_source_dir + "/tests/helpers/cli_shell_worker.py"},
          TASKMASTER_MPIEXEC);
  ASSERT_EQ(o.status, 0) << o.err;
  const auto rows = exported(history);
  ASSERT_EQ(rows.size(), 40U);
  for (const auto& r : rows) {
    const double r2 = r[0] * r[0] + r[1] * r[1];
    EXPECT_NEAR(r[2], r[0] + r[1] + std::exp(-(r2 - 0.5) * (r2 - 0.5) / 0.01), 1e-12);
  }
  std::set<std::string> ranks;
  std::istringstream lines(read_file(history));
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"e\":\"tell\"") == std::string::npos) continue;
    const auto at = line.find("\"worker\":");
    if (at != std::string::npos)
      ranks.insert(line.substr(at + 9, line.find_first_of(",}", at) - at - 9));
  }
  EXPECT_EQ(ranks, (std::set<std::string>{"1", "2", "3"}));
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("master mpi"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("workers 3"), std::string::npos) << info.out;
  EXPECT_EQ(run({"replay", history}).status, 0);
}

}  // namespace
