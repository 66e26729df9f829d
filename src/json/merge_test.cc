#include "json/merge.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "json/parse.h"
#include "json/serialize.h"

namespace shoal::json {
namespace {

std::string Merge(std::string_view target, std::string_view patch) {
  Value t = Parse(target).value();
  Value p = Parse(patch).value();
  Value t2 = t.Clone();
  MergePatch(t, p);
  MergePatch(t2, std::move(p));  // The moving version gives the same result.
  std::string a = ToJson(t);
  EXPECT_EQ(a, ToJson(t2));
  return a;
}

// RFC 7386, appendix A: every example.
TEST(JsonMergePatch, Rfc7386AppendixA) {
  EXPECT_EQ(Merge(R"({"a":"b"})", R"({"a":"c"})"), R"({"a":"c"})");
  EXPECT_EQ(Merge(R"({"a":"b"})", R"({"b":"c"})"), R"({"a":"b","b":"c"})");
  EXPECT_EQ(Merge(R"({"a":"b"})", R"({"a":null})"), R"({})");
  EXPECT_EQ(Merge(R"({"a":"b","b":"c"})", R"({"a":null})"), R"({"b":"c"})");
  EXPECT_EQ(Merge(R"({"a":["b"]})", R"({"a":"c"})"), R"({"a":"c"})");
  EXPECT_EQ(Merge(R"({"a":"c"})", R"({"a":["b"]})"), R"({"a":["b"]})");
  EXPECT_EQ(Merge(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"), R"({"a":{"b":"d"}})");
  EXPECT_EQ(Merge(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"), R"({"a":[1]})");
  EXPECT_EQ(Merge(R"(["a","b"])", R"(["c","d"])"), R"(["c","d"])");
  EXPECT_EQ(Merge(R"({"a":"b"})", R"(["c"])"), R"(["c"])");
  EXPECT_EQ(Merge(R"({"a":"foo"})", "null"), "null");
  EXPECT_EQ(Merge(R"({"a":"foo"})", R"("bar")"), R"("bar")");
  EXPECT_EQ(Merge(R"({"e":null})", R"({"a":1})"), R"({"e":null,"a":1})");
  EXPECT_EQ(Merge(R"([1,2])", R"({"a":"b","c":null})"), R"({"a":"b"})");
  EXPECT_EQ(Merge(R"({})", R"({"a":{"bb":{"ccc":null}}})"), R"({"a":{"bb":{}}})");
}

// RFC 7386 section 3's example document.
TEST(JsonMergePatch, Rfc7386Section3) {
  EXPECT_EQ(
      Merge(
          R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"})",
          R"({"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]})"),
      R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})");
}

TEST(JsonMergePatch, LargeObjectsStayIndexed) {
  Value t = Value::Object();
  for (int i = 0; i < 100; ++i) t.Set(absl::StrCat("k", i), Value(i));
  Value p = Parse(R"({"k5":null,"k50":{"x":1},"new":true})").value();
  MergePatch(t, p);
  EXPECT_EQ(t.size(), 100u);
  EXPECT_EQ(t.Find("k5"), nullptr);
  EXPECT_EQ(ToJson(*t.Find("k50")), R"({"x":1})");
  EXPECT_TRUE(t.Find("new")->as_bool());
  EXPECT_EQ(t.Find("k99")->as_int(), 99);
}

}  // namespace
}  // namespace shoal::json
