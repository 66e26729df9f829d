#include "http/json_body.h"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

TEST(JsonBodyTest, Objects) {
  ObjectBody b = CheckObjectBody(R"({"id": "x1", "n": 1})");
  EXPECT_TRUE(b.error.empty());
  EXPECT_TRUE(b.has_id);
  EXPECT_EQ(b.id, "x1");
  b = CheckObjectBody(R"({"id": 42})");
  EXPECT_EQ(b.id, "42");
  b = CheckObjectBody(R"({"id": 4.5})");
  EXPECT_FALSE(b.id_error.empty());
  b = CheckObjectBody(R"({"n": 1})");
  EXPECT_FALSE(b.has_id);
  EXPECT_FALSE(CheckObjectBody("[1]").error.empty());
  EXPECT_FALSE(CheckObjectBody("{").error.empty());
  EXPECT_FALSE(CheckObjectBody("{\"a\":\"\xff\"}").error.empty());  // Invalid UTF-8.
  EXPECT_FALSE(CheckObjectBody(std::string(5000, '[') + std::string(5000, ']')).error.empty());
}

TEST(JsonBodyTest, CommandArrays) {
  std::vector<std::string> args;
  EXPECT_EQ(ParseCommandBody(R"(["SET", "k", 10, 1.5])", &args), "");
  EXPECT_EQ(args, (std::vector<std::string>{"SET", "k", "10", "1.5"}));
  args.clear();
  EXPECT_NE(ParseCommandBody("[]", &args), "");
  EXPECT_NE(ParseCommandBody(R"(["GET", null])", &args), "");
  EXPECT_NE(ParseCommandBody(R"({"a":1})", &args), "");
}

TEST(JsonBodyTest, InsertId) {
  EXPECT_EQ(InsertId(R"({"a":1})", "x"), R"({"id":"x","a":1})");
  EXPECT_EQ(InsertId(" { } ", "x"), R"( {"id":"x" } )");
}

}  // namespace
}  // namespace shoal::http
