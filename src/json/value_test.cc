#include "json/value.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace shoal::json {
namespace {

TEST(JsonValue, ScalarsKeepTheirTypes) {
  EXPECT_EQ(Value().type(), Type::kNull);
  EXPECT_EQ(Value(true).type(), Type::kBool);
  EXPECT_TRUE(Value(true).as_bool());
  EXPECT_FALSE(Value(false).as_bool());
  EXPECT_EQ(Value(int64_t{-5}).as_int(), -5);
  EXPECT_EQ(Value(int64_t{7}).type(), Type::kInt);
  EXPECT_EQ(Value(1.0).type(), Type::kDouble);
  EXPECT_EQ(Value(2.5).as_double(), 2.5);
  EXPECT_EQ(TypeName(Type::kInt), "integer");
  EXPECT_EQ(TypeName(Type::kDouble), "number");
  EXPECT_EQ(TypeName(Type::kBool), "boolean");
}

TEST(JsonValue, ShortStringsInlineLongOnHeap) {
  Value s("hello");
  EXPECT_EQ(s.as_string(), "hello");
  EXPECT_EQ(s.MemoryUsage(), sizeof(Value));  // inline
  std::string big(100, 'x');
  Value b(big);
  EXPECT_EQ(b.as_string(), big);
  EXPECT_EQ(b.MemoryUsage(), sizeof(Value) + 100);
  Value e("");
  EXPECT_TRUE(e.is_string());
  EXPECT_EQ(e.as_string(), "");
}

TEST(JsonValue, AppendStringCrossesInlineLimit) {
  Value s("abc");
  s.AppendString("defghijklmn");  // 14 bytes: still inline
  EXPECT_EQ(s.as_string(), "abcdefghijklmn");
  EXPECT_EQ(s.HeapUsage(), 0u);
  s.AppendString("o");
  EXPECT_EQ(s.as_string(), "abcdefghijklmno");
  EXPECT_EQ(s.HeapUsage(), 15u);
  s.AppendString(std::string(50, 'z'));
  EXPECT_EQ(s.as_string().size(), 65u);
}

TEST(JsonValue, ArrayInsertEraseTrim) {
  Value a = Value::Array();
  for (int i = 0; i < 10; ++i) a.PushBack(Value(i));
  EXPECT_EQ(a.size(), 10u);
  a.Insert(0, Value("first"));
  a.Insert(11, Value("last"));
  EXPECT_EQ(a[0].as_string(), "first");
  EXPECT_EQ(a[11].as_string(), "last");
  Value out = a.Erase(1);
  EXPECT_EQ(out.as_int(), 0);
  EXPECT_EQ(a.size(), 11u);
  a.KeepRange(1, 4);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].as_int(), 1);
  EXPECT_EQ(a[2].as_int(), 3);
  a.KeepRange(2, 1);  // inverted: empties, frees each element once
  EXPECT_EQ(a.size(), 0u);
  for (int i = 0; i < 5; ++i) a.PushBack(Value(std::string(20, 'a' + i)));
  a.KeepRange(3, 100);  // clamped
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].as_string(), std::string(20, 'd'));
  a.KeepRange(0, 0);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_TRUE(a.is_array());
}

TEST(JsonValue, ObjectKeepsInsertionOrderAndFindsKeys) {
  Value o = Value::Object();
  o.Set("b", Value(1));
  o.Set("a", Value(2));
  o.Set("b", Value(3));  // replace in place
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o.members()[0].name(), "b");
  EXPECT_EQ(o.members()[0].value.as_int(), 3);
  EXPECT_EQ(o.members()[1].name(), "a");
  EXPECT_EQ(o.Find("a")->as_int(), 2);
  EXPECT_EQ(o.Find("zz"), nullptr);
  EXPECT_TRUE(o.EraseKey("b"));
  EXPECT_FALSE(o.EraseKey("b"));
  EXPECT_EQ(o.size(), 1u);
}

TEST(JsonValue, LargeObjectUsesIndexAndSurvivesErases) {
  Value o = Value::Object();
  for (int i = 0; i < 1000; ++i) o.Set(absl::StrCat("key", i), Value(i));
  ASSERT_EQ(o.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    const Value* v = o.Find(absl::StrCat("key", i));
    ASSERT_NE(v, nullptr) << i;
    EXPECT_EQ(v->as_int(), i);
  }
  // Erase every other key; order and lookups stay right.
  for (int i = 0; i < 1000; i += 2) EXPECT_TRUE(o.EraseKey(absl::StrCat("key", i)));
  ASSERT_EQ(o.size(), 500u);
  EXPECT_EQ(o.members()[0].name(), "key1");
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(o.Find(absl::StrCat("key", i)) != nullptr, i % 2 == 1) << i;
  }
  o.ClearChildren();
  EXPECT_EQ(o.size(), 0u);
  EXPECT_EQ(o.Find("key1"), nullptr);
  o.Set("x", Value(1));
  EXPECT_EQ(o.Find("x")->as_int(), 1);
}

TEST(JsonValue, CloneIsDeepAndEqual) {
  Value o = Value::Object();
  Value arr = Value::Array();
  arr.PushBack(Value("a long string that is not inline"));
  arr.PushBack(Value(1.5));
  o.Set("arr", std::move(arr));
  for (int i = 0; i < 20; ++i) o.Set(absl::StrCat("k", i), Value(i));
  Value c = o.Clone();
  EXPECT_TRUE(c.Equals(o));
  EXPECT_LE(c.MemoryUsage(), o.MemoryUsage());  // a clone has no spare capacity
  c.Find("arr")->PushBack(Value());
  EXPECT_FALSE(c.Equals(o));
  EXPECT_EQ(o.Find("arr")->size(), 2u);
  EXPECT_EQ(c.Find("k19")->as_int(), 19);
}

TEST(JsonValue, EqualityAcrossNumberKindsAndMemberOrder) {
  EXPECT_TRUE(Value(int64_t{1}).Equals(Value(1.0)));
  EXPECT_FALSE(Value(int64_t{1}).Equals(Value("1")));
  Value a = Value::Object(), b = Value::Object();
  a.Set("x", Value(1));
  a.Set("y", Value(2));
  b.Set("y", Value(2));
  b.Set("x", Value(1));
  EXPECT_TRUE(a.Equals(b));
}

TEST(JsonValue, MoveLeavesNull) {
  Value a("some text longer than fourteen");
  Value b(std::move(a));
  EXPECT_TRUE(a.is_null());  // NOLINT: checking the moved-from state on purpose
  EXPECT_EQ(b.as_string(), "some text longer than fourteen");
}

TEST(JsonValue, MemoryUsageCountsEveryBlock) {
  Value a = Value::Array(4);
  size_t empty = a.MemoryUsage();
  EXPECT_EQ(empty, sizeof(Value) + 8 + 4 * sizeof(Value));
  a.PushBack(Value(std::string(40, 'q')));
  EXPECT_EQ(a.MemoryUsage(), empty + 40);
  size_t before = a.MemoryUsage();
  a.PushBack(Value("inline"));  // fits the spare capacity, owns no heap
  EXPECT_EQ(a.MemoryUsage(), before);
  Value o = Value::Object();
  for (int i = 0; i < 20; ++i) o.Set(absl::StrCat("k", i), Value(i));
  // Members, the hash index and the node itself.
  EXPECT_GE(o.MemoryUsage(), sizeof(Value) + 20 * sizeof(Member) + 40 * sizeof(uint32_t));
}

TEST(JsonValue, HeapCountersFollowEveryBlock) {
  int64_t start = ThreadHeapBytes();
  int64_t total_start = TotalHeapBytes();
  {
    Value o = Value::Object();
    for (int i = 0; i < 50; ++i) {
      Value a = Value::Array();
      for (int j = 0; j < i; ++j) a.PushBack(Value(std::string(j, 'x')));
      o.Set(absl::StrCat("key number ", i), std::move(a));
    }
    o.Find("key number 3")->PushBack(Value("grow"));
    Value* s = o.Find("key number 49");
    (*s)[20].AppendString(std::string(100, 'y'));
    o.EraseKey("key number 7");
    o.Find("key number 30")->KeepRange(2, 5);
    Value c = o.Clone();
    EXPECT_EQ(ThreadHeapBytes() - start, static_cast<int64_t>(o.HeapUsage() + c.HeapUsage()));
    EXPECT_EQ(TotalHeapBytes() - total_start, ThreadHeapBytes() - start);
    c.ClearChildren();
    EXPECT_EQ(ThreadHeapBytes() - start, static_cast<int64_t>(o.HeapUsage() + c.HeapUsage()));
  }
  EXPECT_EQ(ThreadHeapBytes(), start);
}

TEST(JsonValue, FreedOnAnotherThreadCountsThere) {
  int64_t total_start = TotalHeapBytes();
  auto* v = new Value(Value::Array(100));
  EXPECT_GT(TotalHeapBytes(), total_start);
  std::thread([v] { delete v; }).join();  // like the lazy-free thread
  EXPECT_EQ(TotalHeapBytes(), total_start);
}

TEST(JsonValue, NestingDepth) {
  EXPECT_EQ(NestingDepth(Value(1)), 0);
  Value a = Value::Array();
  EXPECT_EQ(NestingDepth(a), 1);
  Value inner = Value::Object();
  inner.Set("x", Value::Array());
  a.PushBack(Value(2));
  a.PushBack(std::move(inner));
  EXPECT_EQ(NestingDepth(a), 3);
}

}  // namespace
}  // namespace shoal::json
