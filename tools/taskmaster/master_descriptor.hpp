#pragma once
// What the tool knows about a kind of master (`--master`), in one record;
// each kind is a type under masters/ holding its record and its factory,
// listed once in masters.hpp.

#include <string>
#include <string_view>

namespace taskmaster::cli {

/// One `--master` of the tool.
///
/// @code
/// constexpr taskmaster::cli::MasterDescriptor local{.name = "local", .help = "this machine"};
/// @endcode
struct MasterDescriptor {
  std::string_view name;
  std::string_view help;  ///< where it evaluates points, for `--help`
  /// Why it needs the program after `--` rather than `--worker`; empty if it takes both.
  std::string_view why_program_per_point{};
  /// Whether the live view may add and release its workers during a run.
  bool workers_change_during_run = false;
  /// Whether every rank of an MPI launch runs the tool (rank 0 leads).
  bool on_every_rank = false;
  /// Whether the `--slurm-*` options apply.
  bool takes_slurm_options = false;
};

/// The master named `name`; throws UsageError listing the known ones otherwise.
const MasterDescriptor& master_named(const std::string& name);
/// "local, mpi, slurm", for messages.
std::string master_names();
/// What `--master` may say, for `--help`.
std::string masters_help();

}  // namespace taskmaster::cli
