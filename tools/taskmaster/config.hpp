#pragma once
// The configuration of a run: what the command line says, and what the
// history's header records so that resume, replay, plot, info and export
// need no other flags.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "taskmaster/core/stop.hpp"
#include "taskmaster/masters/slurm_master.hpp"

namespace taskmaster::cli {

/// A mistake on the command line: reported with exit status 2.
///
/// @code
/// throw taskmaster::cli::UsageError("--bounds: cannot read 'a,b' (expected lo,hi like -1,1)");
/// @endcode
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One `--goal`: `npoints=N`, `loss=L`, `duration=30s` or `done` (the
/// learner says it reached its own tolerance).
///
/// @code
/// auto goal = taskmaster::cli::Goal::parse("duration=5m");  // goal.value == 300
/// taskmaster::StopCondition stop = goal.stop_condition();
/// @endcode
struct Goal {
  enum class Kind { npoints, loss, duration, done } kind = Kind::npoints;
  double value = 0;

  /// Reads `npoints=100`, `loss=0.01`, `duration=90s`, `duration=2m`; throws
  /// UsageError naming the text otherwise.
  static Goal parse(const std::string& text);
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] StopCondition stop_condition() const;
};

/// How `--master slurm` writes its jobs, as a run records them: the
/// library's options, with no job directory (next to the history, chosen
/// when the run starts) and the capacity taken from `--workers`.
SlurmOptions default_slurm_options();

/// Calls `f(name, field)` for each SLURM setting a run records in its
/// history's header, in one place for writing, reading and comparing.
template <class Options, class F>
void for_each_recorded_slurm_setting(Options& o, F&& f) {
  f("partition", o.partition);
  f("time_limit", o.time_limit);
  f("cpus_per_task", o.cpus_per_task);
  f("memory", o.memory);
  f("sbatch_lines", o.sbatch_lines);
  f("work_directory", o.work_directory);
}

/// Everything that decides a run.
///
/// @code
/// taskmaster::cli::RunConfig config;
/// config.learner = "1d";
/// config.bounds = {{-1.0, 1.0}};
/// config.command = {"./simulate", "{x}"};
/// config.validate();
/// @endcode
struct RunConfig {
  std::string learner = "1d";
  std::vector<std::array<double, 2>> bounds;
  std::string loss;  ///< empty: the learner's default
  std::map<std::string, double> loss_params;
  std::vector<Goal> goals;
  std::vector<std::string> command;  ///< one process per point (CommandMaster)
  std::vector<std::string> worker;   ///< long-running workers (StdioMaster)
  std::size_t workers = 1;
  std::size_t prefetch = 0;  ///< tasks sent ahead to each --worker program (WorkerOptions)
  unsigned retries = 0;
  std::optional<double> timeout;
  std::uint64_t seed = 0;
  std::string master = "local";  ///< a MasterDescriptor's name
  SlurmOptions slurm = default_slurm_options();
  std::vector<std::vector<double>> points;       ///< the sequence learner's inputs
  std::map<std::string, double> learner_params;  ///< integrator, average, average1d

  /// Whether the learner can say it is done (so `--goal done` applies).
  [[nodiscard]] bool learner_finishes() const;
  /// The names of the input's columns in exports: x, or x0 x1 ..., or seed (x).
  [[nodiscard]] std::vector<std::string> input_names() const;

  /// The input dimension the learner needs (nd: as many as bounds, at least
  /// 2; sequence: that of its points).
  [[nodiscard]] std::size_t dimension() const;
  /// The components a command's `{x0}`, `{x1}`, ... can name: 0 for an input
  /// of one number (1d, integrator) or a seed (average).
  [[nodiscard]] std::size_t input_components() const;
  /// The goals joined with "or" (the stop condition of the run).
  [[nodiscard]] StopCondition stop_condition() const;
  /// Checks everything but the program: learner, bounds, loss, goals and
  /// every number against its range (the one place that does, for the
  /// command line and a history's header alike); throws UsageError naming
  /// the flag and the value.
  void validate_settings() const;
  /// `validate_settings()`, and that the program is there and can run.
  void validate() const;

  [[nodiscard]] nlohmann::json to_json() const;
  /// Reads what `to_json` wrote (the metadata of a history header); throws
  /// UsageError saying what is wrong (the caller names the file and line).
  /// Check it with `validate_settings()`.
  static RunConfig from_json(const nlohmann::json& j);
};

/// The most programs (or SLURM jobs) a run keeps going at once.
inline constexpr std::uint64_t max_workers = 100000;
/// The most tasks sent ahead to a worker (`--prefetch`).
inline constexpr std::uint64_t max_prefetch = 64;
/// The most retries of a point.
inline constexpr std::uint64_t max_retries = 1000000;
/// The longest timeout or duration goal, in seconds (about 31 years): within
/// what the clocks that measure them can count.
inline constexpr double max_seconds = 1e9;

/// Reads a whole number in [min, max] for `flag`; throws UsageError naming
/// the flag and the text for anything else ("-1", "1.5", "many", 2^64).
std::uint64_t parse_count(const char* flag, const std::string& text, std::uint64_t min,
                          std::uint64_t max);
/// Reads a finite number for `flag`; throws UsageError naming the flag and
/// the text otherwise ("nan", "inf", "1e999", "x").
double parse_finite(const char* flag, const std::string& text);

/// Reads `lo,hi`; throws UsageError naming the flag and the text otherwise.
std::array<double, 2> parse_bounds(const std::string& text);
/// Reads `name=value` with a number for value; `flag` names the option in errors.
std::pair<std::string, double> parse_loss_param(const std::string& text,
                                                const char* flag = "--loss-param");
/// Reads `--loss`, its `--loss-param`s and the `--learner-param`s into `c`.
void read_learner_settings(RunConfig& c, const std::string& loss,
                           const std::vector<std::string>& loss_params,
                           const std::vector<std::string>& learner_params);
/// Splits a command line into words as a POSIX shell would for simple
/// quoting: blanks separate words, '...' and "..." group, backslash escapes.
std::vector<std::string> split_words(const std::string& text);
/// Reads the points of `--points FILE`: one point per line, its coordinates
/// separated by commas or blanks; blank lines and `#` comments are skipped.
/// Throws UsageError naming the file and line of anything else.
std::vector<std::vector<double>> read_points(const std::string& file);
/// This process's rank when an MPI launcher (mpirun, srun) started it.
std::optional<int> launcher_rank();
/// Whether `program` names an executable file, directly or through PATH.
bool is_executable(const std::string& program);

}  // namespace taskmaster::cli
