#include "storage/zset_object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/encoding_limits.h"

namespace shoal::storage {
namespace {

// ---- ZTree against std::set ----

// prefix + decimal `i` (spelled out: GCC 12 warns falsely on "literal" + std::string).
std::string Name(const char* prefix, uint64_t i) {
  std::string s(prefix);
  s += std::to_string(i);
  return s;
}

struct ModelKey {
  double score;
  std::string member;
  bool operator<(const ModelKey& o) const { return ZLess(score, member, o.score, o.member); }
};

class ZTreeModel {
 public:
  ~ZTreeModel() {
    for (auto& [k, n] : nodes_) ZNode::Delete(n);
  }
  void Insert(double score, const std::string& m) {
    if (nodes_.count(m)) return;
    ZNode* n = ZNode::New(m, score);
    nodes_[m] = n;
    tree_.Insert(n);
    model_.insert({score, m});
  }
  void Erase(const std::string& m) {
    auto it = nodes_.find(m);
    if (it == nodes_.end()) return;
    tree_.Erase(it->second->score, m);
    model_.erase({it->second->score, m});
    ZNode::Delete(it->second);
    nodes_.erase(it);
  }
  void Check(std::mt19937_64& rng) {
    ASSERT_TRUE(tree_.Verify());
    ASSERT_EQ(tree_.size(), model_.size());
    std::vector<ModelKey> order(model_.begin(), model_.end());
    for (int probe = 0; probe < 20 && !order.empty(); ++probe) {
      size_t r = rng() % order.size();
      ZNode* n = ZTree::Get(tree_.At(r));
      ASSERT_EQ(n->member(), order[r].member);
      ASSERT_EQ(tree_.Rank(order[r].score, order[r].member), r);
      double bound = order[r].score;
      size_t below = std::lower_bound(order.begin(), order.end(), bound,
                                      [](const ModelKey& k, double b) { return k.score < b; }) -
                     order.begin();
      ASSERT_EQ(tree_.PartitionPoint([&](const ZNode* x) { return x->score < bound; }), below);
    }
    EXPECT_FALSE(tree_.At(order.size()).valid());
    // Walk backwards from the end.
    size_t i = order.size();
    for (ZTree::Pos p = tree_.At(order.size() == 0 ? 0 : order.size() - 1); p.valid();
         ZTree::Prev(&p)) {
      ASSERT_GT(i, 0u);
      --i;
      ASSERT_EQ(ZTree::Get(p)->member(), order[i].member);
    }
    ASSERT_EQ(i, 0u);
  }
  ZTree& tree() { return tree_; }
  size_t size() const { return model_.size(); }
  std::vector<std::string> members() const {
    std::vector<std::string> out;
    for (auto& [k, n] : nodes_) out.push_back(k);
    return out;
  }

 private:
  ZTree tree_;
  std::map<std::string, ZNode*> nodes_;
  std::set<ModelKey> model_;
};

TEST(ZTreeTest, RandomInsertEraseAgainstModel) {
  std::mt19937_64 rng(42);
  ZTreeModel m;
  for (int round = 0; round < 40; ++round) {
    // Grow, then shrink, so that splits, merges and borrows at every level all happen.
    int grow = round % 2 == 0 ? 3000 : 500;
    for (int i = 0; i < grow; ++i) {
      double score = static_cast<double>(rng() % 200);  // Many ties: member order matters.
      m.Insert(score, Name("m", rng() % 20000));
    }
    std::vector<std::string> all = m.members();
    std::shuffle(all.begin(), all.end(), rng);
    size_t drop = round % 2 == 0 ? all.size() / 3 : all.size() * 2 / 3;
    for (size_t i = 0; i < drop; ++i) m.Erase(all[i]);
    m.Check(rng);
  }
  for (const std::string& s : m.members()) m.Erase(s);
  m.Check(rng);
  EXPECT_EQ(m.tree().bytes(), 0u);
}

TEST(ZTreeTest, AppendsAndPrependsFillLeaves) {
  ZTreeModel up, down;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    up.Insert(i, Name("x", i));
    down.Insert(-i, Name("x", i));
  }
  std::mt19937_64 rng(1);
  up.Check(rng);
  down.Check(rng);
  // Nearly full leaves: about 8 bytes per element plus the leaf headers and inner nodes.
  EXPECT_LT(up.tree().bytes(), n * 9u);
  EXPECT_LT(down.tree().bytes(), n * 9u);
}

TEST(ZTreeTest, DeleteEverythingFromEitherEnd) {
  std::mt19937_64 rng(3);
  ZTreeModel front;
  for (int i = 0; i < 20000; ++i) front.Insert(i, Name("e", i));
  for (int i = 0; i < 20000; ++i) {
    ZNode* n = ZTree::Get(front.tree().At(0));
    front.Erase(std::string(n->member()));
    if (i % 997 == 0) front.Check(rng);
  }
  EXPECT_EQ(front.size(), 0u);
  ZTreeModel back;
  for (int i = 0; i < 20000; ++i) back.Insert(i, Name("e", i));
  for (int i = 0; i < 20000; ++i) {
    ZNode* n = ZTree::Get(back.tree().At(back.size() - 1));
    back.Erase(std::string(n->member()));
    if (i % 997 == 0) back.Check(rng);
  }
  EXPECT_EQ(back.size(), 0u);
}

// ---- Score text ----

TEST(ZSetTest, ListpackScoreTextIsRedisD2String) {
  char buf[32];
  auto t = [&](double d) { return std::string(buf, ZScoreToListpackText(d, buf)); };
  EXPECT_EQ(t(0), "0");
  EXPECT_EQ(t(-0.0), "0");  // Redis 7.0 stores -0 as the integer 0.
  EXPECT_EQ(t(1.5), "1.5");
  EXPECT_EQ(t(0.1), "0.10000000000000001");
  EXPECT_EQ(t(1e17), "100000000000000000");
  EXPECT_EQ(t(5e18), "5e+18");
  EXPECT_EQ(t(INFINITY), "inf");
  EXPECT_EQ(t(-INFINITY), "-inf");
  EXPECT_EQ(std::string(buf, ZScoreToText(-0.0, buf)), "-0");
  EXPECT_EQ(std::string(buf, ZScoreToText(1e17, buf)), "1e+17");
}

TEST(ZSetTest, LexRangeEmptiness) {
  auto bound = [](ZLexBound::Kind k, std::string v = "") { return ZLexBound{k, std::move(v)}; };
  ZLexRange r{bound(ZLexBound::kMinusInf), bound(ZLexBound::kPlusInf), true, true};
  EXPECT_FALSE(ZLexRangeEmpty(r));
  r.max = bound(ZLexBound::kMinusInf);
  EXPECT_TRUE(ZLexRangeEmpty(r));
  r = {bound(ZLexBound::kValue, "a"), bound(ZLexBound::kValue, "a"), false, false};
  EXPECT_FALSE(ZLexRangeEmpty(r));
  r.minex = true;
  EXPECT_TRUE(ZLexRangeEmpty(r));
  r = {bound(ZLexBound::kValue, "b"), bound(ZLexBound::kValue, "a"), false, false};
  EXPECT_TRUE(ZLexRangeEmpty(r));
  EXPECT_TRUE(ZLexGteMin("b", r));
  EXPECT_FALSE(ZLexLteMax("b", r));
}

// ---- The zset, both encodings, against a naive model ----

class ZSetModel {
 public:
  // Sorted view of the model.
  std::vector<ModelKey> Sorted() const {
    std::vector<ModelKey> v;
    for (auto& [m, s] : scores) v.push_back({s, m});
    std::sort(v.begin(), v.end());
    return v;
  }
  std::map<std::string, double> scores;
};

void ExpectSame(const Value& z, const ZSetModel& model) {
  std::vector<ModelKey> sorted = model.Sorted();
  ASSERT_EQ(ZSetLength(z), sorted.size());
  size_t i = 0;
  for (ZSetCursor c(z, 0, false); c.valid(); c.Next(), ++i) {
    ASSERT_LT(i, sorted.size());
    ASSERT_EQ(c.member(), sorted[i].member);
    ASSERT_EQ(c.score(), sorted[i].score);
  }
  ASSERT_EQ(i, sorted.size());
  if (!sorted.empty()) {
    i = sorted.size();
    for (ZSetCursor c(z, sorted.size() - 1, true); c.valid(); c.Next()) {
      --i;
      ASSERT_EQ(c.member(), sorted[i].member);
    }
    ASSERT_EQ(i, 0u);
  }
  for (size_t r = 0; r < sorted.size(); r += 1 + sorted.size() / 16) {
    ASSERT_EQ(ZSetRank(z, sorted[r].member), r);
    ASSERT_EQ(ZSetScore(z, sorted[r].member), sorted[r].score);
  }
  ASSERT_EQ(ZSetRank(z, "nope"), std::nullopt);
  ASSERT_EQ(ZSetScore(z, "nope"), std::nullopt);
}

void RandomOps(Value& z, ZSetModel& model, std::mt19937_64& rng, int ops, int members) {
  for (int op = 0; op < ops; ++op) {
    std::string m = rng() % 5 == 0 ? std::to_string(rng() % members)  // integer members
                                   : Name("m", rng() % members);
    double score = static_cast<double>(static_cast<int>(rng() % 40) - 20) / 4;
    int kind = static_cast<int>(rng() % 10);
    if (kind < 5) {
      int flags = 0;
      int f = static_cast<int>(rng() % 8);
      if (f == 1) flags = kZAddNx;
      if (f == 2) flags = kZAddXx;
      if (f == 3) flags = kZAddGt;
      if (f == 4) flags = kZAddLt;
      if (f == 5) flags = kZAddIncr;
      int out = 0;
      double result = 0;
      ASSERT_TRUE(ZSetAdd(z, score, m, flags, &out, &result));
      auto it = model.scores.find(m);
      if (it == model.scores.end()) {
        if (flags & kZAddXx) {
          ASSERT_EQ(out, kZAddNop);
        } else {
          ASSERT_EQ(out, kZAddAdded);
          model.scores[m] = score;
        }
      } else {
        double cur = it->second;
        double next = (flags & kZAddIncr) ? cur + score : score;
        bool nop = (flags & kZAddNx) || ((flags & kZAddGt) && next <= cur) ||
                   ((flags & kZAddLt) && next >= cur);
        if (nop) {
          ASSERT_EQ(out, kZAddNop);
        } else {
          ASSERT_EQ(out, next != cur ? kZAddUpdated : 0);
          it->second = next;
        }
      }
    } else if (kind < 7) {
      ASSERT_EQ(ZSetRemove(z, m), model.scores.erase(m) == 1);
    } else if (kind < 8 && !model.scores.empty()) {
      size_t len = model.scores.size();
      size_t start = rng() % len;
      size_t count = std::min<size_t>(rng() % 4, len - start);
      std::vector<ModelKey> sorted = model.Sorted();
      ZSetDeleteRange(z, start, count);
      for (size_t i = start; i < start + count; ++i) model.scores.erase(sorted[i].member);
    } else {
      // Score and lex range searches.
      std::vector<ModelKey> sorted = model.Sorted();
      ZScoreRange r{score, score + static_cast<double>(rng() % 12) / 4, rng() % 2 == 0,
                    rng() % 2 == 0};
      size_t first = kZNone, last = kZNone;
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (ZScoreGteMin(sorted[i].score, r) && ZScoreLteMax(sorted[i].score, r)) {
          if (first == kZNone) first = i;
          last = i;
        }
      }
      ASSERT_EQ(ZSetFirstInScoreRange(z, r), first);
      ASSERT_EQ(ZSetLastInScoreRange(z, r), last);
    }
  }
}

TEST(ZSetTest, ListpackAndConversionAgainstModel) {
  std::mt19937_64 rng(7);
  Value z = NewZSetFor("m1");
  ASSERT_EQ(z.object_encoding(), ObjectEncoding::kListpack);
  ZSetModel model;
  RandomOps(z, model, rng, 3000, 60);  // Stays under 128 members: listpack all along.
  ASSERT_EQ(z.object_encoding(), ObjectEncoding::kListpack);
  ExpectSame(z, model);
  RandomOps(z, model, rng, 20000, 2000);  // Outgrows the listpack.
  ASSERT_EQ(z.object_encoding(), ObjectEncoding::kSkiplist);
  ExpectSame(z, model);
  ASSERT_TRUE(static_cast<ZSetBig*>(z.object())->tree.Verify());
  Value copy = z.Clone();
  ExpectSame(copy, model);
}

TEST(ZSetTest, LongMemberConverts) {
  Value z = NewZSetFor("a");
  int out;
  double s;
  ASSERT_TRUE(ZSetAdd(z, 1, "a", 0, &out, &s));
  ASSERT_TRUE(ZSetAdd(z, 2, std::string(65, 'x'), 0, &out, &s));
  EXPECT_EQ(z.object_encoding(), ObjectEncoding::kSkiplist);
  EXPECT_EQ(NewZSetFor(std::string(65, 'x')).object_encoding(), ObjectEncoding::kSkiplist);
}

TEST(ZSetTest, IncrToNanFailsAndChangesNothing) {
  Value z = NewZSetFor("a");
  int out;
  double s;
  ASSERT_TRUE(ZSetAdd(z, INFINITY, "a", 0, &out, &s));
  EXPECT_FALSE(ZSetAdd(z, -INFINITY, "a", kZAddIncr, &out, &s));
  EXPECT_EQ(ZSetScore(z, "a"), INFINITY);
  EXPECT_FALSE(ZSetAdd(z, NAN, "b", 0, &out, &s));
  EXPECT_EQ(ZSetLength(z), 1u);
}

TEST(ZSetTest, FromSortedPicksEncoding) {
  std::vector<ZEntry> small{{"a", 1}, {"b", 2}};
  EXPECT_EQ(ZSetFromSorted(small).object_encoding(), ObjectEncoding::kListpack);
  std::vector<ZEntry> big;
  for (int i = 0; i < 129; ++i) big.push_back({Name("m", 1000 + i), 1.0 * i});
  Value z = ZSetFromSorted(big);
  EXPECT_EQ(z.object_encoding(), ObjectEncoding::kSkiplist);
  EXPECT_EQ(ZSetRank(z, "m1100"), 100u);
}

TEST(ZSetTest, ScanVisitsEveryMemberOnce) {
  std::vector<ZEntry> entries;
  for (int i = 0; i < 5000; ++i) entries.push_back({Name("m", 100000 + i), 0.5 * i});
  Value z = ZSetFromSorted(entries);
  std::map<std::string, std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = ZSetScan(z, cursor, 10, [&](std::string_view m, std::string_view s) {
      seen[std::string(m)] = std::string(s);
    });
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), entries.size());
  EXPECT_EQ(seen["m100003"], "1.5");
}

}  // namespace
}  // namespace shoal::storage
