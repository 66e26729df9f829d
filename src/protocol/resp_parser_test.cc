#include "protocol/resp_parser.h"

#include <gtest/gtest.h>

namespace shoal::protocol {
namespace {

std::vector<std::string> ToVec(const ArgList& args) {
  return std::vector<std::string>(args.begin(), args.end());
}

TEST(RespParserTest, ParsesMultibulk) {
  RespParser p;
  ArgList args;
  size_t used = 0;
  std::string in = "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n";
  ASSERT_EQ(p.Parse(in, &args, &used), ParseState::kCommand);
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(ToVec(args), (std::vector<std::string>{"GET", "foo"}));
}

TEST(RespParserTest, BulkStringSplitAcrossReads) {
  RespParser p;
  ArgList args;
  size_t used = 0;
  std::string in = "*2\r\n$3\r\nGET\r\n$3\r\nfo";
  EXPECT_EQ(p.Parse(in, &args, &used), ParseState::kNeedMore);
  in += "o\r\n";
  ASSERT_EQ(p.Parse(in, &args, &used), ParseState::kCommand);
  EXPECT_EQ(ToVec(args), (std::vector<std::string>{"GET", "foo"}));
}

TEST(RespParserTest, EveryPrefixNeedsMore) {
  std::string in = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
  for (size_t i = 1; i < in.size(); ++i) {
    RespParser p;
    ArgList args;
    size_t used = 0;
    EXPECT_EQ(p.Parse(std::string_view(in).substr(0, i), &args, &used), ParseState::kNeedMore)
        << i;
  }
}

TEST(RespParserTest, IncrementalAcrossManyFeeds) {
  std::string in = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
  RespParser p;
  ArgList args;
  size_t used = 0;
  for (size_t i = 1; i < in.size(); ++i) {
    ASSERT_EQ(p.Parse(std::string_view(in).substr(0, i), &args, &used), ParseState::kNeedMore);
  }
  ASSERT_EQ(p.Parse(in, &args, &used), ParseState::kCommand);
  EXPECT_EQ(ToVec(args), (std::vector<std::string>{"SET", "k", "hello"}));
}

TEST(RespParserTest, BinarySafe) {
  RespParser p;
  ArgList args;
  size_t used = 0;
  std::string in("*1\r\n$3\r\na\0b\r\n", 13);
  ASSERT_EQ(p.Parse(in, &args, &used), ParseState::kCommand);
  EXPECT_EQ(args[0], std::string_view("a\0b", 3));
}

TEST(RespParserTest, Inline) {
  RespParser p;
  ArgList args;
  size_t used = 0;
  ASSERT_EQ(p.Parse("SET a \"b c\"\r\n", &args, &used), ParseState::kCommand);
  EXPECT_EQ(ToVec(args), (std::vector<std::string>{"SET", "a", "b c"}));
  EXPECT_EQ(p.Parse("\r\n", &args, &used), ParseState::kEmpty);
  EXPECT_EQ(used, 2u);
}

struct ErrorCase {
  const char* input;
  const char* error;
};

TEST(RespParserTest, ErrorsUseRedisWording) {
  const ErrorCase cases[] = {
      {"*abc\r\n", "Protocol error: invalid multibulk length"},
      {"*3000000000\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n+foo\r\n", "Protocol error: expected '$', got '+'"},
      {"SET \"a\r\n", "Protocol error: unbalanced quotes in request"},
  };
  for (const auto& c : cases) {
    RespParser p;
    ArgList args;
    size_t used = 0;
    ASSERT_EQ(p.Parse(c.input, &args, &used), ParseState::kError) << c.input;
    EXPECT_EQ(p.error(), c.error);
  }
}

TEST(RespParserTest, EmptyMultibulkIsSkipped) {
  RespParser p;
  ArgList args;
  size_t used = 0;
  EXPECT_EQ(p.Parse("*0\r\n", &args, &used), ParseState::kEmpty);
  EXPECT_EQ(used, 4u);
  EXPECT_EQ(p.Parse("*-1\r\n", &args, &used), ParseState::kEmpty);
}

TEST(RespParserTest, TooBigInline) {
  RespParser p;
  ArgList args;
  size_t used = 0;
  std::string in(70000, 'a');
  ASSERT_EQ(p.Parse(in, &args, &used), ParseState::kError);
  EXPECT_EQ(p.error(), "Protocol error: too big inline request");
}

TEST(SplitInlineArgsTest, Quotes) {
  std::vector<std::string> out;
  ASSERT_TRUE(SplitInlineArgs("a 'b c' \"d\\x41\\n\"", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b c", "dA\n"}));
  out.clear();
  EXPECT_FALSE(SplitInlineArgs("\"abc\"def", &out));
}

}  // namespace
}  // namespace shoal::protocol
