// The command lines of `taskmaster run` and `taskmaster resume`: their
// flags, read into a RunRequest for run.cpp.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "history_input.hpp"
#include "learner_descriptor.hpp"
#include "master_descriptor.hpp"
#include "run.hpp"
#include "subcommand.hpp"

namespace taskmaster::cli {
namespace {

constexpr const char* run_example = R"(
Usage: taskmaster run [OPTIONS] (-- PROGRAM ARGS... | --worker 'PROGRAM ARGS')
Examples:
  taskmaster run --bounds -1,1 --goal npoints=200 -- ./simulate --x {x}
  taskmaster run --learner 2d --bounds 0,1 --bounds 0,2 --goal loss=0.01 \
      --worker 'python3 model.py' --plot model.png
  taskmaster run --learner sequence --points inputs.txt -- ./simulate {x0} {x1}
  taskmaster run --learner integrator --bounds 0,1 --learner-param tol=1e-8 -- ./f {x}
  taskmaster run --learner average1d --bounds -1,1 --goal npoints=20000 -- ./noisy {x0} {x1}
  mpirun -n 9 taskmaster run --master mpi --bounds 0,1 --worker 'python3 model.py'
  taskmaster run --master slurm -j 50 --slurm-partition short --slurm-time 00:30:00 \
      --bounds 0,10 --goal npoints=500 -- ./simulate {x}
The program prints a number or a JSON array of numbers for each point.
Placeholders: {x} (the input), {x0} {x1} (its components), {id} (the task).)";

struct RunFlags {
  std::string learner = "1d";
  std::vector<std::string> bounds, goals, loss_params, learner_params;
  std::string loss, worker, history = "taskmaster-run.jsonl", plot, points;
  std::string master = "local";
  SlurmOptions slurm = default_slurm_options();
  std::string slurm_directory;
  // Numbers are taken as text and read by config.cpp's parsers: CLI11 would
  // read "-1" as 2^64 - 1 workers.
  std::string workers = cli::default_workers(), retries = "0", timeout = "0", seed = "0";
  std::string prefetch = "0";
  std::string slurm_cpus = "1";
  bool quiet = false;
  bool overwrite = false;
};

RunRequest request_from(const RunFlags& f, std::vector<std::string> command) {
  RunRequest r;
  RunConfig& c = r.config;
  c.learner = f.learner;
  for (const auto& b : f.bounds) c.bounds.push_back(parse_bounds(b));
  if (!f.points.empty()) c.points = read_points(f.points);
  c.master = f.master;
  c.slurm = f.slurm;
  c.slurm.work_directory = f.slurm_directory;
  c.slurm.cpus_per_task =
      static_cast<unsigned>(parse_count("--slurm-cpus", f.slurm_cpus, 1, max_workers));
  read_learner_settings(c, f.loss, f.loss_params, f.learner_params);
  c.goals = goals_or_default(f.goals, c);
  c.command = std::move(command);
  if (!f.worker.empty()) c.worker = split_words(f.worker);
  if (!f.worker.empty() && c.worker.empty()) throw UsageError("--worker: the command is empty");
  c.workers = workers_from(f.workers);
  c.prefetch = parse_count("--prefetch", f.prefetch, 0, max_prefetch);
  c.retries = static_cast<unsigned>(parse_count("--retries", f.retries, 0, max_retries));
  if (const double timeout = parse_finite("--timeout", f.timeout); timeout != 0)
    c.timeout = timeout;
  c.seed = parse_count("--seed", f.seed, 0, std::numeric_limits<std::uint64_t>::max());
  c.validate();
  r.history = f.history;
  // Under mpirun only rank 0 writes the history (which it may have begun).
  const bool history_writer =
      !master_named(c.master).on_every_rank || launcher_rank().value_or(0) == 0;
  // An empty file holds no run (older versions left one when killed before
  // the header was written).
  std::error_code ec;
  const bool holds_a_run =
      std::filesystem::exists(r.history, ec) && std::filesystem::file_size(r.history, ec) != 0;
  if (history_writer && holds_a_run && !f.overwrite) {
    throw UsageError(fmt::format(
        "--history: {} already holds a run; carry it on with 'taskmaster resume {}', or pass "
        "--overwrite to start afresh",
        f.history, shell_quote(f.history)));
  }
  if (!f.plot.empty()) r.plot = f.plot;
  r.quiet = f.quiet;
  return r;
}

/// `--live [PORT]` and `--live-bind`, beside a run or resume.
struct LiveFlags {
  std::string port;
  std::string bind = "127.0.0.1";

  void add_to(CLI::App* command) {
    command
        ->add_option("--live", port,
                     "Serve a live view of the run in the browser on PORT (default 8765; 0: any "
                     "free port) until it ends; the address is printed")
        ->expected(0, 1);
    command->add_option("--live-bind", bind,
                        "Address the live view listens on (default 127.0.0.1: this machine only)");
  }

  [[nodiscard]] std::optional<watch::LiveOptions> options(const CLI::App* command) const {
    if (command->count("--live") == 0) return std::nullopt;
    return live_options(bind, port, true, "--live");
  }
};

}  // namespace

std::string default_workers() {
  return std::to_string(std::max(1U, std::thread::hardware_concurrency()));
}

std::size_t workers_from(const std::string& text) {
  return parse_count("--workers", text, 1, max_workers);
}

void check_plot_name(const std::string& name, const char* flag) {
  if (name.empty()) return;
  const auto dot = name.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  if (ext != ".png" && ext != ".svg") {
    throw UsageError(fmt::format("{}: '{}' must end in .png or .svg", flag, name));
  }
}

Subcommand add_run_command(CLI::App& app) {
  struct State {
    RunFlags flags;
    LiveFlags live;
  };
  auto state = std::make_shared<State>();
  RunFlags& flags = state->flags;
  auto* run = app.add_subcommand("run", "Sample a program over a domain until a goal holds.");
  run->footer(run_example);
  run->add_option("--learner", flags.learner, "Learner: " + learner_choices())
      ->capture_default_str();
  run->add_option("--learner-param", flags.learner_params,
                  "name=value for the learner (repeatable): " + learner_params_help())
      ->allow_extra_args(false);
  run->add_option("--points", flags.points,
                  "For --learner sequence: a file with one point per line (coordinates "
                  "separated by commas or blanks, # comments)");
  run->add_option("--bounds", flags.bounds, "lo,hi for one dimension; once per dimension")
      ->allow_extra_args(false)
      ->take_all();
  run->add_option("--loss", flags.loss, "Loss (" + losses_help() + ")");
  run->add_option("--loss-param", flags.loss_params, "name=value for the loss (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--goal", flags.goals,
                  "npoints=N, loss=L, duration=30s or done (repeatable: stop when any holds; "
                  "default npoints=100; " +
                      default_goals_help() + ")")
      ->allow_extra_args(false);
  run->add_option("--worker", flags.worker,
                  "Long-running worker command speaking the JSON Lines protocol");
  run->add_option("-j,--workers", flags.workers,
                  "Programs running at once (slurm: jobs queued or running at once; mpi: one "
                  "per worker rank)")
      ->capture_default_str();
  run->add_option("--master", flags.master, "Where points are evaluated: " + masters_help())
      ->capture_default_str();
  run->add_option("--slurm-partition", flags.slurm.partition, "slurm: the partition (sbatch -p)");
  run->add_option("--slurm-time", flags.slurm.time_limit,
                  "slurm: the time limit of a job, e.g. 00:30:00 (sbatch --time)");
  run->add_option("--slurm-cpus", flags.slurm_cpus, "slurm: CPUs per job")->capture_default_str();
  run->add_option("--slurm-mem", flags.slurm.memory,
                  "slurm: memory per job, e.g. 4G (sbatch --mem)");
  run->add_option("--slurm-option", flags.slurm.sbatch_lines,
                  "slurm: one more sbatch option, e.g. --account=abc (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--slurm-dir", flags.slurm_directory,
                  "slurm: where job scripts and outputs go (default: next to the history)");
  run->add_option("--prefetch", flags.prefetch,
                  "Tasks sent ahead to each --worker program beyond the one it computes, so "
                  "that it goes on without waiting for the next (the learner then has "
                  "workers x (1 + N) points pending)")
      ->capture_default_str();
  run->add_option("--retries", flags.retries, "Tries again a failed point this often")
      ->capture_default_str();
  run->add_option("--timeout", flags.timeout, "Seconds a point may take (0: no limit)");
  run->add_option("--history", flags.history, "History file (JSON Lines)")->capture_default_str();
  run->add_option("--plot", flags.plot, "Also draw the result into FILE.png or FILE.svg");
  run->add_option("--seed", flags.seed, "Seed of the learner's entropy")->capture_default_str();
  run->add_flag("--overwrite", flags.overwrite, "Replace the history file if it exists");
  run->add_flag("-q,--quiet", flags.quiet, "No progress and no summary");

  state->live.add_to(run);
  return {run,
          [state, run](std::vector<std::string> program) {
            check_plot_name(state->flags.plot, "--plot");
            RunRequest request = request_from(state->flags, std::move(program));
            request.live = state->live.options(run);
            return run_command(request);
          },
          true};
}

Subcommand add_resume_command(CLI::App& app) {
  struct State {
    std::string history;
    std::vector<std::string> goals;
    std::string workers;
    bool quiet = false;
    std::string plot;
    LiveFlags live;
  };
  auto state = std::make_shared<State>();
  auto* resume = app.add_subcommand("resume", "Carry on a stopped or killed run.");
  resume->footer("\nExample:\n  taskmaster resume taskmaster-run.jsonl --goal npoints=500");
  resume->add_option("HISTORY", state->history, "History file of the run")->required();
  resume->add_option("--goal", state->goals, "New goal(s) instead of the recorded ones")
      ->allow_extra_args(false);
  resume->add_option("-j,--workers", state->workers,
                     "Programs running at once (default: as recorded)");
  resume->add_option("--plot", state->plot, "Also draw the result into FILE.png or FILE.svg");
  resume->add_flag("-q,--quiet", state->quiet, "No progress and no summary");
  state->live.add_to(resume);
  return {resume, [state, resume](std::vector<std::string>) {
            const State& s = *state;
            check_plot_name(s.plot, "--plot");
            RunRequest r;
            r.config = HistoryInput::read(s.history).latest_config;
            if (!s.goals.empty()) {
              r.config.goals.clear();
              for (const auto& g : s.goals) r.config.goals.push_back(Goal::parse(g));
            }
            if (!s.workers.empty()) r.config.workers = workers_from(s.workers);
            r.history = s.history;
            r.resume = true;
            r.quiet = s.quiet;
            r.live = s.live.options(resume);
            if (!s.plot.empty()) r.plot = s.plot;
            r.config.validate();
            // The program comes from the file, which may come from someone else:
            // say what is about to run, even with --quiet.
            if (!master_named(r.config.master).on_every_rank || launcher_rank().value_or(0) == 0) {
              std::string program;
              for (const auto& a : r.config.command.empty() ? r.config.worker : r.config.command) {
                if (!program.empty()) program += ' ';  // not "" + string: GCC 12 -O3 warns falsely
                program += shell_quote(a);
              }
              fmt::print(
                  stderr, "taskmaster: resuming {}, which runs: {} ({})\n", s.history, program,
                  r.config.command.empty() ? "long-running workers" : "one process per point");
            }
            return run_command(r);
          }};
}

}  // namespace taskmaster::cli
