#include "http/routes.h"

#include <gtest/gtest.h>

namespace shoal::http {
namespace {

TEST(RoutesTest, Kinds) {
  EXPECT_EQ(ParseRoute("/health").kind, Route::Kind::kHealth);
  EXPECT_EQ(ParseRoute("/metrics").kind, Route::Kind::kMetrics);
  EXPECT_EQ(ParseRoute("/command").kind, Route::Kind::kCommand);
  EXPECT_EQ(ParseRoute("/").kind, Route::Kind::kNotFound);
  EXPECT_EQ(ParseRoute("/a/b/c").kind, Route::Kind::kNotFound);
  Route r = ParseRoute("/users?start=5&end=10");
  EXPECT_EQ(r.kind, Route::Kind::kCollection);
  EXPECT_EQ(r.collection, "users");
  EXPECT_EQ(QueryParam(r.query, "start"), "5");
  EXPECT_EQ(QueryParam(r.query, "end"), "10");
  EXPECT_EQ(QueryParam(r.query, "x"), std::nullopt);
  r = ParseRoute("/users/a%20b");
  EXPECT_EQ(r.kind, Route::Kind::kDocument);
  EXPECT_EQ(r.id, "a b");
  EXPECT_EQ(DocumentKey(r.collection, r.id), "users:a b");
  EXPECT_EQ(IndexKey("users"), "_idx:users");
}

TEST(RoutesTest, BadNamesAndIds) {
  EXPECT_EQ(ParseRoute("/us$ers").kind, Route::Kind::kBad);
  EXPECT_EQ(ParseRoute("/" + std::string(101, 'a')).kind, Route::Kind::kBad);
  EXPECT_EQ(ParseRoute("/health/1").kind, Route::Kind::kBad);
  EXPECT_EQ(ParseRoute("/c/%zz").kind, Route::Kind::kBad);
  EXPECT_EQ(ParseRoute("/c/a%2Fb").kind, Route::Kind::kBad);  // An encoded '/'.
  EXPECT_EQ(ParseRoute("/c/" + std::string(201, 'x')).kind, Route::Kind::kBad);
  EXPECT_EQ(ParseRoute("/c/" + std::string(200, 'x')).kind, Route::Kind::kDocument);
  EXPECT_EQ(PercentDecode("%4"), std::nullopt);
  EXPECT_EQ(PercentEncode("a b/é"), "a%20b%2F%C3%A9");
}

}  // namespace
}  // namespace shoal::http
