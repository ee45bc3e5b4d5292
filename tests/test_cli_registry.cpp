// The command-line tool's learners and masters come from one record each:
// every registered learner can be configured, run, replayed, exported,
// summarised, plotted and followed by the live view through its record
// alone, and the tool's help and messages list exactly the records.

#include <cairo.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config.hpp"
#include "history_input.hpp"
#include "learner_descriptor.hpp"
#include "learner_operations.hpp"
#include "master_descriptor.hpp"
#include "masters.hpp"
#include "plot.hpp"
#include "simulation.hpp"
#include "watch/shadow_learner.hpp"

namespace {

using namespace taskmaster::cli;

/// A smooth function with a little seeded noise, fit for every learner.
const TestFunction wave{"wave",
                        "sum of sines",
                        "1d",
                        {{0, 1}},
                        std::nullopt,
                        [](std::span<const double> x, std::uint64_t seed) {
                          double y = 1;
                          for (double v : x) y += std::sin(3 * v);
                          return y + 1e-3 * static_cast<double>(seed % 7);
                        }};

/// A configuration the learner's record alone makes valid.
RunConfig config_for(const LearnerDescriptor& d) {
  RunConfig c;
  c.learner = d.name;
  if (d.dimensions.of_points) {
    for (double a : {0.0, 0.25, 0.5, 0.75, 1.0}) {
      for (double b : {0.0, 0.5, 1.0}) c.points.push_back({a, b});
    }
  } else {
    for (std::size_t i = 0; i < d.dimensions.count; ++i) c.bounds.push_back({0.0, 1.0});
  }
  c.goals = goals_or_default({}, c);
  c.command = {"taskmaster-function", "wave"};
  c.workers = 4;
  c.seed = 3;
  return c;
}

class Registry : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("taskmaster-registry-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(Registry, HoldsTheToolsLearnersEachOnceAndComplete) {
  std::set<std::string> names;
  for (const auto* d : registered_learners()) {
    EXPECT_TRUE(names.insert(d->name).second) << d->name << " registered twice";
    EXPECT_NE(d->operations, nullptr) << d->name;
    ASSERT_NE(d->default_goal, nullptr) << d->name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"1d", "2d", "nd", "sequence", "integrator", "average",
                                          "average1d"}));
  // A second record of a name is refused rather than shadowing the first.
  LearnerDescriptor again = *registered_learners().front();
  EXPECT_THROW(register_learner(again), std::logic_error);
  EXPECT_EQ(registered_learners().size(), names.size());
}

TEST_F(Registry, EveryLearnerRunsReplaysExportsPlotsAndIsFollowedFromItsRecord) {
  for (const auto* d : registered_learners()) {
    SCOPED_TRACE(d->name);
    const RunConfig c = config_for(*d);
    ASSERT_NO_THROW(c.validate_settings());
    ASSERT_FALSE(c.goals.empty());
    if (c.goals.front().kind == Goal::Kind::done) {
      EXPECT_TRUE(d->finishes);
    }
    EXPECT_EQ(c.input_names().size(),
              d->input == InputKind::seed ? 1 : std::max<std::size_t>(c.input_components(), 1));

    // Every loss and parameter the record names is one the learner takes.
    for (const auto& loss : d->losses) {
      RunConfig with_loss = c;
      with_loss.loss = loss.name;
      // Increasing values: a lower bound before its upper one.
      for (std::size_t i = 0; i < loss.params.size(); ++i)
        with_loss.loss_params[loss.params[i]] = 0.1 * static_cast<double>(i + 1);
      EXPECT_NO_THROW(with_loss.validate_settings()) << loss.name;
      EXPECT_NO_THROW((void)d->operations->shadow(with_loss)) << loss.name;
    }
    RunConfig unknown_loss = c;
    unknown_loss.loss = "no-such-loss";
    EXPECT_THROW(unknown_loss.validate_settings(), UsageError);

    // A run on simulated workers, written to a history...
    RunConfig run = c;
    run.goals = {Goal::parse("npoints=30")};
    Simulation s;
    s.config = run;
    s.function = &wave;
    const std::optional<std::filesystem::path> history = dir_ / (d->name + ".jsonl");
    const std::vector<taskmaster::WorkerChange> schedule;
    const Measured m = d->operations->simulate(SimulatedRun{s, 4, schedule, history});
    EXPECT_GT(m.told, 0U);
    EXPECT_EQ(m.failed, 0U);

    // ... that the record's learner replays exactly, exports, sums up and draws.
    const HistoryInput input = HistoryInput::read(*history);
    EXPECT_EQ(input.config.learner, d->name);
    EXPECT_EQ(d->operations->replay(input), 0);
    const auto rows = d->operations->results(input);
    EXPECT_EQ(rows.size(), m.told);
    for (const auto& [x, y] : rows) {
      EXPECT_EQ(x.size(), input.config.input_names().size());
      EXPECT_EQ(y.size(), 1U);
    }
    const RecordedSummary summary = d->operations->summarize(input);
    EXPECT_FALSE(std::isnan(summary.loss));
    EXPECT_EQ(!summary.estimate.empty(), d->scalar_output && d->finishes);

    cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 400, 300);
    cairo_t* cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    d->operations->draw(input, cr, PlotSize{400, 300}, "wave");
    cairo_surface_flush(surface);
    std::set<std::uint32_t> colours;
    const auto* data = cairo_image_surface_get_data(surface);
    for (int row = 0; row < 300; ++row) {
      const auto* pixels = reinterpret_cast<const std::uint32_t*>(
          data + static_cast<std::ptrdiff_t>(row) * cairo_image_surface_get_stride(surface));
      colours.insert(pixels, pixels + 400);
    }
    EXPECT_GT(colours.size(), 10U) << "a blank picture";
    cairo_destroy(cr);
    cairo_surface_destroy(surface);

    // The live view's learner takes the recorded results.
    auto shadow = watch::ShadowLearner::make(input.config);
    for (const auto& e : input.raw.events) {
      if (e.kind == taskmaster::EventKind::tell) shadow->tell(e.x, e.y.get<std::vector<double>>());
    }
  }
}

TEST_F(Registry, EveryMasterKindIsKnownByItsRecord) {
  std::set<std::string> names;
  for (const auto& d : master_descriptors) {
    EXPECT_TRUE(names.insert(std::string(d.name)).second);
    EXPECT_FALSE(d.help.empty());
    EXPECT_EQ(&master_named(std::string(d.name)), &d);
  }
  EXPECT_EQ(names, (std::set<std::string>{"local", "mpi", "slurm"}));
  EXPECT_THROW(master_named("cloud"), UsageError);
  // The SLURM settings are the library's options, recorded and read back whole.
  RunConfig c = config_for(learner_named("1d"));
  c.master = "slurm";
  c.slurm.partition = "short";
  c.slurm.time_limit = "00:10:00";
  c.slurm.cpus_per_task = 3;
  c.slurm.memory = "2G";
  c.slurm.sbatch_lines = {"--account=abc"};
  c.slurm.work_directory = "/tmp/jobs";
  const RunConfig back = RunConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.slurm.cpus_per_task, 3U);
  EXPECT_EQ(back.slurm.work_directory, "/tmp/jobs");
  EXPECT_EQ(c.to_json().at("slurm").size(), 6U);
}

/// The tool's stdout and stderr for `args`, and its exit status.
struct Outcome {
  int status = -1;
  std::string out;
};

Outcome run_tool(const std::string& args) {
  const std::string command = std::string(TASKMASTER_CLI_PATH) + " " + args + " 2>&1";
  Outcome o;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return o;
  std::array<char, 4096> buffer{};
  while (const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe))
    o.out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

std::string without_blanks(std::string text) {
  // CLI11 wraps long help lines; compare the words only.
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\n') out += c;
  }
  return out;
}

TEST_F(Registry, TheToolsHelpAndMessagesListExactlyTheRecords) {
  const Outcome help = run_tool("run --help");
  ASSERT_EQ(help.status, 0) << help.out;
  EXPECT_NE(without_blanks(help.out).find(without_blanks("Learner: " + learner_choices())),
            std::string::npos)
      << help.out;
  EXPECT_NE(without_blanks(help.out).find(without_blanks(masters_help())), std::string::npos)
      << help.out;
  for (const auto* d : registered_learners()) {
    for (const auto& loss : d->losses)
      EXPECT_NE(help.out.find(loss.name), std::string::npos) << loss.name;
  }

  const Outcome unknown = run_tool("run --learner 3d --bounds 0,1 -- /bin/echo 1");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.out.find("(known: " + learner_names() + ")"), std::string::npos) << unknown.out;
  const Outcome master = run_tool("run --master cloud --bounds 0,1 -- /bin/echo 1");
  EXPECT_EQ(master.status, 2);
  EXPECT_NE(master.out.find("(known: " + master_names() + ")"), std::string::npos) << master.out;
}

}  // namespace
