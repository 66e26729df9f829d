#include "storage/hash_object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "storage/encoding_limits.h"

namespace shoal::storage {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Cat("f", std::to_string(i)) trips GCC 12's false -Wrestrict warning; this does not.
std::string Cat(std::string_view a, std::string_view b) {
  std::string s(a);
  s.append(b);
  return s;
}

Pairs Contents(Hash& h) {
  Pairs out;
  std::string fs, vs;
  h.ForEach([&](const HashItem& f, const HashItem& v) {
    out.emplace_back(std::string(f.View(&fs)), std::string(v.View(&vs)));
  });
  return out;
}

std::string GetString(Hash& h, std::string_view field) {
  std::optional<HashItem> v = h.Get(field);
  if (!v) return "<missing>";
  std::string scratch;
  return std::string(v->View(&scratch));
}

// Sets the hash limits for one test and puts the defaults back after it.
class HashTest : public ::testing::Test {
 protected:
  void TearDown() override {
    Limits().hash_max_listpack_entries = 512;
    Limits().hash_max_listpack_value = 64;
  }
};

TEST_F(HashTest, ListpackKeepsInsertionOrderUpdatesInPlaceAndDeletesPairs) {
  Value v = Hash::New();
  Hash h(&v);
  EXPECT_TRUE(h.is_listpack());
  EXPECT_EQ(h.size(), 0u);
  EXPECT_TRUE(h.Set("a", "1"));
  EXPECT_TRUE(h.Set("b", "two"));
  EXPECT_TRUE(h.Set("c", "3"));
  EXPECT_FALSE(h.Set("a", "one"));  // Stays first.
  EXPECT_EQ(Contents(h), (Pairs{{"a", "one"}, {"b", "two"}, {"c", "3"}}));
  EXPECT_TRUE(h.Delete("b"));
  EXPECT_FALSE(h.Delete("b"));
  EXPECT_TRUE(h.Set("b", "again"));  // Back at the end.
  EXPECT_EQ(Contents(h), (Pairs{{"a", "one"}, {"c", "3"}, {"b", "again"}}));
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(GetString(h, "c"), "3");
  EXPECT_TRUE(h.Get("c")->is_int);  // Canonical integers are stored as integers...
  EXPECT_FALSE(h.Exists("x"));
  EXPECT_EQ(v.EncodingName(), "listpack");
}

TEST_F(HashTest, IntegerLookingFieldsMatchOnlyTheirOwnText) {
  Value v = Hash::New();
  Hash h(&v);
  h.Set("1", "int");
  h.Set("01", "text");
  h.Set("-0", "minus zero");
  EXPECT_EQ(GetString(h, "1"), "int");
  EXPECT_EQ(GetString(h, "01"), "text");
  EXPECT_EQ(GetString(h, "-0"), "minus zero");
  EXPECT_EQ(GetString(h, "0"), "<missing>");
  h.ConvertToHashtable();
  EXPECT_EQ(GetString(h, "1"), "int");
  EXPECT_EQ(GetString(h, "01"), "text");
  EXPECT_EQ(GetString(h, "0"), "<missing>");
}

TEST_F(HashTest, ConvertsPastTheEntryLimitOnly) {
  Limits().hash_max_listpack_entries = 3;
  Value v = Hash::New();
  Hash h(&v);
  h.Set("a", "1");
  h.Set("b", "2");
  h.Set("c", "3");
  EXPECT_TRUE(h.is_listpack());
  h.Set("d", "4");
  EXPECT_FALSE(h.is_listpack());
  EXPECT_EQ(v.EncodingName(), "hashtable");
  Pairs got = Contents(h);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Pairs{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}));
  // One way: deleting back under the limit keeps the hashtable.
  h.Delete("a");
  h.Delete("b");
  EXPECT_FALSE(h.is_listpack());
}

TEST_F(HashTest, AnUpdateConvertsAListpackAlreadyPastALoweredLimit) {
  Value v = Hash::New();
  Hash h(&v);
  for (int i = 0; i < 5; ++i) h.Set(Cat("f", std::to_string(i)), "v");
  Limits().hash_max_listpack_entries = 2;
  EXPECT_TRUE(h.is_listpack());
  h.Get("f1");
  h.Delete("f4");
  EXPECT_TRUE(h.is_listpack());  // Reads and deletes leave it.
  h.Set("f0", "w");
  EXPECT_FALSE(h.is_listpack());
}

TEST_F(HashTest, ConvertsOnLongFieldsOrValues) {
  Limits().hash_max_listpack_value = 4;
  Value v = Hash::New();
  Hash h(&v);
  h.Set("abcd", "wxyz");
  EXPECT_TRUE(h.is_listpack());
  h.Set("f", "12345");
  EXPECT_FALSE(h.is_listpack());
  EXPECT_EQ(GetString(h, "abcd"), "wxyz");
  EXPECT_EQ(GetString(h, "f"), "12345");

  Value w = Hash::New();
  Hash g(&w);
  g.Set("k", "v");
  const std::string_view ok[] = {"abc", "def"};
  g.PrepareWrite(ok);
  EXPECT_TRUE(g.is_listpack());
  const std::string_view too_long[] = {"abc", "defgh"};
  g.PrepareWrite(too_long);
  EXPECT_FALSE(g.is_listpack());
  EXPECT_EQ(GetString(g, "k"), "v");
}

TEST_F(HashTest, HashtableUpdatesValuesOfAnySize) {
  Value v = Hash::New();
  Hash h(&v);
  h.ConvertToHashtable();
  EXPECT_TRUE(h.Set("f", "abc"));
  EXPECT_FALSE(h.Set("f", "xyz"));  // Same size: rewritten in place.
  EXPECT_EQ(GetString(h, "f"), "xyz");
  EXPECT_FALSE(h.Set("f", std::string(1000, 'L')));
  EXPECT_EQ(GetString(h, "f"), std::string(1000, 'L'));
  EXPECT_FALSE(h.Set("f", ""));
  EXPECT_EQ(GetString(h, "f"), "");
  EXPECT_TRUE(h.Set("", "empty field"));
  EXPECT_EQ(GetString(h, ""), "empty field");
  EXPECT_EQ(h.size(), 2u);
}

// Random operations against a model, through the conversion: contents always agree, and while
// the hash is a listpack its order is the model's insertion order.
TEST_F(HashTest, RandomOperationsMatchAModel) {
  Limits().hash_max_listpack_entries = 64;
  Limits().hash_max_listpack_value = 16;
  std::mt19937_64 rng(42);
  Value v = Hash::New();
  Hash h(&v);
  std::vector<std::pair<std::string, std::string>> model;  // Insertion order.
  auto find = [&](const std::string& f) {
    return std::find_if(model.begin(), model.end(), [&](const auto& p) { return p.first == f; });
  };
  bool converted = false;
  for (int step = 0; step < 20000; ++step) {
    std::string f = std::to_string(rng() % 100);
    if (rng() % 3 == 0) f = Cat("f", f);
    const uint64_t op = rng() % 10;
    if (op < 6) {
      std::string val = std::to_string(rng() % 1000000);
      if (rng() % 200 == 0) val = std::string(17, 'v');  // Long: converts.
      auto it = find(f);
      EXPECT_EQ(h.Set(f, val), it == model.end());
      if (it == model.end()) {
        model.emplace_back(f, val);
      } else {
        it->second = val;
      }
    } else if (op < 9) {
      auto it = find(f);
      EXPECT_EQ(h.Delete(f), it != model.end());
      if (it != model.end()) model.erase(it);
    } else {
      auto it = find(f);
      ASSERT_EQ(GetString(h, f), it == model.end() ? "<missing>" : it->second);
    }
    ASSERT_EQ(h.size(), model.size());
    if (!h.is_listpack()) converted = true;
    if (h.is_listpack()) {
      ASSERT_EQ(Contents(h), model) << "step " << step;
    } else if (step % 97 == 0) {
      Pairs got = Contents(h), want = model;
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      ASSERT_EQ(got, want) << "step " << step;
    }
  }
  EXPECT_TRUE(converted);
}

TEST_F(HashTest, CloneIsDeepInBothEncodings) {
  for (bool table : {false, true}) {
    Value v = Hash::New();
    Hash h(&v);
    for (int i = 0; i < 100; ++i) h.Set(Cat("f", std::to_string(i)), std::to_string(i));
    if (table) h.ConvertToHashtable();
    Value c = v.Clone();
    Hash hc(&c);
    EXPECT_EQ(c.type(), ValueType::kHash);
    EXPECT_EQ(c.object_encoding(), v.object_encoding());
    Pairs a = Contents(h), b = Contents(hc);
    if (table) {
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
    }
    EXPECT_EQ(a, b);
    hc.Set("f0", "changed");
    hc.Delete("f1");
    EXPECT_EQ(GetString(h, "f0"), "0");
    EXPECT_EQ(GetString(h, "f1"), "1");
    EXPECT_GT(v.heap_bytes(), 100u * 4);
  }
}

TEST_F(HashTest, TableScanAndRandomCoverEveryField) {
  Value v = Hash::New();
  Hash h(&v);
  h.ConvertToHashtable();
  for (int i = 0; i < 5000; ++i) h.Set(Cat("f", std::to_string(i)), Cat("v", std::to_string(i)));
  std::set<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = h.ScanTable(cursor, [&](const HashItem& f, const HashItem& val) {
      EXPECT_EQ(Cat("v", f.str.substr(1)), val.str);
      seen.insert(std::string(f.str));
    });
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(h.Pairs().size(), 5000u);
  std::mt19937_64 rng(7);
  std::set<std::string> drawn;
  for (int i = 0; i < 50000; ++i) {
    auto [f, val] = h.RandomTableField([&] { return rng(); });
    ASSERT_TRUE(seen.count(std::string(f.str)));
    drawn.insert(std::string(f.str));
  }
  EXPECT_GT(drawn.size(), 4500u);  // Every field can come up.
}

TEST_F(HashTest, NodeHoldsFieldThenValue) {
  HashNode* n = HashNode::Make("f:123456", "v:123456");
  EXPECT_EQ(n->field(), "f:123456");
  EXPECT_EQ(n->value(), "v:123456");
  free(n);
}

}  // namespace
}  // namespace shoal::storage
