#include "taskmaster/masters/command_template.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace taskmaster {

namespace {
std::string bare(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}
}  // namespace

PlaceholderValues PlaceholderValues::of(const nlohmann::json& x, unsigned long long id) {
  PlaceholderValues v;
  v.x = bare(x);
  if (x.is_array()) {
    for (const auto& item : x) v.components.push_back(bare(item));
  }
  v.id = std::to_string(id);
  return v;
}

CommandTemplate::CommandTemplate(std::vector<std::string> arguments)
    : arguments_(std::move(arguments)) {
  if (arguments_.empty() || arguments_.front().empty()) {
    throw std::invalid_argument("command template: the command is empty");
  }
  for (const auto& argument : arguments_) {
    std::vector<Piece> pieces;
    std::string text;
    for (std::size_t i = 0; i < argument.size(); ++i) {
      const char c = argument[i];
      if ((c == '{' || c == '}') && i + 1 < argument.size() && argument[i + 1] == c) {
        text += c;
        ++i;
        continue;
      }
      if (c == '}') {
        throw std::invalid_argument(fmt::format(
            "command template: unmatched '}}' in argument '{}' (write '}}}}' for a brace)",
            argument));
      }
      if (c != '{') {
        text += c;
        continue;
      }
      const auto close = argument.find('}', i);
      if (close == std::string::npos) {
        throw std::invalid_argument(fmt::format(
            "command template: unclosed '{{' in argument '{}' (write '{{{{' for a brace)",
            argument));
      }
      const std::string name = argument.substr(i + 1, close - i - 1);
      Piece piece;
      if (name == "x") {
        piece.kind = Piece::Kind::x;
      } else if (name == "id") {
        piece.kind = Piece::Kind::id;
      } else if (name.size() > 1 && name[0] == 'x' &&
                 name.find_first_not_of("0123456789", 1) == std::string::npos && name.size() < 8) {
        piece.kind = Piece::Kind::component;
        piece.component = std::stoul(name.substr(1));
        components_used_ = std::max(components_used_, piece.component + 1);
      } else {
        throw std::invalid_argument(fmt::format(
            "command template: unknown placeholder '{{{}}}' in argument '{}'; known: {{x}}, "
            "{{x0}}, {{x1}}, ..., {{id}}",
            name, argument));
      }
      if (!text.empty()) pieces.push_back({Piece::Kind::text, std::move(text), 0});
      text.clear();
      pieces.push_back(piece);
      i = close;
    }
    if (!text.empty() || pieces.empty()) pieces.push_back({Piece::Kind::text, std::move(text), 0});
    pieces_.push_back(std::move(pieces));
  }
}

std::vector<std::string> CommandTemplate::expand(const PlaceholderValues& values,
                                                 bool quote) const {
  std::vector<std::string> out;
  out.reserve(pieces_.size());
  for (const auto& pieces : pieces_) {
    std::string argument;
    for (const auto& p : pieces) {
      const std::string* value = nullptr;
      switch (p.kind) {
        case Piece::Kind::text: argument += p.text; continue;
        case Piece::Kind::x: value = &values.x; break;
        case Piece::Kind::id: value = &values.id; break;
        case Piece::Kind::component:
          if (p.component >= values.components.size()) {
            throw std::out_of_range(
                fmt::format("the command uses {{x{}}} but the input {} has {} component(s)",
                            p.component, values.x, values.components.size()));
          }
          value = &values.components[p.component];
          break;
      }
      argument += quote ? shell_quote(*value) : *value;
    }
    out.push_back(std::move(argument));
  }
  return out;
}

std::string shell_quote(const std::string& value) {
  std::string quoted = "'";
  for (char c : value) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

}  // namespace taskmaster
