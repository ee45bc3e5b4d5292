// End-to-end tests of the taskmaster command: the built binary is run as a
// user would run it, against real external programs and Python workers.

#include <cairo.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "helpers/cli_tool.hpp"
#include "support/worker_processes.hpp"

namespace {

namespace fs = std::filesystem;
using taskmaster::test_support::Outcome;
using taskmaster::test_support::read_file;
using taskmaster::test_support::Tool;

const std::string tool = taskmaster::test_support::cli_tool;
const std::string source_dir = taskmaster::test_support::cli_source_dir;
const std::string peak = source_dir + "/tests/helpers/cli_peak.sh";
const std::string python_worker =
    "/usr/bin/python3 " + source_dir + "/examples/workers/python_worker.py";
const std::string demo_worker =
    "/usr/bin/python3 " + source_dir + "/tools/taskmaster/demo_worker.py";

double peak_function(double x) { return x + std::exp(-(x - 0.3) * (x - 0.3) / 0.01); }

class Cli : public taskmaster::test_support::CliTest {
 protected:
  std::size_t count_lines(const std::string& file, const std::string& needle) {
    return taskmaster::test_support::count_lines(file, needle);
  }
};

// --- run --------------------------------------------------------------------

TEST_F(Cli, RunsAnExternalProgramOnePointPerProcess) {
  const auto history = path("run.jsonl");
  const Outcome o = run({"run", "--bounds", "-1,1", "--goal", "npoints=40", "-j", "3", "--history",
                         history, "--", peak, "{x}"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("40 points"), std::string::npos) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "x,y");
  ASSERT_EQ(rows.size(), 40U);
  double gap_at_peak = 2, gap_on_slope = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 2U);
    EXPECT_NEAR(rows[i][1], peak_function(rows[i][0]), 1e-12) << "x = " << rows[i][0];
    if (i == 0) continue;
    const double gap = rows[i][0] - rows[i - 1][0];
    if (std::fabs(rows[i][0] - 0.3) < 0.1) gap_at_peak = std::min(gap_at_peak, gap);
    if (rows[i][0] < -0.2) gap_on_slope = std::max(gap_on_slope, gap);
  }
  // Adaptive sampling: points crowd where the function changes fastest.
  EXPECT_LT(gap_at_peak * 3, gap_on_slope);
}

TEST_F(Cli, ArrayOutputsBecomeComponents) {
  const auto history = path("pair.jsonl");
  const Outcome o = run({"run", "--bounds", "0,1", "--goal", "npoints=20", "-j", "2", "--quiet",
                         "--history", history, "--", peak, "{x}", "pair"});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "x,y0,y1");
  ASSERT_EQ(rows.size(), 20U);
  for (const auto& r : rows) EXPECT_NEAR(r[2], r[1] * r[1], 1e-9 * (1 + r[2]));
}

TEST_F(Cli, RunsAPythonWorker) {
  const auto history = path("worker.jsonl");
  const Outcome o = run({"run", "--bounds", "-1,1", "--goal", "npoints=30", "-j", "2", "--history",
                         history, "--worker", python_worker});
  ASSERT_EQ(o.status, 0) << o.err;
  const auto rows = exported(history);
  ASSERT_EQ(rows.size(), 30U);
  for (const auto& r : rows) EXPECT_NEAR(r[1], peak_function(r[0]), 1e-12);
  EXPECT_EQ(run({"replay", history}).status, 0);
}

TEST_F(Cli, SendsTasksAheadToWorkersAndResumesTheSame) {
  const auto history = path("ahead.jsonl");
  const Outcome o = run({"run", "--bounds", "-1,1", "--goal", "npoints=40", "-j", "2", "--prefetch",
                         "2", "--quiet", "--history", history, "--worker", python_worker});
  ASSERT_EQ(o.status, 0) << o.err;
  // The header keeps the setting; the learner had 2 x (1 + 2) points pending.
  EXPECT_NE(read_file(history).find("\"prefetch\":2"), std::string::npos);
  EXPECT_EQ(count_lines(history, "{\"e\":\"capacity\",\"n\":6,"), 1U);
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("workers 2 (each sent 2 ahead)"), std::string::npos) << info.out;
  ASSERT_EQ(run({"resume", "--quiet", history, "--goal", "npoints=60"}).status, 0);
  EXPECT_EQ(count_lines(history, "{\"e\":\"capacity\",\"n\":6,"), 2U);
  const auto rows = exported(history);
  ASSERT_EQ(rows.size(), 60U);
  for (const auto& r : rows) EXPECT_NEAR(r[1], peak_function(r[0]), 1e-12);
  EXPECT_EQ(run({"replay", history}).status, 0);
}

TEST_F(Cli, RunsATwoDimensionalLearnerWithAWorker) {
  const auto history = path("2d.jsonl");
  const Outcome o =
      run({"run", "--learner", "2d", "--bounds", "-1,1", "--bounds", "-1,1", "--goal", "npoints=80",
           "-j", "2", "--quiet", "--history", history, "--worker", demo_worker});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "x0,x1,y");
  ASSERT_EQ(rows.size(), 80U);
  for (const auto& r : rows) {
    EXPECT_GE(r[0], -1.0);
    EXPECT_LE(r[1], 1.0);
  }
  const Outcome info = run({"info", history});
  EXPECT_EQ(info.status, 0);
  EXPECT_NE(info.out.find("80 evaluated"), std::string::npos) << info.out;
}

TEST_F(Cli, RunsATwoDimensionalLearnerOnePointPerProcess) {
  const auto history = path("2d-command.jsonl");
  const Outcome o = run({"run", "--learner", "2d", "--bounds", "0,1", "--bounds", "-2,2", "--goal",
                         "npoints=30", "-j", "3", "--quiet", "--history", history, "--",
                         source_dir + "/tests/helpers/cli_saddle.sh", "{x0}", "{x1}"});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "x0,x1,y");
  ASSERT_EQ(rows.size(), 30U);
  for (const auto& r : rows) EXPECT_NEAR(r[2], r[0] * r[1] + r[0], 1e-12);
  EXPECT_EQ(run({"replay", history}).status, 0);
}

TEST_F(Cli, FailingPointsAreRecordedWithTheirReason) {
  const auto history = path("fail.jsonl");
  // awk prints nothing useful for a non-number: the program "prints" an empty line.
  const Outcome o = run({"run", "--bounds", "0,1", "--goal", "npoints=5", "-j", "1", "--quiet",
                         "--history", history, "--", "/bin/false"});
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_NE(o.err.find("every point failed"), std::string::npos) << o.err;
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("5 x command '/bin/false' exited with status 1"), std::string::npos)
      << info.out;
}

TEST_F(Cli, TimeoutsKillSlowProgramsAndRetriesAreCounted) {
  const auto history = path("slow.jsonl");
  const auto started = std::chrono::steady_clock::now();
  const Outcome o =
      run({"run", "--bounds", "0,1", "--goal", "npoints=2", "-j", "2", "--quiet", "--timeout",
           "0.3", "--retries", "1", "--history", history, "--", "/bin/sleep", "30"});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(o.status, 1) << o.err;
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("0 evaluated, 2 failed, 2 retried"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("timed out after 0.3 s"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("retries 1, timeout 0.3 s"), std::string::npos) << info.out;
}

// --- replay and resume --------------------------------------------------------

TEST_F(Cli, ReproducesTheRecordAndSpotsAnEditedPoint) {
  const auto history = path("replay.jsonl");
  ASSERT_EQ(run({"run", "--bounds", "-1,1", "--goal", "npoints=25", "-j", "3", "--quiet",
                 "--history", history, "--", peak, "{x}"})
                .status,
            0);
  const Outcome same = run({"replay", history});
  EXPECT_EQ(same.status, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("identical"), std::string::npos) << same.out;

  // A run whose recorded point differs from what the learner asks: as if the
  // learner were not deterministic.
  std::istringstream lines(read_file(history));
  std::ofstream edited(path("edited.jsonl"));
  int asks = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"e\":\"ask\"") != std::string::npos && ++asks == 10) {
      const auto x = line.find("\"x\":");
      const auto end = line.find(',', x);
      line = line.substr(0, x) + "\"x\":0.123456789" + line.substr(end);
    }
    edited << line << '\n';
  }
  edited.close();
  const Outcome diverged = run({"replay", path("edited.jsonl")});
  EXPECT_EQ(diverged.status, 1) << diverged.out << diverged.err;
  EXPECT_NE(diverged.out.find("divergent at ask 9"), std::string::npos) << diverged.out;
  EXPECT_NE(diverged.out.find("0.123456789"), std::string::npos) << diverged.out;
}

TEST_F(Cli, CarriesOnARunKilledWithSigkill) {
  const auto history = path("killed.jsonl");
  {
    Tool t(dir_, {"run", "--bounds", "-1,1", "--goal", "npoints=60", "-j", "2", "--quiet",
                  "--history", history, "--", peak, "{x}", "slow"});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (count_lines(history, "\"e\":\"tell\"") < 8 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    t.signal(SIGKILL);
    EXPECT_EQ(t.wait(), 128 + SIGKILL);
  }
  const std::size_t told_before = count_lines(history, "\"e\":\"tell\"");
  ASSERT_GE(told_before, 8U);
  ASSERT_LT(told_before, 60U);
  EXPECT_EQ(count_lines(history, "\"e\":\"end\""), 0U);

  const Outcome resumed = run({"resume", history, "--quiet"});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  const auto rows = exported(history);
  EXPECT_EQ(rows.size(), 60U);
  for (const auto& r : rows) EXPECT_NEAR(r[1], peak_function(r[0]), 1e-12);
  const Outcome replayed = run({"replay", history});
  EXPECT_EQ(replayed.status, 0) << replayed.out;
}

TEST_F(Cli, CtrlCDrainsAndSaysHowToCarryOn) {
  const auto history = path("interrupted.jsonl");
  Tool t(dir_, {"run", "--bounds", "-1,1", "--goal", "npoints=1000", "-j", "2", "--history",
                history, "--", peak, "{x}", "slow"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (count_lines(history, "\"e\":\"tell\"") < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  t.signal(SIGINT);
  EXPECT_EQ(t.wait(), 130);
  EXPECT_NE(t.err().find("taskmaster resume " + history), std::string::npos) << t.err();
  // Drained: every asked point has its result, and the run ended cleanly.
  EXPECT_EQ(count_lines(history, "\"e\":\"ask\""), count_lines(history, "\"e\":\"tell\""));
  EXPECT_EQ(count_lines(history, "\"e\":\"end\""), 1U);
  EXPECT_LT(count_lines(history, "\"e\":\"tell\""), 1000U);
  EXPECT_EQ(run({"replay", history}).status, 0);
}

TEST_F(Cli, SecondCtrlCGivesUpTheProgramsInFlight) {
  const auto history = path("abandoned.jsonl");
  const std::string marker = taskmaster::test_support::process_marker();
  // Every point takes a minute, in a program that starts another: only
  // giving up (the whole process group) ends this run soon.
  const std::string slow =
      "import subprocess, sys; subprocess.run(['/usr/bin/python3', '-c', "
      "'import time; time.sleep(60)', sys.argv[1]]); print(1)";
  Tool t(dir_, {"run", "--bounds", "-1,1", "--goal", "npoints=100", "-j", "2", "--history", history,
                "--", "/usr/bin/python3", "-c", slow, marker});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // The marker is on the tool's command line too: 1 + 2 programs + 2 children.
  while (taskmaster::subprocess::live_processes_with(marker).size() < 5 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(taskmaster::subprocess::live_processes_with(marker).size(), 5U)
      << "the tool and two programs, each with the child it started";
  const auto pressed = std::chrono::steady_clock::now();
  t.signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  t.signal(SIGINT);
  EXPECT_EQ(t.wait(), 130);
  EXPECT_LT(std::chrono::steady_clock::now() - pressed, std::chrono::seconds(20));
  EXPECT_TRUE(taskmaster::test_support::survivors(marker).empty());
  EXPECT_NE(t.err().find("giving up the tasks in flight"), std::string::npos) << t.err();
  EXPECT_NE(t.err().find("taskmaster resume " + history), std::string::npos) << t.err();
  // The abandoned points are neither told nor failed: the run ended cleanly
  // with them unresolved, and resume asks them again.
  EXPECT_EQ(count_lines(history, "\"e\":\"ask\""), 2U);
  EXPECT_EQ(count_lines(history, "\"e\":\"tell\""), 0U);
  EXPECT_EQ(count_lines(history, "\"e\":\"fail\""), 0U);
  EXPECT_EQ(count_lines(history, "\"e\":\"end\""), 1U);
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("0 evaluated, 0 failed, 0 retried, 2 asked"), std::string::npos)
      << info.out;
}

// --- usage errors -------------------------------------------------------------

TEST_F(Cli, UsageErrorsExitWithStatusTwoAndNameTheProblem) {
  const auto existing = path("existing.jsonl");
  std::ofstream(existing) << "{}\n";
  const auto non_executable = path("data.txt");
  std::ofstream(non_executable) << "not a program\n";
  const auto ragged = path("ragged.txt");
  std::ofstream(ragged) << "0 1\n# a comment\n2\n";
  const auto existing_points = path("points.txt");
  std::ofstream(existing_points) << "0.5\n";
  const auto not_numbers = path("words.txt");
  std::ofstream(not_numbers) << "one two\n";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"run", "--learner", "3d", "--bounds", "0,1", "--", peak}, "unknown learner '3d'"},
      {{"run", "--learner", "2d", "--bounds", "0,1", "--", peak}, "learner 2d needs 2 pairs"},
      {{"run", "--learner", "nd", "--bounds", "0,1", "--", peak},
       "learner nd needs at least 2 pairs"},
      {{"run", "--bounds", "0,1", "--bounds", "0,1", "--", peak}, "learner 1d needs 1 pair"},
      {{"run", "--bounds", "1,0", "--", peak}, "need finite lo < hi"},
      {{"run", "--bounds", "zero,1", "--", peak}, "--bounds: cannot read 'zero,1'"},
      {{"run", "--bounds", "0,1", "--goal", "npoints=many", "--", peak},
       "--goal: cannot read 'npoints=many'"},
      {{"run", "--bounds", "0,1", "--goal", "accuracy=3", "--", peak}, "unknown goal 'accuracy'"},
      {{"run", "--bounds", "0,1", "--goal", "duration=soon", "--", peak}, "--goal: cannot read"},
      {{"run", "--bounds", "0,1", "--loss", "wiggly", "--", peak}, "unknown loss 'wiggly'"},
      {{"run", "--bounds", "0,1", "--", "/no/such/program"},
       "program '/no/such/program' is missing or not executable"},
      {{"run", "--bounds", "0,1", "--", non_executable}, "is missing or not executable"},
      {{"run", "--bounds", "0,1", "--worker", "no-such-program-anywhere"},
       "--worker: program 'no-such-program-anywhere'"},
      {{"run", "--bounds", "0,1"}, "give the program to sample"},
      {{"run", "--bounds", "0,1", "--frobnicate", "--", peak}, "--frobnicate"},
      {{"run", "--bounds", "0,1", "--history", existing, "--", peak}, "already holds a run"},
      {{"run", "--master", "grid", "--bounds", "0,1", "--", peak}, "unknown master 'grid'"},
      {{"run", "--master", "slurm", "--bounds", "0,1", "--worker", python_worker},
       "--master slurm: each point is one batch job"},
      {{"run", "--slurm-time", "1:00", "--bounds", "0,1", "--", peak}, "need --master slurm"},
      {{"run", "--learner", "sequence", "--", peak}, "learner sequence needs a file of points"},
      {{"run", "--learner", "sequence", "--points", ragged, "--", peak},
       ":3: 1 coordinates, but the first point has 2"},
      {{"run", "--learner", "sequence", "--points", not_numbers, "--", peak},
       ":1: 'one' is not a finite number"},
      {{"run", "--bounds", "0,1", "--points", existing_points, "--", peak},
       "only learner sequence takes points"},
      {{"run", "--learner-param", "tol=1e-6", "--bounds", "0,1", "--", peak},
       "learner 1d takes no parameters"},
      {{"run", "--learner", "integrator", "--learner-param", "accuracy=3", "--bounds", "0,1", "--",
        peak},
       "learner integrator has no parameter 'accuracy' (it has: tol)"},
      {{"run", "--learner", "integrator", "--learner-param", "tol", "--bounds", "0,1", "--", peak},
       "--learner-param: cannot read 'tol'"},
      {{"run", "--goal", "done", "--bounds", "0,1", "--", peak},
       "learner 1d never says it is done"},
      {{"run", "--learner", "average", "--bounds", "0,1", "--", peak}, "drop --bounds"},
      {{"run", "--learner", "average1d", "--learner-param", "delta=3", "--bounds", "0,1", "--",
        peak},
       "need 0 < delta <= 1, got 3"},
      {{"replay", path("missing.jsonl")}, "no such file"},
      {{"info", existing}, "not a taskmaster history"},
      {{"plot", path("missing.jsonl"), "-o", path("x.gif")}, "must end in .png or .svg"},
  };
  for (const auto& c : cases) {
    const Outcome o = run(c.args);
    EXPECT_EQ(o.status, 2) << c.args[1] << ": " << o.err;
    EXPECT_NE(o.err.find(c.message), std::string::npos)
        << "expected '" << c.message << "' in: " << o.err;
  }
}

TEST_F(Cli, HelpExitsZeroWithAnExample) {
  const Outcome o = run({"run", "--help"});
  EXPECT_EQ(o.status, 0);
  EXPECT_NE(o.out.find("taskmaster run --bounds"), std::string::npos) << o.out;
}

// --- plots ----------------------------------------------------------------------

std::uint32_t big_endian(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}

/// Checks a PNG file: signature, IHDR size, and that it holds a picture
/// (many different colours), not a blank page.
void expect_good_png(const std::string& file, std::uint32_t width, std::uint32_t height) {
  const std::string bytes = read_file(file);
  ASSERT_GT(bytes.size(), 33U) << file;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian(bytes, 16), width);
  EXPECT_EQ(big_endian(bytes, 20), height);
  cairo_surface_t* image = cairo_image_surface_create_from_png(file.c_str());
  ASSERT_EQ(cairo_surface_status(image), CAIRO_STATUS_SUCCESS);
  const int stride = cairo_image_surface_get_stride(image);
  const unsigned char* data = cairo_image_surface_get_data(image);
  std::set<std::uint32_t> colours;
  std::size_t non_white = 0;
  for (int y = 0; y < cairo_image_surface_get_height(image); ++y) {
    const auto* row = reinterpret_cast<const std::uint32_t*>(data + y * stride);
    for (int x = 0; x < cairo_image_surface_get_width(image); ++x) {
      colours.insert(row[x]);
      non_white += (row[x] & 0xffffffU) != 0xffffffU;
    }
  }
  cairo_surface_destroy(image);
  EXPECT_GT(colours.size(), 20U) << file;
  EXPECT_GT(non_white, width * height / 100) << file;
}

TEST_F(Cli, PlotsOneDimensionalRunsAsPngAndSvg) {
  const auto history = path("plot1d.jsonl");
  const Outcome o = run({"run", "--bounds", "-1,1", "--goal", "npoints=30", "-j", "2", "--quiet",
                         "--history", history, "--plot", path("run.png"), "--", peak, "{x}"});
  ASSERT_EQ(o.status, 0) << o.err;
  expect_good_png(path("run.png"), 900, 600);

  ASSERT_EQ(
      run({"plot", history, "-o", path("small.png"), "--width", "640", "--height", "480"}).status,
      0);
  expect_good_png(path("small.png"), 640, 480);

  ASSERT_EQ(
      run({"plot", history, "-o", path("run.svg"), "--width", "640", "--height", "480"}).status, 0);
  const std::string svg = read_file(path("run.svg"));
  const auto root = svg.find("<svg");
  ASSERT_NE(root, std::string::npos);
  EXPECT_NE(svg.find("width=\"640pt\" height=\"480pt\"", root), std::string::npos)
      << svg.substr(root, 200);
  EXPECT_NE(svg.rfind("</svg>"), std::string::npos);
  EXPECT_GT(svg.size(), 2000U);  // lines, points, ticks: not an empty page
}

TEST_F(Cli, PlotsTwoDimensionalRunsWithAColourBar) {
  const auto history = path("plot2d.jsonl");
  ASSERT_EQ(
      run({"run", "--learner", "2d", "--bounds", "-1,1", "--bounds", "-1,1", "--goal",
           "npoints=150", "-j", "2", "--quiet", "--history", history, "--worker", demo_worker})
          .status,
      0);
  ASSERT_EQ(run({"plot", history, "-o", path("2d.png")}).status, 0);
  expect_good_png(path("2d.png"), 900, 600);
}

TEST_F(Cli, SamplesAndPlotsThreeDimensionsWithLearnerNd) {
  const auto history = path("nd.jsonl");
  const Outcome o =
      run({"run", "--learner", "nd", "--bounds", "-1,1", "--bounds", "-1,1", "--bounds", "-1,1",
           "--goal", "npoints=60", "-j", "2", "--quiet", "--history", history, "--worker",
           "/usr/bin/python3 " + source_dir + "/tests/helpers/cli_shell_worker.py"});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "x0,x1,x2,y");
  ASSERT_EQ(rows.size(), 60U);
  for (const auto& r : rows) {
    const double r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    EXPECT_NEAR(r[3], r[0] + r[1] + r[2] + std::exp(-(r2 - 0.5) * (r2 - 0.5) / 0.01), 1e-12);
  }
  EXPECT_EQ(run({"replay", history}).status, 0);
  ASSERT_EQ(
      run({"plot", history, "-o", path("nd.png"), "--width", "400", "--height", "300"}).status, 0);
  expect_good_png(path("nd.png"), 400, 300);
}

// --- demo -------------------------------------------------------------------------

TEST_F(Cli, DemoRunsPlotsAndChecksItsRecord) {
  const Outcome o = run({"demo", "--goal", "npoints=200", "-j", "2", "--history",
                         path("demo.jsonl"), "--plot", path("demo.png")});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("identical"), std::string::npos) << o.out;
  expect_good_png(path("demo.png"), 900, 600);
}

// --- the sequence learner and the other masters -------------------------------------

TEST_F(Cli, SequenceLearnerEvaluatesEveryPointOfAFile) {
  const auto points = path("points.txt");
  std::ofstream(points) << "# x0, x1\n0.1, 0.2\n0.3 0.3\n\n-0.5,0.25  # a comment\n0.9,-1\n"
                           "0.3,0.3\n";
  const auto history = path("sequence.jsonl");
  const Outcome o = run({"run", "--learner", "sequence", "--points", points, "-j", "2", "--quiet",
                         "--history", history, "--", peak, "{x0}"});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "x0,x1,y");
  ASSERT_EQ(rows.size(), 5U);  // every point once, the repeated one too
  for (const auto& r : rows) EXPECT_NEAR(r[2], peak_function(r[0]), 1e-12);
  EXPECT_EQ(run({"replay", history}).status, 0);
  const Outcome info = run({"info", history});
  EXPECT_NE(info.out.find("sequence of 5 points in 2 dimensions"), std::string::npos) << info.out;
  // The points live in the history: the file is not needed any more.
  fs::remove(points);
  ASSERT_EQ(run({"plot", history, "-o", path("sequence.png")}).status, 0);
  expect_good_png(path("sequence.png"), 900, 600);
}

/// Tests that need the cluster of scripts/slurm-cluster.sh (SLURM_CONF set).
/// scripts/test.sh starts one and sets TASKMASTER_REQUIRE_SLURM, so that
/// there a missing cluster fails instead of skipping.
class CliOnSlurm : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    if (std::system("sinfo -h > /dev/null 2>&1") == 0) return;
    if (std::getenv("TASKMASTER_REQUIRE_SLURM") != nullptr) FAIL() << "no SLURM cluster answers";
    GTEST_SKIP() << "no SLURM cluster: run scripts/slurm-cluster.sh start DIR, export SLURM_CONF";
  }
};

/// A run through `--master slurm` on the cluster of scripts/slurm-cluster.sh.
TEST_F(CliOnSlurm, MasterSlurmRunsEachPointAsABatchJob) {
  const auto history = path("slurm.jsonl");
  const Outcome o =
      run({"run", "--master", "slurm", "-j", "8", "--slurm-time", "00:05:00", "--slurm-option",
           "--comment=taskmaster-cli-test", "--bounds", "-1,1", "--goal", "npoints=20", "--quiet",
           "--history", history, "--", peak, "{x}"});
  ASSERT_EQ(o.status, 0) << o.err;
  const auto rows = exported(history);
  ASSERT_EQ(rows.size(), 20U);
  for (const auto& r : rows) EXPECT_NEAR(r[1], peak_function(r[0]), 1e-12);
  EXPECT_TRUE(fs::exists(path("slurm-slurm"))) << "job files next to the history";
  EXPECT_NE(read_file(path("slurm-slurm/job-0.sh")).find("#SBATCH --time=00:05:00"),
            std::string::npos);
  EXPECT_NE(run({"info", history}).out.find("master slurm"), std::string::npos);
  EXPECT_EQ(run({"replay", history}).status, 0);

  // Ctrl-C twice while jobs wait: they are cancelled, none is left queued.
  const auto stuck = path("stuck.jsonl");
  Tool t(dir_, {"run", "--master", "slurm", "-j", "3", "--bounds", "-1,1", "--history", stuck, "--",
                "/bin/sleep", "300"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count_lines(stuck, "\"e\":\"ask\"") < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // submitted
  t.signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  t.signal(SIGINT);
  EXPECT_EQ(t.wait(), 130) << t.err();
  // A cancelled job that was running shows as COMPLETING until its
  // processes are gone, which takes a while on a loaded machine: only jobs
  // still pending or running count as left.
  const std::string jobs_dir = path("stuck-slurm");
  std::string queued;
  for (int i = 0; i < 200; ++i) {
    Tool q(dir_, {"-h", "-t", "PENDING,RUNNING", "-o", "%o %T"}, "/usr/bin/squeue");
    q.wait();
    queued = q.out();
    if (queued.find(jobs_dir) == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(queued.find(jobs_dir), std::string::npos) << queued;
}

/// A slurm run whose tool is killed leaves its jobs running; resuming adopts
/// them (and the outputs of those that ended meanwhile) instead of running
/// every point again.
TEST_F(CliOnSlurm, ResumingAKilledSlurmRunAdoptsItsJobs) {
  const auto points = path("points.txt");
  std::ofstream(points) << "1\n2\n3\n4\n";
  const auto started = path("started.txt");  // one line per evaluation that began
  const auto history = path("killed-slurm.jsonl");
  const std::vector<std::string> program{
      "/bin/sh", "-c", "echo \"$1\" >> \"$2\"; sleep \"$1\"; echo \"$1\"", "sh", "{x0}", started};
  {
    std::vector<std::string> args{"run",       "--master", "slurm",    "-j",   "4",
                                  "--learner", "sequence", "--points", points, "--quiet",
                                  "--history", history,    "--"};
    args.insert(args.end(), program.begin(), program.end());
    Tool t(dir_, args);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (count_lines(started, "") < 4 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(count_lines(started, ""), 4U) << "every job began";
    t.signal(SIGKILL);
    EXPECT_EQ(t.wait(), 128 + SIGKILL);
  }
  EXPECT_EQ(count_lines(history, "\"e\":\"tell\""), 0U) << "killed before any job ended";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the first job ends meanwhile

  const Outcome resumed = run({"resume", history, "--quiet"});
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_EQ(count_lines(started, ""), 4U) << "no point ran twice";
  const auto rows = exported(history);
  ASSERT_EQ(rows.size(), 4U);
  for (const auto& r : rows) EXPECT_EQ(r[0], r[1]);
  EXPECT_EQ(run({"replay", history}).status, 0);
}

TEST_F(Cli, IntegratorRunsUntilItsToleranceHolds) {
  const auto history = path("integral.jsonl");
  const Outcome o =
      run({"run", "--learner", "integrator", "--bounds", "0,1", "--learner-param", "tol=1e-8", "-j",
           "2", "--quiet", "--history", history, "--", peak, "{x}"});
  ASSERT_EQ(o.status, 0) << o.err;
  // The integral of x + exp(-(x - 0.3)^2 / 0.01) over [0, 1].
  const double exact = 0.5 + 0.05 * std::sqrt(M_PI) * (std::erf(0.7 / 0.1) + std::erf(0.3 / 0.1));
  const Outcome info = run({"info", history});
  ASSERT_EQ(info.status, 0) << info.err;
  const auto at = info.out.find("integral  ");
  ASSERT_NE(at, std::string::npos) << info.out;
  EXPECT_NEAR(std::stod(info.out.substr(at + 10)), exact, 1e-7) << info.out;
  EXPECT_NE(info.out.find("(within the tolerance 1e-08)"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("goal done"), std::string::npos) << info.out;
  for (const auto& r : exported(history)) EXPECT_NEAR(r[1], peak_function(r[0]), 1e-12);
  EXPECT_EQ(run({"replay", history}).status, 0);
  ASSERT_EQ(run({"plot", history, "-o", path("integral.png")}).status, 0);
  expect_good_png(path("integral.png"), 900, 600);
}

TEST_F(Cli, AveragingLearnersSampleANoisyProgramBySeed) {
  const std::string noisy = source_dir + "/tests/helpers/cli_noisy.sh";
  const auto history = path("average1d.jsonl");
  const Outcome o = run({"run", "--learner", "average1d", "--bounds", "-1,1", "--learner-param",
                         "min_samples=5", "--goal", "npoints=400", "-j", "2", "--quiet",
                         "--history", history, "--", noisy, "{x0}", "{x1}"});
  ASSERT_EQ(o.status, 0) << o.err;
  std::string header;
  const auto rows = exported(history, &header);
  EXPECT_EQ(header, "seed,x,y");
  ASSERT_EQ(rows.size(), 400U);
  std::map<double, std::set<double>> seeds_at;
  for (const auto& r : rows) seeds_at[r[1]].insert(r[0]);
  EXPECT_GT(seeds_at.size(), 5U) << "several points";
  // Every point gets min_samples samples first; only the points still being
  // sampled when the goal held (at most one per worker) may have fewer.
  std::size_t short_of_samples = 0;
  for (const auto& [x, seeds] : seeds_at) short_of_samples += seeds.size() < 5;
  EXPECT_LE(short_of_samples, 2U);
  EXPECT_EQ(run({"replay", history}).status, 0);
  ASSERT_EQ(run({"plot", history, "-o", path("average1d.png")}).status, 0);
  expect_good_png(path("average1d.png"), 900, 600);

  const auto mean_history = path("average.jsonl");
  const Outcome mean_run =
      run({"run", "--learner", "average", "--learner-param", "atol=0.02", "-j", "2", "--quiet",
           "--history", mean_history, "--", noisy, "{x}", "0.05"});
  ASSERT_EQ(mean_run.status, 0) << mean_run.err;
  const Outcome info = run({"info", mean_history});
  const auto at = info.out.find("mean      ");
  ASSERT_NE(at, std::string::npos) << info.out;
  EXPECT_NEAR(std::stod(info.out.substr(at + 10)), std::tanh(0.5), 0.1) << info.out;
  EXPECT_NE(info.out.find("goal done"), std::string::npos) << info.out;
  EXPECT_EQ(run({"replay", mean_history}).status, 0);
}

}  // namespace
