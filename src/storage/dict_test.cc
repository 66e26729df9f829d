#include "storage/dict.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

namespace shoal::storage {
namespace {

struct IntNode {
  IntNode* next = nullptr;
  uint64_t key;
};
struct IntTraits {
  static uint64_t Mix(uint64_t x) { return x * 0x9E3779B97F4A7C15ULL; }
  static uint64_t HashOf(const IntNode& n) { return Mix(n.key); }
  static uint64_t HashKey(uint64_t k) { return Mix(k); }
  static bool Matches(const IntNode& n, uint64_t k) { return n.key == k; }
};
using IntDict = Dict<IntNode, uint64_t, IntTraits>;

TEST(DictTest, InsertFindRemoveAcrossResizes) {
  IntDict d;
  std::vector<IntNode> nodes(10000);
  for (uint64_t i = 0; i < nodes.size(); ++i) {
    nodes[i].key = i;
    d.Insert(&nodes[i]);
  }
  EXPECT_EQ(d.size(), nodes.size());
  for (uint64_t i = 0; i < nodes.size(); ++i) ASSERT_EQ(d.Find(i), &nodes[i]);
  EXPECT_EQ(d.Find(123456), nullptr);
  for (uint64_t i = 0; i < nodes.size(); i += 2) ASSERT_EQ(d.Remove(i), &nodes[i]);
  for (uint64_t i = 0; i < nodes.size(); ++i) {
    ASSERT_EQ(d.Find(i), i % 2 ? &nodes[i] : nullptr);
  }
  d.Clear([](IntNode*) {});
  EXPECT_EQ(d.size(), 0u);
}

// The SCAN guarantee: every element present for the whole scan is returned, even though the
// table grows and shrinks between calls.
TEST(DictTest, ScanSeesStableElementsAcrossResizes) {
  IntDict d;
  std::vector<IntNode> stable(500), churn(5000);
  for (uint64_t i = 0; i < stable.size(); ++i) {
    stable[i].key = i;
    d.Insert(&stable[i]);
  }
  for (uint64_t i = 0; i < churn.size(); ++i) churn[i].key = 1000000 + i;
  std::set<uint64_t> seen;
  uint64_t cursor = 0;
  size_t step = 0, inserted = 0;
  do {
    cursor = d.Scan(cursor, [&](IntNode* n) { seen.insert(n->key); });
    // Grow for a while, then shrink again.
    if (step < 200) {
      for (int k = 0; k < 20 && inserted < churn.size(); ++k) d.Insert(&churn[inserted++]);
    } else {
      for (int k = 0; k < 40 && inserted > 0; ++k) d.Remove(churn[--inserted].key);
    }
    ++step;
  } while (cursor != 0);
  for (const IntNode& n : stable) EXPECT_TRUE(seen.count(n.key)) << n.key;
}

TEST(DictTest, RandomReturnsMembers) {
  IntDict d;
  std::vector<IntNode> nodes(100);
  for (uint64_t i = 0; i < nodes.size(); ++i) {
    nodes[i].key = i;
    d.Insert(&nodes[i]);
  }
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) {
    IntNode* n = d.Random(rng);
    ASSERT_NE(n, nullptr);
    EXPECT_LT(n->key, 100u);
  }
}

}  // namespace
}  // namespace shoal::storage
