#pragma once
// The masters the tool offers (`--master`): each kind is a type under
// masters/ with its record and factory; this is the list of them.

#include <fmt/format.h>

#include <array>
#include <string>
#include <tuple>
#include <utility>

#include "config.hpp"
#include "master_descriptor.hpp"
#include "masters/local_programs.hpp"
#include "masters/mpi_ranks.hpp"
#include "masters/slurm_jobs.hpp"

namespace taskmaster::cli {

/// Every kind of master, in the order `--help` lists them.
using MasterKinds = std::tuple<LocalPrograms, MpiRanks, SlurmJobs>;

/// The records of every kind of master.
inline constexpr auto master_descriptors = []<class... Kinds>(std::tuple<Kinds...>*) {
  return std::array<MasterDescriptor, sizeof...(Kinds)>{Kinds::descriptor...};
}(static_cast<MasterKinds*>(nullptr));

namespace detail {

template <class X, class F, class Kind, class... Rest>
MasterResult<X, F> open_master(const RunConfig& c, bool resuming, F& f) {
  if (c.master == Kind::descriptor.name) return Kind::template open<X>(c, resuming, f);
  if constexpr (sizeof...(Rest) > 0) {
    return open_master<X, F, Rest...>(c, resuming, f);
  } else {
    throw UsageError(
        fmt::format("--master: unknown master '{}' (known: {})", c.master, master_names()));
  }
}

template <class X, class F, class... Kinds>
MasterResult<X, F> open_master_of(const RunConfig& c, bool resuming, F& f, std::tuple<Kinds...>*) {
  return open_master<X, F, Kinds...>(c, resuming, f);
}

}  // namespace detail

/// Builds the master `c` asks for, with JSON outputs, and calls `f(master)`.
/// With `--master mpi` this is rank 0's side; the other ranks run
/// `serve_mpi_rank`. `resuming`: the run carries on an interrupted one.
///
/// @code
/// taskmaster::cli::with_master<double>(config, [&](auto& master) { /* evaluate */ });
/// @endcode
template <class X, class F>
MasterResult<X, F> with_master(const RunConfig& c, F&& f, bool resuming = false) {
  return detail::open_master_of<X>(c, resuming, f, static_cast<MasterKinds*>(nullptr));
}

}  // namespace taskmaster::cli
