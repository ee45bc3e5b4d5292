#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "taskmaster/history/codec.hpp"

namespace {

using taskmaster::decode;
using taskmaster::encode;

template <class T>
T round_trip(const T& value) {
  return decode<T>(nlohmann::json::parse(encode(value)));
}

TEST(Codec, DoublesReadBackBitForBit) {
  for (double v : {0.1, 1.0 / 3.0, -2.5e-300, 5e-324, 1.7976931348623157e308, -0.0, 123456789.0}) {
    const double back = round_trip(v);
    EXPECT_EQ(std::signbit(back), std::signbit(v));
    EXPECT_EQ(back, v) << encode(v);
  }
}

TEST(Codec, NonFiniteFloatsBecomeStringsAndComeBack) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(encode(std::nan("")), "\"nan\"");
  EXPECT_EQ(encode(inf), "\"inf\"");
  EXPECT_EQ(encode(-inf), "\"-inf\"");
  EXPECT_TRUE(std::isnan(round_trip(std::nan(""))));
  EXPECT_EQ(round_trip(-inf), -inf);
  EXPECT_EQ(round_trip(std::vector<double>{1.0, std::nan(""), inf})[2], inf);
}

TEST(Codec, ContainersAndTuples) {
  const std::vector<double> v{0.5, -1.25};
  EXPECT_EQ(encode(v), "[0.5,-1.25]");
  EXPECT_EQ(round_trip(v), v);
  const std::array<int, 3> a{1, -2, 3};
  EXPECT_EQ(round_trip(a), a);
  const std::tuple<int, double, std::string> t{7, 0.25, "a \"quoted\" word"};
  EXPECT_EQ(round_trip(t), t);
  const std::pair<std::uint64_t, double> p{18446744073709551615ULL, 2.0};
  EXPECT_EQ(round_trip(p), p);
  EXPECT_EQ(round_trip(std::optional<double>{}), std::nullopt);
}

TEST(Codec, WrongShapesAreClearErrors) {
  using taskmaster::CodecError;
  EXPECT_THROW(decode<double>(nlohmann::json("abc")), CodecError);
  EXPECT_THROW(decode<int>(nlohmann::json(1.5)), CodecError);
  EXPECT_THROW(decode<std::int8_t>(nlohmann::json(300)), CodecError);
  EXPECT_THROW(decode<unsigned>(nlohmann::json(-1)), CodecError);
  EXPECT_THROW((decode<std::array<double, 2>>(nlohmann::json::parse("[1,2,3]"))), CodecError);
  try {
    decode<std::vector<double>>(nlohmann::json::parse("[1,\"x\"]"));
    FAIL() << "expected a CodecError";
  } catch (const CodecError& e) {
    EXPECT_NE(std::string(e.what()).find("\"x\""), std::string::npos) << e.what();
  }
}

struct Point {
  double a = 0;
  int b = 0;
  friend bool operator==(const Point&, const Point&) = default;
};
void to_json(nlohmann::json& j, const Point& p) { j = nlohmann::json{{"a", p.a}, {"b", p.b}}; }
void from_json(const nlohmann::json& j, Point& p) {
  j.at("a").get_to(p.a);
  j.at("b").get_to(p.b);
}

TEST(Codec, UserTypesUseTheirJsonConversions) {
  const Point p{0.75, 4};
  EXPECT_EQ(round_trip(p), p);
  EXPECT_THROW(decode<Point>(nlohmann::json::parse("{\"a\":1}")), taskmaster::CodecError);
}

}  // namespace
