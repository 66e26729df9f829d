#include "protocol/reply_builder.h"

#include <gtest/gtest.h>

namespace shoal::protocol {
namespace {

TEST(ReplyBuilderTest, Resp2) {
  std::string out;
  ReplyBuilder r(&out, 2);
  r.Ok();
  r.Integer(-5);
  r.Bulk("hi");
  r.Null();
  r.NullArray();
  r.MapHeader(1);
  r.Double(1.5);
  r.Bool(true);
  EXPECT_EQ(out, "+OK\r\n:-5\r\n$2\r\nhi\r\n$-1\r\n*-1\r\n*2\r\n$3\r\n1.5\r\n:1\r\n");
}

TEST(ReplyBuilderTest, Resp3) {
  std::string out;
  ReplyBuilder r(&out, 3);
  r.Null();
  r.MapHeader(1);
  r.SetHeader(2);
  r.Double(1.5);
  r.Bool(false);
  EXPECT_EQ(out, "_\r\n%1\r\n~2\r\n,1.5\r\n#f\r\n");
}

TEST(ReplyBuilderTest, ErrorLinesStayOneLine) {
  std::string out;
  ReplyBuilder r(&out, 2);
  r.Error("ERR a\r\nb");
  EXPECT_EQ(out, "-ERR a  b\r\n");
}

TEST(ReplyBuilderTest, DeferredArray) {
  std::string out;
  ReplyBuilder r(&out, 2);
  size_t mark = r.StartDeferredArray();
  r.Integer(1);
  r.Integer(2);
  r.FinishDeferredArray(mark, 2);
  EXPECT_EQ(out, "*2\r\n:1\r\n:2\r\n");
}

}  // namespace
}  // namespace shoal::protocol
