#include "storage/value.h"

#include <gtest/gtest.h>

namespace shoal::storage {
namespace {

TEST(ValueTest, IntegersAreStoredAsIntegers) {
  Value v = Value::String("12345");
  EXPECT_TRUE(v.is_int());
  EXPECT_EQ(v.int_value(), 12345);
  EXPECT_EQ(v.EncodingName(), "int");
  std::string scratch;
  EXPECT_EQ(v.GetString(&scratch), "12345");
  EXPECT_EQ(v.string_size(), 5u);
}

TEST(ValueTest, NonCanonicalIntegersStayStrings) {
  EXPECT_FALSE(Value::String("007").is_int());
  EXPECT_FALSE(Value::String("+1").is_int());
  EXPECT_FALSE(Value::String("99999999999999999999").is_int());
}

TEST(ValueTest, EncodingsMatchRedis) {
  EXPECT_EQ(Value::String("short").EncodingName(), "embstr");
  EXPECT_EQ(Value::String(std::string(44, 'x')).EncodingName(), "embstr");
  EXPECT_EQ(Value::String(std::string(45, 'x')).EncodingName(), "raw");
  Value v = Value::String("abc");
  v.MutableString(4)[3] = 'd';
  EXPECT_EQ(v.EncodingName(), "raw");
  std::string scratch;
  EXPECT_EQ(v.GetString(&scratch), "abcd");
}

TEST(ValueTest, InlineAndHeapRoundTrip) {
  for (size_t n : {0, 1, 12, 13, 100, 100000}) {
    std::string s(n, 'a');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    Value v = Value::RawString(s);
    std::string scratch;
    EXPECT_EQ(v.GetString(&scratch), s);
    Value c = v.Clone();
    EXPECT_EQ(c.GetString(&scratch), s);
  }
}

TEST(ValueTest, MutableStringGrowsFromInt) {
  Value v = Value::String("10");
  char* p = v.MutableString(5);
  memcpy(p + 2, "abc", 3);
  std::string scratch;
  EXPECT_EQ(v.GetString(&scratch), "10abc");
  EXPECT_FALSE(v.is_int());
}

TEST(ValueTest, SharedIntegerRefcount) {
  EXPECT_EQ(Value::String("5").RefCount(), 2147483647);
  EXPECT_EQ(Value::String("10000").RefCount(), 1);
  EXPECT_EQ(Value::String("x").RefCount(), 1);
}

}  // namespace
}  // namespace shoal::storage
