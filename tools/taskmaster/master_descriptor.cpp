#include <fmt/format.h>

#include "masters.hpp"

namespace taskmaster::cli {

const MasterDescriptor& master_named(const std::string& name) {
  for (const auto& d : master_descriptors) {
    if (d.name == name) return d;
  }
  throw UsageError(fmt::format("--master: unknown master '{}' (known: {})", name, master_names()));
}

std::string master_names() {
  std::string names;
  for (const auto& d : master_descriptors)
    names += fmt::format("{}{}", names.empty() ? "" : ", ", d.name);
  return names;
}

std::string masters_help() {
  std::string out;
  for (std::size_t i = 0; i < master_descriptors.size(); ++i) {
    const auto& d = master_descriptors[i];
    out += fmt::format("{}{} ({})",
                       i == 0                               ? ""
                       : i + 1 == master_descriptors.size() ? " or "
                                                            : ", ",
                       d.name, d.help);
  }
  return out;
}

}  // namespace taskmaster::cli
