// Fuzzing, with fixed seeds and a bounded number of inputs, of everything
// that reads text from outside: history files (read, converted, replayed),
// programs' outputs and workers' replies. Real inputs are damaged at
// random (bytes changed, inserted and cut, lines repeated and swapped,
// deep and huge values) and each must give a valid result or an error
// (with its line, for a history), quickly, and never crash.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "taskmaster/masters/command_master.hpp"
#include "taskmaster/masters/json_lines_wire.hpp"
#include "taskmaster/taskmaster.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Damages text at random: the fuzzer's one move, applied a few times.
class Mutator {
 public:
  explicit Mutator(std::uint64_t seed) : random_(seed) {}

  std::string operator()(std::string text) {
    const int edits = 1 + static_cast<int>(below(4));
    for (int e = 0; e < edits; ++e) text = once(std::move(text));
    return text;
  }

  std::size_t below(std::size_t n) {
    return n == 0 ? 0 : static_cast<std::size_t>(random_() % static_cast<std::uint64_t>(n));
  }

 private:
  std::string once(std::string text) {
    static const std::vector<std::string> tokens{"[",
                                                 "]",
                                                 "{",
                                                 "}",
                                                 "\"",
                                                 ",",
                                                 ":",
                                                 "\\",
                                                 "\n",
                                                 "null",
                                                 "true",
                                                 "-1",
                                                 "0",
                                                 "1e999",
                                                 "-0.0",
                                                 "nan",
                                                 "\"nan\"",
                                                 "\"inf\"",
                                                 "[]",
                                                 "{}",
                                                 "18446744073709551615",
                                                 "18446744073709551616",
                                                 "-9223372036854775809",
                                                 "1.5e-320",
                                                 "\"e\":\"ask\"",
                                                 "\"e\":\"tell\"",
                                                 "\"e\":\"end\"",
                                                 "\"e\":\"resume\"",
                                                 "\"id\":0",
                                                 "\"y\":",
                                                 "\"x\":",
                                                 "\"error\":",
                                                 "\"hello\":\"taskmaster-worker\"",
                                                 "\xff\xfe",
                                                 std::string(1, '\0')};
    const std::size_t at = below(text.size() + 1);
    switch (below(9)) {
      case 0:  // a byte changed
        if (!text.empty()) text[below(text.size())] = static_cast<char>(below(256));
        break;
      case 1: text.insert(at, tokens[below(tokens.size())]); break;
      case 2: text.erase(at, below(16)); break;
      case 3: text.resize(at); break;  // torn
      case 4: {                        // a line repeated
        const auto begin = text.rfind('\n', at == 0 ? 0 : at - 1);
        const auto from = begin == std::string::npos ? 0 : begin + 1;
        const auto end = text.find('\n', from);
        if (end != std::string::npos) text.insert(from, text.substr(from, end - from + 1));
        break;
      }
      case 5: {  // two lines swapped
        std::vector<std::string> lines;
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) lines.push_back(line);
        if (lines.size() > 1) std::swap(lines[below(lines.size())], lines[below(lines.size())]);
        std::string out;
        for (const auto& l : lines) out += l + "\n";
        text = out;
        break;
      }
      case 6: {  // a digit changed
        const auto digit = text.find_first_of("0123456789", at);
        if (digit != std::string::npos) text[digit] = static_cast<char>('0' + below(10));
        break;
      }
      case 7: {  // deep
        const std::size_t depth = 1 + below(300);
        text.insert(at, std::string(depth, below(2) == 0 ? '[' : '{'));
        if (below(2) == 0) text.insert(at + depth, std::string(depth, ']'));
        break;
      }
      default:  // huge
        text.insert(
            at, below(2) == 0 ? std::string(20000, '7') : "\"" + std::string(20000, 'a') + "\"");
        break;
    }
    return text;
  }

  std::mt19937_64 random_;
};

/// A real history: retries, failures, a stop, an end, a resumed segment.
std::string real_history(const std::filesystem::path& file) {
  const std::vector<double> points{0.5, 1.0, 1.5, 2.0, 2.5, 3.0};
  int calls = 0;
  taskmaster::SerialMaster<double, double> master([&calls](double x) {
    if (x == 1.5 || (x == 2.0 && ++calls == 1)) throw std::runtime_error("no convergence");
    return x * x;
  });
  {
    taskmaster::SequenceLearner<double, double> learner(points);
    (void)taskmaster::evaluate(master, learner, taskmaster::stop::points(3),
                               {.retry = {.retries = 1}, .history_file = file});
  }
  taskmaster::SequenceLearner<double, double> learner(points);
  (void)taskmaster::resume(file, master, learner, taskmaster::stop::learner_done(),
                           {.retry = {.retries = 1}});
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ParserFuzz, HistoriesGiveARunOrAnErrorWithItsLine) {
  const auto file =
      std::filesystem::temp_directory_path() / fmt::format("taskmaster_fuzz_{}.jsonl", ::getpid());
  const std::string original = real_history(file);
  std::filesystem::remove(file);
  const std::vector<double> points{0.5, 1.0, 1.5, 2.0, 2.5, 3.0};
  Mutator mutate(20261202);
  int replayed = 0, refused = 0, diverged = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string text = i == 0 ? original : mutate(original);
    const auto started = Clock::now();
    try {
      std::istringstream in(text);
      const auto raw = taskmaster::parse_raw_history(
          in, "fuzz.jsonl", {.allow_truncated_tail = mutate.below(2) == 0});
      try {
        (void)taskmaster::to_history<std::vector<double>, std::vector<double>>(raw, "fuzz.jsonl");
      } catch (const taskmaster::HistoryError& e) {
        EXPECT_GT(e.line(), 0U) << e.what();
      }
      const auto history = taskmaster::to_history<double, double>(raw, "fuzz.jsonl");
      taskmaster::SequenceLearner<double, double> learner(points);
      (void)taskmaster::replay(history, learner);
      ++replayed;
    } catch (const taskmaster::HistoryError& e) {
      ++refused;
      const std::string what = e.what();
      EXPECT_TRUE(e.line() > 0 || what.find("empty file") != std::string::npos)
          << "no line in: " << what << "\ninput " << i << ":\n"
          << text.substr(0, 2000);
      EXPECT_EQ(what.rfind("fuzz.jsonl", 0), 0U) << what;
    } catch (const taskmaster::ReplayDivergence& e) {
      ++diverged;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "neither a result nor a history error: " << e.what() << "\ninput " << i
                    << ":\n"
                    << text.substr(0, 2000);
    }
    ASSERT_LT(Clock::now() - started, 5s) << "input " << i << " took too long";
  }
  EXPECT_EQ(replayed + refused + diverged, 1000);
  EXPECT_GT(replayed, 0) << "the unchanged history must replay";
  EXPECT_GT(refused, 300) << "most damage must be found";
}

template <class Y>
void expect_output_or_error(const std::string& text) {
  const auto parsed = taskmaster::parse_command_output<Y>(text);
  EXPECT_NE(parsed.y.has_value(), !parsed.error.empty())
      << "a value and an error, or neither, for: " << text.substr(0, 500);
}

TEST(ParserFuzz, ProgramOutputsGiveAValueOrAReason) {
  const std::vector<std::string> outputs{"1.5\n",
                                         "[1, 2.5]\n",
                                         "{\"y\": 3}\n",
                                         "{\"error\": \"boom\"}",
                                         "nan",
                                         "-inf\n",
                                         "{\"y\": [1, \"nan\"]}",
                                         "",
                                         " \n\t",
                                         "[[1], [2]]",
                                         "{\"y\": {\"a\": [1, 2]}}"};
  Mutator mutate(16);
  for (int i = 0; i < 600; ++i) {
    const std::string text = mutate(outputs[mutate.below(outputs.size())]);
    const auto started = Clock::now();
    expect_output_or_error<double>(text);
    expect_output_or_error<std::vector<double>>(text);
    expect_output_or_error<std::array<double, 2>>(text);
    expect_output_or_error<nlohmann::json>(text);
    ASSERT_LT(Clock::now() - started, 5s) << text.substr(0, 200);
  }
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const auto& text : {deep, "{\"y\":" + deep + "}", "{\"error\":" + deep + "}"}) {
    const auto parsed = taskmaster::parse_command_output<nlohmann::json>(text);
    EXPECT_FALSE(parsed.y.has_value());
    EXPECT_NE(parsed.error.find("nested deeper than"), std::string::npos) << parsed.error;
  }
}

TEST(ParserFuzz, WorkerRepliesGiveAMessageOrAViolation) {
  using Wire = taskmaster::detail::JsonLinesWire<double, double>;
  using Kind = taskmaster::detail::WireMessage<double>::Kind;
  const std::string conversation =
      "{\"hello\":\"taskmaster-worker\",\"protocol\":1}\n"
      "{\"id\":0,\"y\":1.5}\n{\"id\":1,\"error\":\"diverged\"}\n\n"
      "{\"id\":2,\"y\":\"nan\"}\r\n{\"id\":3,\"y\":[1]}\n";
  Mutator mutate(7);
  for (int i = 0; i < 1000; ++i) {
    const std::string text = mutate(conversation);
    const std::size_t limit = mutate.below(4) == 0 ? 64 : std::size_t{16} << 20;
    std::string_view rest = text;
    bool greeted = false;
    const auto started = Clock::now();
    for (;;) {
      const auto m = Wire::read(rest, greeted, limit);
      if (m.kind == Kind::need_more) break;
      ASSERT_TRUE(m.consumed > 0 || m.kind == Kind::violation)
          << "no progress on: " << text.substr(0, 500);
      ASSERT_LE(m.consumed, rest.size());
      switch (m.kind) {
        case Kind::hello: greeted = true; break;
        case Kind::reply:
          EXPECT_NE(m.y.has_value(), !m.error.empty()) << text.substr(0, 500);
          break;
        case Kind::violation: EXPECT_FALSE(m.error.empty()); break;
        default: break;
      }
      if (m.kind == Kind::violation) break;  // the worker is killed: nothing more is read
      rest.remove_prefix(m.consumed);
    }
    ASSERT_LT(Clock::now() - started, 5s) << text.substr(0, 200);
  }
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const auto m = Wire::read("{\"id\":0,\"y\":" + deep + "}\n", true, std::size_t{16} << 20);
  EXPECT_EQ(m.kind, Kind::violation);
  EXPECT_NE(m.error.find("nested deeper than"), std::string::npos) << m.error;
}

}  // namespace
