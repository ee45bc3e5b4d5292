#pragma once
// Lets a program print either a number or a JSON array of numbers.

#include <fmt/format.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "taskmaster/core/master.hpp"
#include "taskmaster/history/codec.hpp"
#include "taskmaster/history/json_text.hpp"

namespace taskmaster::cli {

/// Reads a program's output as a vector of numbers: a number is one
/// component, an array of numbers (NaN and infinities as "nan", "inf",
/// "-inf") is one component per element. Anything else, or an array whose
/// length differs from the outputs before it, is an error message.
std::optional<std::vector<double>> to_components(const nlohmann::json& y, std::size_t expected,
                                                 std::string& error);

/// Wraps a master whose outputs are JSON and hands its results on as
/// `std::vector<double>`; a result that is not a number or an array of
/// numbers fails its task with the reason, so the run goes on.
///
/// @code
/// taskmaster::CommandMaster<double, nlohmann::json> programs({"./f", "{x}"}, {.workers = 4});
/// taskmaster::cli::VectorOutputMaster master(programs);
/// taskmaster::Learner1D<std::vector<double>> learner(0, 1);
/// taskmaster::evaluate(master, learner, taskmaster::stop::points(100));
/// @endcode
template <Master M>
class VectorOutputMaster {
 public:
  using input_type = typename M::input_type;
  using output_type = std::vector<double>;

  /// `components`: the length earlier outputs had (0: not known yet).
  explicit VectorOutputMaster(M& inner, std::size_t components = 0)
      : inner_(inner), components_(components) {}

  [[nodiscard]] std::size_t capacity() const { return inner_.capacity(); }
  void submit(Task<input_type> task) { inner_.submit(std::move(task)); }
  void cancel() { inner_.cancel(); }

  std::optional<Result<input_type, output_type>> next() {
    auto r = inner_.next();
    if (!r) return std::nullopt;
    if (!r->ok()) {
      return Result<input_type, output_type>::failure(r->id, std::move(r->x), std::move(r->error),
                                                      r->worker, r->duration);
    }
    std::string error;
    auto y = to_components(*r->y, components_, error);
    if (!y) {
      return Result<input_type, output_type>::failure(r->id, std::move(r->x), std::move(error),
                                                      r->worker, r->duration);
    }
    components_ = y->size();
    return Result<input_type, output_type>::success(r->id, std::move(r->x), std::move(*y),
                                                    r->worker, r->duration);
  }

 private:
  M& inner_;
  std::size_t components_;
};

inline std::optional<std::vector<double>> to_components(const nlohmann::json& y,
                                                        std::size_t expected, std::string& error) {
  std::vector<double> out;
  try {
    if (y.is_array()) {
      if (y.empty()) {
        error = "the output is an empty array (expected a number or an array of numbers)";
        return std::nullopt;
      }
      out = decode<std::vector<double>>(y);
    } else {
      out.push_back(decode<double>(y));
    }
  } catch (const CodecError&) {
    error = fmt::format("the output {} is not a number or an array of numbers", json_excerpt(y));
    return std::nullopt;
  }
  if (expected != 0 && out.size() != expected) {
    error = fmt::format("the output has {} component{} but earlier outputs had {}: {}", out.size(),
                        out.size() == 1 ? "" : "s", expected, json_excerpt(y));
    return std::nullopt;
  }
  return out;
}

}  // namespace taskmaster::cli
