// JSON values in storage: TYPE/OBJECT ENCODING names, deep copies, and used_memory_json
// accounting that returns to where it started once every document is freed.
#include "storage/json_object.h"

#include <gtest/gtest.h>

#include "json/parse.h"
#include "storage/json_memory.h"

namespace shoal::storage {
namespace {

json::Value Doc(std::string_view text) {
  Result<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok());
  return std::move(v).value();
}

TEST(JsonObjectTest, NamesAsRedisJson) {
  Value v = MakeJson(Doc(R"({"a":1})"));
  EXPECT_EQ(TypeName(v.type()), "ReJSON-RL");
  EXPECT_EQ(v.EncodingName(), "raw");
}

TEST(JsonObjectTest, AccountingFollowsLifetimes) {
  const int64_t base = TotalJsonBytes();
  {
    Value v = MakeJson(Doc(R"({"name":"a string longer than the inline limit","n":[1,2,3]})"));
    const int64_t one = TotalJsonBytes() - base;
    EXPECT_EQ(one, JsonOf(v).accounted);
    EXPECT_EQ(static_cast<size_t>(one), v.heap_bytes());
    Value copy = v.Clone();
    EXPECT_EQ(TotalJsonBytes() - base, 2 * one);
    // The copy is deep: changing it leaves the original alone, and the total follows at once.
    JsonRoot(copy).Set("n", json::Value(int64_t{7}));
    EXPECT_TRUE(JsonRoot(v).Find("n")->is_array());
    EXPECT_EQ(TotalJsonBytes() - base, one + static_cast<int64_t>(copy.heap_bytes()));
    // The document's own figure: a small delta is taken as measured; a large one (a quarter of
    // the document, summed since the last count) makes an exact count.
    int64_t before = JsonOf(copy).accounted;
    AdjustJsonBytes(copy, 2);
    EXPECT_EQ(JsonOf(copy).accounted, before + 2);
    AdjustJsonBytes(copy, one);
    EXPECT_EQ(JsonOf(copy).accounted, static_cast<int64_t>(copy.heap_bytes()));
    ReplaceJsonRoot(v, Doc("[]"));
    EXPECT_EQ(JsonOf(v).accounted, static_cast<int64_t>(v.heap_bytes()));
  }
  EXPECT_EQ(TotalJsonBytes(), base);
}

TEST(JsonObjectTest, AdjustNeverGoesBelowTheObject) {
  const int64_t base = TotalJsonBytes();
  {
    Value v = MakeJson(Doc("1"));
    AdjustJsonBytes(v, -1'000'000);
    EXPECT_EQ(JsonOf(v).accounted, static_cast<int64_t>(sizeof(JsonObject)));
  }
  EXPECT_EQ(TotalJsonBytes(), base);
}

}  // namespace
}  // namespace shoal::storage
