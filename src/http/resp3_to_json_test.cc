#include "http/resp3_to_json.h"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

std::string ToJson(std::string_view resp) {
  RespValue v;
  size_t used = ParseResp3(resp, &v);
  EXPECT_EQ(used, resp.size()) << resp;
  std::string out;
  AppendJson(v, &out);
  return out;
}

TEST(Resp3ToJsonTest, Scalars) {
  EXPECT_EQ(ToJson("+OK\r\n"), "\"OK\"");
  EXPECT_EQ(ToJson(":-42\r\n"), "-42");
  EXPECT_EQ(ToJson("$5\r\nhe\"lo\r\n"), "\"he\\\"lo\"");
  EXPECT_EQ(ToJson("_\r\n"), "null");
  EXPECT_EQ(ToJson("#t\r\n"), "true");
  EXPECT_EQ(ToJson("#f\r\n"), "false");
  EXPECT_EQ(ToJson(",3.5\r\n"), "3.5");
  EXPECT_EQ(ToJson(",inf\r\n"), "\"inf\"");
  EXPECT_EQ(ToJson(",-nan\r\n"), "\"-nan\"");
  EXPECT_EQ(ToJson("(12345678901234567890123\r\n"), "\"12345678901234567890123\"");
  EXPECT_EQ(ToJson("=7\r\ntxt:a\nb\r\n"), "\"a\\nb\"");
  EXPECT_EQ(ToJson("-ERR bad\r\n"), "{\"error\":\"ERR bad\"}");
}

TEST(Resp3ToJsonTest, Aggregates) {
  EXPECT_EQ(ToJson("*2\r\n:1\r\n$1\r\nx\r\n"), "[1,\"x\"]");
  EXPECT_EQ(ToJson("~1\r\n+a\r\n"), "[\"a\"]");
  EXPECT_EQ(ToJson("%2\r\n$1\r\nf\r\n:1\r\n:7\r\n*0\r\n"), "{\"f\":1,\"7\":[]}");
  EXPECT_EQ(ToJson("*0\r\n"), "[]");
  EXPECT_EQ(ToJson("|1\r\n+key\r\n+val\r\n:5\r\n"), "5");  // Attributes are skipped.
}

TEST(Resp3ToJsonTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  EXPECT_EQ(ToJson("$3\r\na\xff\x01\r\n"), "\"a\\ufffd\\u0001\"");
  EXPECT_EQ(ToJson("$2\r\n\xc3\xa9\r\n"), "\"\xc3\xa9\"");                   // Valid: kept.
  EXPECT_EQ(ToJson("$3\r\n\xed\xa0\x80\r\n"), "\"\\ufffd\\ufffd\\ufffd\"");  // A surrogate.
}

TEST(Resp3ToJsonTest, IncompleteOrMalformedIsRejected) {
  RespValue v;
  EXPECT_EQ(ParseResp3("$5\r\nab", &v), 0u);
  EXPECT_EQ(ParseResp3("*2\r\n:1\r\n", &v), 0u);
  EXPECT_EQ(ParseResp3("?x\r\n", &v), 0u);
  EXPECT_EQ(ParseResp3("*999999999\r\n", &v), 0u);
  std::vector<RespValue> all;
  EXPECT_TRUE(ParseAllResp3("+OK\r\n:1\r\n", &all));
  EXPECT_EQ(all.size(), 2u);
}

}  // namespace
}  // namespace shoal::http
