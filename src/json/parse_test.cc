#include "json/parse.h"

#include <gtest/gtest.h>

#include <string>

#include "json/serialize.h"

namespace shoal::json {
namespace {

std::string RoundTrip(std::string_view text) {
  Result<Value> v = Parse(text);
  if (!v.ok()) return "error: " + v.status().message();
  return ToJson(*v);
}

std::string ErrorOf(std::string_view text, int depth = kDefaultMaxDepth) {
  Result<Value> v = Parse(text, depth);
  return v.ok() ? "ok" : v.status().message();
}

TEST(JsonParse, Scalars) {
  EXPECT_EQ(RoundTrip("null"), "null");
  EXPECT_EQ(RoundTrip("true"), "true");
  EXPECT_EQ(RoundTrip(" false "), "false");
  EXPECT_EQ(RoundTrip("\"hi\""), "\"hi\"");
  EXPECT_EQ(RoundTrip("42"), "42");
  EXPECT_EQ(RoundTrip("-7"), "-7");
}

TEST(JsonParse, NumbersFollowSerdeJson) {
  EXPECT_EQ(Parse("1").value().type(), Type::kInt);
  EXPECT_EQ(Parse("1.0").value().type(), Type::kDouble);
  EXPECT_EQ(RoundTrip("1.0"), "1.0");
  EXPECT_EQ(RoundTrip("1e3"), "1000.0");
  EXPECT_EQ(RoundTrip("1E3"), "1000.0");
  EXPECT_EQ(RoundTrip("3.14"), "3.14");
  EXPECT_EQ(RoundTrip("-0"), "-0.0");
  EXPECT_EQ(RoundTrip("[-0,0]"), "[-0.0,0]");
  EXPECT_EQ(RoundTrip("-0.0"), "-0.0");
  EXPECT_EQ(RoundTrip("9223372036854775807"), "9223372036854775807");
  EXPECT_EQ(RoundTrip("-9223372036854775808"), "-9223372036854775808");
  // Beyond int64: doubles.
  EXPECT_EQ(Parse("9223372036854775808").value().type(), Type::kDouble);
  EXPECT_EQ(RoundTrip("123456789012345678901234567890"), "1.2345678901234568e29");
  EXPECT_EQ(RoundTrip("-123456789012345678901234567890"), "-1.2345678901234568e29");
  EXPECT_EQ(RoundTrip("1e300"), "1e300");
  EXPECT_EQ(RoundTrip("1.5e-7"), "1.5e-7");
  EXPECT_EQ(ErrorOf("1E400"), "number out of range at line 1 column 5");
  EXPECT_EQ(ErrorOf("[1E400]"), "number out of range at line 1 column 6");
}

TEST(JsonParse, StringsAndEscapes) {
  EXPECT_EQ(RoundTrip(R"("a\"b\\c\/d")"), R"("a\"b\\c/d")");
  EXPECT_EQ(RoundTrip(R"("\b\f\n\r\t")"), R"("\b\f\n\r\t")");
  EXPECT_EQ(RoundTrip(R"("\u0001")"), R"("\u0001")");
  EXPECT_EQ(RoundTrip(R"("\u00e9")"), "\"\xC3\xA9\"");
  EXPECT_EQ(RoundTrip(R"("\ud83d\ude00")"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(RoundTrip("\"\xE2\x82\xAC\""), "\"\xE2\x82\xAC\"");  // UTF-8 kept as is
  EXPECT_EQ(Parse(R"("\u0000")").value().as_string(), std::string_view("\0", 1));
}

TEST(JsonParse, InvalidUtf8IsRejected) {
  EXPECT_NE(ErrorOf("\"\xFF\""), "ok");
  EXPECT_NE(ErrorOf("\"\xC3\""), "ok");
  EXPECT_NE(ErrorOf("\"\xED\xA0\x80\""), "ok");  // encoded surrogate
  EXPECT_NE(ErrorOf("\"\xC0\xAF\""), "ok");      // overlong
  EXPECT_NE(ErrorOf("[\"-0\xFF\"]"), "ok");      // the careful path checks too
}

TEST(JsonParse, ContainersKeepOrderAndLastDuplicateWins) {
  EXPECT_EQ(RoundTrip(R"({"b":1,"a":[1,2,{}],"c":{}})"), R"({"b":1,"a":[1,2,{}],"c":{}})");
  EXPECT_EQ(RoundTrip(R"({"a":1,"b":2,"a":3})"), R"({"a":3,"b":2})");
  EXPECT_EQ(RoundTrip(" [ 1 , 2 ] "), "[1,2]");
  EXPECT_EQ(RoundTrip("[]"), "[]");
  EXPECT_EQ(RoundTrip("{}"), "{}");
}

TEST(JsonParse, ErrorsHaveSerdeWordingAndPosition) {
  EXPECT_EQ(ErrorOf(""), "EOF while parsing a value at line 1 column 0");
  EXPECT_EQ(ErrorOf("x"), "expected value at line 1 column 1");
  EXPECT_EQ(ErrorOf("[1,2"), "EOF while parsing a list at line 1 column 4");
  EXPECT_EQ(ErrorOf("[1,]"), "trailing comma at line 1 column 4");
  EXPECT_EQ(ErrorOf("{\"a\":1,}"), "trailing comma at line 1 column 8");
  EXPECT_EQ(ErrorOf("{\"a\" 1}"), "expected `:` at line 1 column 6");
  EXPECT_EQ(ErrorOf("{1:1}"), "key must be a string at line 1 column 2");
  EXPECT_EQ(ErrorOf("1 2"), "trailing characters at line 1 column 3");
  EXPECT_EQ(ErrorOf("nul"), "EOF while parsing a value at line 1 column 3");
  EXPECT_EQ(ErrorOf("nulx"), "expected ident at line 1 column 4");
  EXPECT_EQ(ErrorOf("01"), "invalid number at line 1 column 2");
  EXPECT_EQ(ErrorOf("[1 2]"), "expected `,` or `]` at line 1 column 4");
  EXPECT_EQ(ErrorOf("\"abc"), "EOF while parsing a string at line 1 column 4");
  EXPECT_EQ(ErrorOf("\"\x01\""),
            "control character (\\u0000-\\u001F) found while parsing a string at line 1 column 2");
  EXPECT_EQ(ErrorOf("[\n1,\nx]"), "expected value at line 3 column 1");
  EXPECT_EQ(ErrorOf("{'a':1}"), "key must be a string at line 1 column 2");
}

TEST(JsonParse, DepthLimitAsSerdeJson) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(ErrorOf(nested(127)), "ok");
  EXPECT_EQ(ErrorOf(nested(128)), "recursion limit exceeded at line 1 column 128");
  EXPECT_EQ(ErrorOf(nested(100000)), "recursion limit exceeded at line 1 column 128");
  EXPECT_EQ(ErrorOf(nested(3), 3), "recursion limit exceeded at line 1 column 3");
  EXPECT_EQ(ErrorOf(nested(2), 3), "ok");
  std::string objs;
  for (int i = 0; i < 200; ++i) objs += "{\"a\":";
  objs += "1";
  for (int i = 0; i < 200; ++i) objs += "}";
  EXPECT_NE(ErrorOf(objs).find("recursion limit exceeded"), std::string::npos);
}

TEST(JsonParse, BigDocumentsUseTheirOwnParser) {
  std::string big = "[";
  for (int i = 0; i < 300000; ++i) big += "\"item\",";
  big += "1]";
  ASSERT_GT(big.size(), 1u << 20);
  Result<Value> v = Parse(big);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->size(), 300001u);
  EXPECT_EQ(RoundTrip("[1,2]"), "[1,2]");  // the shared parser still works afterwards
}

}  // namespace
}  // namespace shoal::json
