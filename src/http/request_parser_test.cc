#include "http/request_parser.h"

#include <gtest/gtest.h>

#include <vector>

namespace shoal::http {
namespace {

TEST(RequestParserTest, PipelinedRequestsComeOneAtATime) {
  RequestParser p;
  std::string in =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}";
  size_t used = 0;
  ASSERT_EQ(p.Feed(in, &used), RequestParser::State::kComplete);
  EXPECT_EQ(p.request().url, "/a");
  EXPECT_EQ(p.request().Header("host"), "x");
  EXPECT_TRUE(p.request().keep_alive);
  in.erase(0, used);
  p.Next();
  ASSERT_EQ(p.Feed(in, &used), RequestParser::State::kComplete);
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(p.request().method, HTTP_POST);
  EXPECT_EQ(p.request().body, "{}");
  EXPECT_EQ(p.request().Header("content-type"), "application/json");
}

TEST(RequestParserTest, BytesArriveOneByOne) {
  RequestParser p;
  std::string in = "PUT /c/1 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
  for (size_t i = 0; i < in.size(); ++i) {
    size_t used = 0;
    RequestParser::State s = p.Feed(std::string_view(in).substr(i, 1), &used);
    EXPECT_EQ(used, 1u);
    EXPECT_EQ(
        s, i + 1 == in.size() ? RequestParser::State::kComplete : RequestParser::State::kNeedMore);
  }
  EXPECT_EQ(p.request().body, "abc");
  EXPECT_FALSE(p.request().keep_alive);  // HTTP/1.0 without keep-alive.
}

TEST(RequestParserTest, BodyOverTheLimitIsRefusedFromItsLength) {
  RequestParser p;
  p.set_limits(1024, 10);
  size_t used = 0;
  EXPECT_EQ(p.Feed("POST /c HTTP/1.1\r\nContent-Length: 11\r\n\r\n", &used),
            RequestParser::State::kError);
  EXPECT_EQ(p.error_status(), 413);
}

TEST(RequestParserTest, ChunkedBodyOverTheLimit) {
  RequestParser p;
  p.set_limits(1024, 4);
  size_t used = 0;
  EXPECT_EQ(p.Feed("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n",
                   &used),
            RequestParser::State::kError);
  EXPECT_EQ(p.error_status(), 413);
}

TEST(RequestParserTest, HeadersOverTheLimit) {
  RequestParser p;
  p.set_limits(100, 10);
  size_t used = 0;
  std::string in = "GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(p.Feed(in, &used), RequestParser::State::kError);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(RequestParserTest, GarbageIsA400) {
  RequestParser p;
  size_t used = 0;
  EXPECT_EQ(p.Feed("\x01\x02garbage\r\n\r\n", &used), RequestParser::State::kError);
  EXPECT_EQ(p.error_status(), 400);
}

TEST(RequestParserTest, ExpectContinue) {
  RequestParser p;
  size_t used = 0;
  EXPECT_EQ(p.Feed("POST /c HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n", &used),
            RequestParser::State::kNeedMore);
  EXPECT_TRUE(p.wants_continue());
  p.ContinueSent();
  EXPECT_FALSE(p.wants_continue());
  EXPECT_EQ(p.Feed("{}", &used), RequestParser::State::kComplete);
}

}  // namespace
}  // namespace shoal::http

namespace shoal::http {
namespace {

// The same pipelined requests, cut at random places, always parse into the same requests; random
// bytes end in an error or a wait for more, never in a crash.
TEST(RequestParserTest, RandomSplitsAndRandomBytes) {
  const std::string stream =
      "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "PUT /c/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
      "DELETE /c/1 HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::vector<std::string> urls{"/a?x=1", "/b", "/c/1", "/c/1"};
  const std::vector<std::string> bodies{"", "hello", "abc", ""};
  uint64_t seed = 12345;
  auto next = [&seed] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  };
  for (int round = 0; round < 300; ++round) {
    RequestParser p;
    std::string pending;
    size_t pos = 0, got = 0;
    while (pos < stream.size() || !pending.empty()) {
      size_t n = std::min<size_t>(1 + next() % 40, stream.size() - pos);
      pending += stream.substr(pos, n);
      pos += n;
      while (!pending.empty()) {
        size_t used = 0;
        RequestParser::State s = p.Feed(pending, &used);
        ASSERT_NE(s, RequestParser::State::kError) << p.error_message();
        pending.erase(0, used);
        if (s == RequestParser::State::kNeedMore) break;
        ASSERT_LT(got, urls.size());
        EXPECT_EQ(p.request().url, urls[got]);
        EXPECT_EQ(p.request().body, bodies[got]);
        ++got;
        p.Next();
      }
      if (pos == stream.size() && !pending.empty() && got == urls.size()) break;
    }
    EXPECT_EQ(got, urls.size());
  }
  for (int round = 0; round < 2000; ++round) {
    RequestParser p;
    std::string junk(1 + next() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(next());
    if (round % 2 == 0) junk = "GET / HTTP/1.1\r\n" + junk;  // Garbage inside the headers.
    size_t used = 0;
    RequestParser::State s = p.Feed(junk, &used);
    EXPECT_LE(used, junk.size());
    if (s == RequestParser::State::kError) {
      EXPECT_GE(p.error_status(), 400);
    }
  }
}

}  // namespace
}  // namespace shoal::http
