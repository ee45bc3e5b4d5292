// The figure printer shared by the benchmark programs under bench/: it reads
// --quick, --json and --help from the command line, prints every figure as a
// readable line or as one JSON object, and keeps track of the targets so that
// a full run can exit 1 when one is missed.

#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace bench {

/// One measured number, with what it was measured on and what it should be.
///
/// `parameters` is what varies between runs or figures (sizes, workers,
/// repetitions, extremes of the samples...); `target`, when set, is the bound
/// the value must meet, from below unless `lower_is_better`.
///
/// @code
/// bench::Figure f{.name = "serial",
///                 .value = 1.2e6,
///                 .unit = "tasks/s",
///                 .parameters = {{"tasks", 1000000}},
///                 .target = 1e6,
///                 .note = "SerialMaster, no history"};
/// bool ok = f.passed();  // true
/// @endcode
struct Figure {
  std::string name{};
  double value = 0.0;
  std::string unit{};
  nlohmann::json parameters = nlohmann::json::object();
  std::optional<double> target{};
  bool lower_is_better = false;
  std::string note{};

  /// True when there is no target or the value meets it.
  [[nodiscard]] bool passed() const {
    if (!target) return true;
    return lower_is_better ? value <= *target : value >= *target;
  }
};

/// Where a figure's parameters go in its JSON object.
enum class ParameterLayout {
  top_level,  ///< beside name and value: {"name":..., "tasks":1000, ...}
  grouped,    ///< in one object: {"name":..., "parameters":{"tasks":1000}}
};

/// A number as a reader takes it in: thousands grouped ("1,234,568") from
/// 1000 up, four significant digits below.
inline std::string readable_number(double value) {
  if (!std::isfinite(value) || std::fabs(value) < 1000.0) return fmt::format("{:.4g}", value);
  const std::string digits = fmt::format("{:.0f}", std::fabs(value));
  std::string out = value < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

/// The command line and output of one benchmark program.
///
/// Understands `--quick` (small sizes; the exit status is then 0 whatever
/// the figures), `--json` (one JSON object per figure and line: name, value,
/// unit, target (null when there is none), passed, quick and the figure's
/// parameters) and `--help`; a program may declare options of its own that
/// take a value. Anything else prints the usage and exits with status 2.
///
/// @code
/// int main(int argc, char** argv) {
///   bench::Report report(argc, argv,
///                        {.program = "loop_overhead",
///                         .value_options = {{"--only", "NAME", "measure only NAME"}}});
///   const std::size_t n = report.quick() ? 1000 : 1000000;
///   report.heading("loop overhead, {} tasks", n);
///   report.add({.name = "serial", .value = measure(n), .unit = "tasks/s", .target = 1e6});
///   return report.exit_status();  // 1 if a full run missed a target
/// }
/// @endcode
class Report {
 public:
  /// A program-specific option followed by one value, e.g. --only NAME.
  struct ValueOption {
    std::string flag;        ///< e.g. "--only"
    std::string value_name;  ///< what the value is, for the usage text: "NAME"
    std::string help;        ///< one line for the usage text
  };

  struct Options {
    std::string program;                       ///< name for the usage and messages
    std::vector<ValueOption> value_options{};  ///< accepted beside --quick/--json
    ParameterLayout layout = ParameterLayout::top_level;
  };

  /// Parses the command line; prints the usage and exits (0 for --help,
  /// 2 for an unknown argument or a missing value).
  Report(int argc, char** argv, Options options) : options_(std::move(options)) {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if (arg == "--quick") {
        quick_ = true;
      } else if (arg == "--json") {
        json_ = true;
      } else if (arg == "--help" || arg == "-h") {
        print_usage(stdout);
        std::exit(0);
      } else if (const ValueOption* option = find_option(arg)) {
        if (i + 1 >= argc) {
          fmt::print(stderr, "{}: {} needs a value\n", options_.program, arg);
          print_usage(stderr);
          std::exit(2);
        }
        values_[option->flag].emplace_back(argv[++i]);
      } else {
        fmt::print(stderr, "{}: unknown argument: {}\n", options_.program, arg);
        print_usage(stderr);
        std::exit(2);
      }
    }
  }

  [[nodiscard]] bool quick() const { return quick_; }
  [[nodiscard]] bool json() const { return json_; }

  /// Every value given to a declared option, in command-line order.
  [[nodiscard]] std::vector<std::string> values(const std::string& flag) const {
    const auto it = values_.find(flag);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }

  /// The last value given to a declared option, if any.
  [[nodiscard]] std::optional<std::string> value(const std::string& flag) const {
    const auto it = values_.find(flag);
    if (it == values_.end()) return std::nullopt;
    return it->second.back();
  }

  /// A line of context for the readable output (JSON output omits it).
  template <class... Args>
  void heading(fmt::format_string<Args...> format, Args&&... args) const {
    if (json_) return;
    fmt::print("{}\n", fmt::format(format, std::forward<Args>(args)...));
    std::fflush(stdout);
  }

  /// Prints `figure` at once (a long run shows its figures as they come)
  /// and remembers whether it met its target.
  void add(const Figure& figure) {
    all_passed_ = all_passed_ && figure.passed();
    fmt::print("{}\n", json_ ? to_json(figure).dump() : readable_line(figure));
    std::fflush(stdout);
  }

  /// True when every figure added so far met its target.
  [[nodiscard]] bool all_passed() const { return all_passed_; }

  /// 0 for a quick run or when every target held, 1 otherwise.
  [[nodiscard]] int exit_status() const { return quick_ || all_passed_ ? 0 : 1; }

  /// The JSON object printed for `figure` with --json.
  [[nodiscard]] nlohmann::json to_json(const Figure& figure) const {
    nlohmann::json j{{"name", figure.name},
                     {"value", figure.value},
                     {"unit", figure.unit},
                     {"target", figure.target ? nlohmann::json(*figure.target) : nlohmann::json()},
                     {"passed", figure.passed()},
                     {"quick", quick_}};
    if (options_.layout == ParameterLayout::grouped) {
      j["parameters"] = figure.parameters;
      return j;
    }
    for (const auto& [key, value] : figure.parameters.items()) {
      // A parameter must not silently replace one of the keys above.
      if (j.contains(key)) {
        throw std::logic_error(
            fmt::format("figure {}: parameter \"{}\" clashes with a key of the report itself",
                        figure.name, key));
      }
      j[key] = value;
    }
    return j;
  }

  /// The line printed for `figure` without --json: name, value, unit, the
  /// target and whether it held, and the note.
  [[nodiscard]] static std::string readable_line(const Figure& figure) {
    std::string line = fmt::format("{:<36} {:>14} {:<10}", figure.name,
                                   readable_number(figure.value), figure.unit);
    if (figure.target) {
      line += fmt::format("  target {} {}: {}",
                          figure.lower_is_better ? "<=" : ">=", readable_number(*figure.target),
                          figure.passed() ? "met" : "MISSED");
    }
    if (!figure.note.empty()) line += "  " + figure.note;
    return line;
  }

 private:
  [[nodiscard]] const ValueOption* find_option(std::string_view flag) const {
    for (const auto& option : options_.value_options) {
      if (option.flag == flag) return &option;
    }
    return nullptr;
  }

  void print_usage(std::FILE* out) const {
    fmt::print(out, "usage: {} [--quick] [--json]", options_.program);
    for (const auto& option : options_.value_options) {
      fmt::print(out, " [{} {}]", option.flag, option.value_name);
    }
    fmt::print(out,
               "\n  --quick  small sizes for a smoke run; exit status 0 whatever the figures\n"
               "  --json   one JSON object per figure and line\n");
    for (const auto& option : options_.value_options) {
      fmt::print(out, "  {} {}  {}\n", option.flag, option.value_name, option.help);
    }
  }

  Options options_;
  bool quick_ = false;
  bool json_ = false;
  bool all_passed_ = true;
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

}  // namespace bench
