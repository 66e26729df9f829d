// The quicklist against a std::deque model: random pushes, pops, index reads and writes,
// insertions, range and match deletions, with small node limits so that nodes split and merge
// all the time, checking the node invariants after every step.
#include "storage/list_object.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>

namespace shoal::storage {
namespace {

std::string Text(const lp::Item& it) {
  std::string scratch;
  return std::string(it.View(&scratch));
}

// Every node non-empty and within the limit (or a lone oversized element); counts add up; the
// walk in both directions yields the model.
void CheckAgainst(const Quicklist& q, const std::deque<std::string>& model) {
  ASSERT_EQ(q.size(), model.size());
  size_t total = 0;
  const int fill = q.fill();
  for (uint32_t i = 0; i < q.node_count(); ++i) {
    const uint8_t* n = q.node(i);
    size_t count = lp::Length(n), bytes = lp::Bytes(n);
    ASSERT_GT(count, 0u) << "empty node " << i;
    total += count;
    if (count > 1) {
      if (fill < 0) {
        ASSERT_LE(bytes, size_t{4096} << (-fill - 1)) << "node " << i;
      } else {
        ASSERT_LE(bytes, 8192u);
        ASSERT_LE(count, static_cast<size_t>(std::max(fill, 1)));
      }
    }
  }
  ASSERT_EQ(total, model.size());
  size_t k = 0;
  for (Quicklist::Pos p = q.Seek(0); p.valid(); q.Next(&p), ++k) {
    ASSERT_EQ(Text(Quicklist::Get(p)), model[k]) << "forward at " << k;
  }
  ASSERT_EQ(k, model.size());
  for (Quicklist::Pos p = q.Seek(-1); p.valid(); q.Prev(&p)) {
    --k;
    ASSERT_EQ(Text(Quicklist::Get(p)), model[k]) << "backward at " << k;
  }
  ASSERT_EQ(k, 0u);
}

class Gen {
 public:
  explicit Gen(uint64_t seed, size_t big) : r_(seed), big_(big) {}
  std::string Value() {
    switch (Pick(10)) {
      case 0: return std::to_string(Pick(5));
      case 1: return std::to_string(static_cast<int64_t>(r_()) >> Pick(63));
      case 2: return "";
      case 3: return std::string(1 + Pick(big_), 'x');
      case 4: return "007";
      default: return std::string(1, static_cast<char>('a' + Pick(4)));
    }
  }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(r_); }

 private:
  std::mt19937_64 r_;
  size_t big_;
};

void RunRandom(int64_t fill, uint64_t seed, size_t big, int steps) {
  if (::testing::Test::HasFailure()) return;  // Report the first failing run only.
  SCOPED_TRACE("fill " + std::to_string(fill) + " seed " + std::to_string(seed));
  Quicklist q(fill);
  std::deque<std::string> m;
  Gen g(seed, big);
  size_t max_nodes = 0;
  size_t target = 0;  // The list grows towards it, then shrinks to the next one.
  for (int step = 0; step < steps; ++step) {
    if (step % 400 == 0) target = g.Pick(1500);
    const size_t op = m.size() < target && g.Pick(3) != 0 ? 0 : g.Pick(14);
    const int64_t size = static_cast<int64_t>(m.size());
    if (op <= 3 || m.empty()) {
      std::string v = g.Value();
      if (g.Pick(2) == 0) {
        q.Push(ListEnd::kHead, v);
        m.push_front(v);
      } else {
        q.Push(ListEnd::kTail, v);
        m.push_back(v);
      }
    } else if (op == 4) {
      std::string out;
      bool head = g.Pick(2) == 0;
      q.Pop(head ? ListEnd::kHead : ListEnd::kTail, &out);
      ASSERT_EQ(out, head ? m.front() : m.back());
      head ? m.pop_front() : m.pop_back();
    } else if (op == 5) {
      int64_t idx = static_cast<int64_t>(g.Pick(2 * size + 4)) - size - 2;
      Quicklist::Pos p = q.Seek(idx);
      int64_t real = idx < 0 ? idx + size : idx;
      ASSERT_EQ(p.valid(), real >= 0 && real < size);
      if (p.valid()) {
        ASSERT_EQ(Text(Quicklist::Get(p)), m[real]);
      }
    } else if (op == 6) {
      int64_t idx = static_cast<int64_t>(g.Pick(size));
      std::string v = g.Value();
      q.Replace(q.Seek(idx), v);
      m[idx] = v;
    } else if (op == 7 || op == 8) {
      int64_t idx = static_cast<int64_t>(g.Pick(size));
      bool after = g.Pick(2) == 0;
      std::string v = g.Value();
      q.Insert(q.Seek(idx), v, after);
      m.insert(m.begin() + idx + (after ? 1 : 0), v);
    } else if (op == 9) {
      size_t start = g.Pick(m.size());
      size_t n = g.Pick(std::min<size_t>(m.size() - start, g.Pick(8) ? 8 : 300) + 1);
      q.DeleteRange(start, n);
      m.erase(m.begin() + start, m.begin() + start + n);
    } else if (op == 10) {
      std::string v = g.Value();
      size_t limit = g.Pick(4);
      bool from_head = g.Pick(2) == 0;
      size_t expect = 0;
      if (from_head || limit == 0) {
        for (auto it = m.begin(); it != m.end() && (limit == 0 || expect < limit);) {
          if (*it == v) {
            it = m.erase(it);
            ++expect;
          } else {
            ++it;
          }
        }
      } else {
        for (size_t i = m.size(); i-- > 0 && expect < limit;) {
          if (m[i] == v) {
            m.erase(m.begin() + i);
            ++expect;
          }
        }
      }
      ASSERT_EQ(q.RemoveMatching(v, limit, from_head ? ListEnd::kHead : ListEnd::kTail), expect);
    } else if (op == 11) {
      std::string v = g.Value();
      Quicklist::Pos p = q.FindFirst(v);
      auto it = std::find(m.begin(), m.end(), v);
      ASSERT_EQ(p.valid(), it != m.end());
      if (p.valid()) {
        ASSERT_EQ(Text(Quicklist::Get(p)), *it);
      }
    } else if (op == 12) {
      std::unique_ptr<Quicklist> c(q.Clone());
      CheckAgainst(*c, m);
      c->Push(ListEnd::kTail, "only-in-the-clone");
    } else {
      // Trim like LTRIM: drop a few from each end.
      size_t left = g.Pick(std::min<size_t>(m.size(), 5) + 1);
      q.DeleteRange(0, left);
      m.erase(m.begin(), m.begin() + left);
      size_t right = g.Pick(std::min<size_t>(m.size(), 5) + 1);
      q.DeleteRange(m.size() - right, right);
      m.erase(m.end() - right, m.end());
    }
    CheckAgainst(q, m);
    max_nodes = std::max(max_nodes, q.node_count());
    if (::testing::Test::HasFatalFailure()) {
      ADD_FAILURE() << "after step " << step << " (op " << op << ")";
      return;
    }
  }
  EXPECT_GE(max_nodes, 10u) << "the run should have spread over many nodes";
}

TEST(QuicklistTest, RandomAgainstDequeWithCountLimits) {
  for (int64_t fill : {0, 1, 2, 3, 5, 16}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) RunRandom(fill, seed, 40, 4000);
  }
}

TEST(QuicklistTest, RandomAgainstDequeWithSizeLimits) {
  // Elements up to 3000 bytes against 4 KB and 8 KB nodes: size-driven splits, lone big nodes.
  for (int64_t fill : {-1, -2}) {
    for (uint64_t seed = 1; seed <= 3; ++seed) RunRandom(fill, seed, 3000, 3000);
  }
  RunRandom(-5, 9, 20000, 1500);
}

TEST(QuicklistTest, FillIsClampedAsInRedis) {
  EXPECT_EQ(Quicklist(-100).fill(), -5);
  EXPECT_EQ(Quicklist(1 << 20).fill(), 32767);
  EXPECT_EQ(Quicklist(-2).fill(), -2);
}

TEST(QuicklistTest, SmallListIsOneNodeWithoutArray) {
  Quicklist q(-2);
  for (int i = 0; i < 5; ++i) q.Push(ListEnd::kTail, "v" + std::to_string(i));
  EXPECT_EQ(q.node_count(), 1u);
  EXPECT_EQ(q.HeapBytes(), sizeof(Quicklist) + lp::Bytes(q.node(0)));
}

TEST(QuicklistTest, NodesStayFullUnderPushes) {
  Quicklist q(-2);
  for (int i = 0; i < 100000; ++i) q.Push(i % 2 ? ListEnd::kTail : ListEnd::kHead, "element");
  // Each entry is 9 bytes: an 8 KB node holds ~900; allow for the ends being partly filled.
  EXPECT_LE(q.node_count(), 100000 / 900 + 3);
  size_t half = 0;
  while (q.size() > 50000) {
    std::string out;
    q.Pop(half++ % 2 ? ListEnd::kTail : ListEnd::kHead, &out);
  }
  EXPECT_LE(q.node_count(), 50000 / 900 + 3);
}

TEST(QuicklistTest, RemoveMatchingMergesWhatIsLeft) {
  Quicklist q(4);
  for (int i = 0; i < 400; ++i) q.Push(ListEnd::kTail, i % 4 == 0 ? "keep" : "drop");
  EXPECT_EQ(q.node_count(), 100u);
  EXPECT_EQ(q.RemoveMatching("drop", 0, ListEnd::kHead), 300u);
  EXPECT_EQ(q.size(), 100u);
  EXPECT_EQ(q.node_count(), 25u);
}

TEST(QuicklistTest, SeekFarIndexesFromBothEnds) {
  Quicklist q(3);
  for (int i = 0; i < 1000; ++i) q.Push(ListEnd::kTail, std::to_string(i));
  for (int i : {0, 1, 2, 3, 499, 500, 501, 997, 998, 999}) {
    EXPECT_EQ(Text(Quicklist::Get(q.Seek(i))), std::to_string(i));
    EXPECT_EQ(Text(Quicklist::Get(q.Seek(i - 1000))), std::to_string(i));
  }
  EXPECT_FALSE(q.Seek(1000).valid());
  EXPECT_FALSE(q.Seek(-1001).valid());
}

TEST(QuicklistTest, MatcherComparesIntegersByValue) {
  Quicklist q(-2);
  q.Push(ListEnd::kTail, "12");
  q.Push(ListEnd::kTail, "012");
  q.Push(ListEnd::kTail, "-0");
  EXPECT_EQ(q.FindFirst("12").node, 0u);
  EXPECT_TRUE(q.FindFirst("012").valid());
  EXPECT_FALSE(q.FindFirst("0").valid());
  EXPECT_EQ(q.RemoveMatching("12", 0, ListEnd::kHead), 1u);
  EXPECT_EQ(Text(Quicklist::Get(q.Seek(0))), "012");
}

}  // namespace
}  // namespace shoal::storage
