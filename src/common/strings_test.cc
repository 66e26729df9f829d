#include "common/strings.h"

#include <gtest/gtest.h>

namespace shoal {
namespace {

TEST(ParseInt64Test, AcceptsRedisIntegers) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("-1"), -1);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
}

TEST(ParseInt64Test, RejectsWhatRedisRejects) {
  for (const char* s : {"", "-", "+1", " 1", "1 ", "01", "-0", "1.0", "9223372036854775808",
                        "-9223372036854775809", "abc", "123456789012345678901"}) {
    EXPECT_FALSE(ParseInt64(s).has_value()) << s;
  }
}

TEST(ParseLongDoubleTest, ParsesAndRejects) {
  EXPECT_EQ(*ParseLongDouble("1.5"), 1.5L);
  EXPECT_EQ(*ParseLongDouble("5.0e3"), 5000.0L);
  EXPECT_FALSE(ParseLongDouble(" 1").has_value());
  EXPECT_FALSE(ParseLongDouble("nan").has_value());
  EXPECT_FALSE(ParseLongDouble("1x").has_value());
  EXPECT_FALSE(ParseLongDouble("").has_value());
}

TEST(FormatTest, LongDoubleHumanTrimsZeros) {
  EXPECT_EQ(LongDoubleToHumanString(10.5L), "10.5");
  EXPECT_EQ(LongDoubleToHumanString(5000.0L), "5000");
  EXPECT_EQ(LongDoubleToHumanString(0.1L + 0.2L), "0.3");
  EXPECT_EQ(LongDoubleToHumanString(-0.0L), "0");
}

TEST(FormatTest, DoubleUsesSeventeenDigits) {
  EXPECT_EQ(DoubleToString(1.5), "1.5");
  EXPECT_EQ(DoubleToString(0.1), "0.10000000000000001");
}

}  // namespace
}  // namespace shoal
