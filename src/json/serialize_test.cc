#include "json/serialize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "json/parse.h"

namespace shoal::json {
namespace {

std::string Dbl(double d) {
  std::string s;
  AppendDouble(d, &s);
  return s;
}

std::string Pretty(std::string_view text, FormatOptions opts) {
  return ToJson(Parse(text).value(), opts);
}

TEST(JsonSerialize, DoublesAsRyu) {
  EXPECT_EQ(Dbl(1.0), "1.0");
  EXPECT_EQ(Dbl(-1.0), "-1.0");
  EXPECT_EQ(Dbl(0.0), "0.0");
  EXPECT_EQ(Dbl(-0.0), "-0.0");
  EXPECT_EQ(Dbl(3.14), "3.14");
  EXPECT_EQ(Dbl(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Dbl(1e15), "1000000000000000.0");
  EXPECT_EQ(Dbl(1e16), "1e16");
  EXPECT_EQ(Dbl(1.5e16), "1.5e16");
  EXPECT_EQ(Dbl(1234567890123456.7), "1234567890123456.8");
  EXPECT_EQ(Dbl(0.0001), "0.0001");
  EXPECT_EQ(Dbl(0.00001), "0.00001");  // ryu: plain decimal down to 10^-5
  EXPECT_EQ(Dbl(0.000012), "0.000012");
  EXPECT_EQ(Dbl(0.000001), "1e-6");
  EXPECT_EQ(Dbl(0.0000015), "1.5e-6");
  EXPECT_EQ(Dbl(1e300), "1e300");
  EXPECT_EQ(Dbl(1.7976931348623157e308), "1.7976931348623157e308");
  EXPECT_EQ(Dbl(5e-324), "5e-324");
  EXPECT_EQ(Dbl(99.98), "99.98");
  EXPECT_EQ(Dbl(2.5), "2.5");
}

TEST(JsonSerialize, StringEscapesAsSerdeJson) {
  std::string s;
  AppendJsonString(std::string_view("a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f\0e", 17), &s);
  EXPECT_EQ(s, "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\\u0000e\"");
  s.clear();
  AppendJsonString("caf\xC3\xA9 \xF0\x9F\x98\x80", &s);
  EXPECT_EQ(s, "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
}

TEST(JsonSerialize, CompactIsDefault) {
  EXPECT_EQ(
      ToJson(Parse(R"( { "a" : [ 1 , 2.0 , "x" , null , true , false , { } , [ ] ] } )").value()),
      R"({"a":[1,2.0,"x",null,true,false,{},[]]})");
  FormatOptions none;
  EXPECT_EQ(Pretty(R"({"a":[1]})", none), R"({"a":[1]})");
}

// The layout of RedisJSON's formatter (src/formatter.rs and its tests).
TEST(JsonSerialize, IndentNewlineSpaceLikeRedisJson) {
  FormatOptions all{.indent = "\t", .newline = "\n", .space = " "};
  EXPECT_EQ(Pretty(R"({"a":[1,2],"b":{}})", all),
            "{\n\t\"a\": [\n\t\t1,\n\t\t2\n\t],\n\t\"b\": {}\n}");
  EXPECT_EQ(Pretty("[]", all), "[]");
  EXPECT_EQ(Pretty("{}", all), "{}");
  EXPECT_EQ(Pretty("[[]]", all), "[\n\t[]\n]");
  EXPECT_EQ(Pretty("[{}, []]", all), "[\n\t{},\n\t[]\n]");
  EXPECT_EQ(Pretty("5", all), "5");
  // Each option alone.
  FormatOptions indent{.indent = "_"};
  EXPECT_EQ(Pretty(R"([{"a":1,"b":2},3])", indent), R"([_{__"a":1,__"b":2_},_3])");
  FormatOptions space{.space = "s"};
  EXPECT_EQ(Pretty(R"([{"a":1,"b":2},3])", space), R"([{"a":s1,"b":s2},3])");
  FormatOptions newline{.newline = "n"};
  EXPECT_EQ(Pretty(R"([{"a":1,"b":2},3])", newline), R"([n{n"a":1,n"b":2n},n3n])");
}

TEST(JsonSerialize, IndentExampleFromJsonGetDocs) {
  // JSON.GET doc INDENT "\t" NEWLINE "\n" SPACE " " path.to.value[1] style output.
  FormatOptions opts{.indent = "  ", .newline = "\n", .space = " "};
  EXPECT_EQ(Pretty(R"({"a":2,"b":3,"nested":{"a":4,"b":null}})", opts),
            "{\n  \"a\": 2,\n  \"b\": 3,\n  \"nested\": {\n    \"a\": 4,\n    \"b\": null\n  }\n}");
}

TEST(JsonSerialize, JsonWriterMatchesTheTreeLayout) {
  Value a = Parse(R"({"x":[1,{}],"y":"s"})").value();
  Value b = Parse("[]").value();
  Value c = Parse("7").value();
  for (FormatOptions opts :
       {FormatOptions{}, FormatOptions{.indent = "\t", .newline = "\n", .space = " "},
        FormatOptions{.indent = "__"}, FormatOptions{.newline = "N"}}) {
    // [a,b,c] and {"$.a":[a],"$.b":[],"$.c":[b,c]} written piecewise equal the same trees.
    std::string got;
    JsonWriter w(&opts, &got);
    w.BeginArray();
    w.Write(a);
    w.Write(b);
    w.Write(c);
    w.EndArray();
    Value arr = Value::Array();
    arr.PushBack(a.Clone());
    arr.PushBack(b.Clone());
    arr.PushBack(c.Clone());
    EXPECT_EQ(got, ToJson(arr, opts));

    got.clear();
    JsonWriter m(&opts, &got);
    m.BeginObject();
    m.Key("$.a");
    m.BeginArray();
    m.Write(a);
    m.EndArray();
    m.Key("$.b");
    m.BeginArray();
    m.EndArray();
    m.Key("$.c");
    m.BeginArray();
    m.Write(b);
    m.Write(c);
    m.EndArray();
    m.EndObject();
    Value obj = Value::Object();
    Value l1 = Value::Array();
    l1.PushBack(a.Clone());
    obj.Set("$.a", std::move(l1));
    obj.Set("$.b", Value::Array());
    Value l3 = Value::Array();
    l3.PushBack(b.Clone());
    l3.PushBack(c.Clone());
    obj.Set("$.c", std::move(l3));
    EXPECT_EQ(got, ToJson(obj, opts));
  }
  std::string plain;
  JsonWriter n(nullptr, &plain);
  n.Write(c);
  EXPECT_EQ(plain, "7");
}

TEST(JsonSerialize, EstimateIsAReasonableHint) {
  Value v = Parse(R"({"key":"value","list":[1,2,3,4,5],"nested":{"x":1.5}})").value();
  std::string out = ToJson(v);
  size_t est = EstimateJsonSize(v);
  EXPECT_GE(est, out.size() / 2);
  EXPECT_LE(est, out.size() * 3);
}

}  // namespace
}  // namespace shoal::json
