#pragma once
// Command lines with placeholders for a task's input, for CommandMaster.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace taskmaster {

/// The values a command template can refer to, for one task.
///
/// @code
/// auto values = taskmaster::PlaceholderValues::of(nlohmann::json::array({0.5, 2}), 7);
/// // values.x == "[0.5,2]", values.components == {"0.5", "2"}, values.id == "7"
/// @endcode
struct PlaceholderValues {
  std::string x;                        ///< {x}: the whole input
  std::vector<std::string> components;  ///< {x0}, {x1}, ...: elements of an array input
  std::string id;                       ///< {id}: the task id

  /// From the input as JSON (as history files write it): strings go in bare,
  /// everything else as JSON text.
  static PlaceholderValues of(const nlohmann::json& x, unsigned long long id);
};

/// A list of arguments with placeholders `{x}`, `{x0}`, `{x1}`, ..., `{id}`;
/// `{{` and `}}` stand for literal braces. Any other `{...}` is refused when
/// the template is made, naming the argument.
///
/// @code
/// taskmaster::CommandTemplate command({"./simulate", "--x={x0}", "--y={x1}",
/// "--out=run{id}.txt"}); auto argv = command.expand(taskmaster::PlaceholderValues::of({0.5, 2.0},
/// 7));
/// // {"./simulate", "--x=0.5", "--y=2", "--out=run7.txt"}
/// @endcode
class CommandTemplate {
 public:
  explicit CommandTemplate(std::vector<std::string> arguments);

  /// The arguments with the placeholders filled in. Throws std::out_of_range
  /// naming the placeholder when the input has no such component. With
  /// `shell_quote`, every substituted value is quoted for /bin/sh.
  [[nodiscard]] std::vector<std::string> expand(const PlaceholderValues& values,
                                                bool shell_quote = false) const;

  /// The highest component the template uses plus one (0 if none).
  [[nodiscard]] std::size_t components_used() const noexcept { return components_used_; }
  [[nodiscard]] const std::vector<std::string>& arguments() const noexcept { return arguments_; }

 private:
  struct Piece {
    enum class Kind { text, x, component, id } kind = Kind::text;
    std::string text;
    std::size_t component = 0;
  };
  std::vector<std::string> arguments_;
  std::vector<std::vector<Piece>> pieces_;
  std::size_t components_used_ = 0;
};

/// `value` in single quotes for /bin/sh.
std::string shell_quote(const std::string& value);

}  // namespace taskmaster
