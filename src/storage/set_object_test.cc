#include "storage/set_object.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/encoding_limits.h"
#include "storage/intset.h"
#include "storage/set_algebra.h"

namespace shoal::storage {
namespace {

std::vector<int64_t> IntsetValues(const uint8_t* is) {
  std::vector<int64_t> out;
  for (uint32_t i = 0; i < intset::Size(is); ++i) out.push_back(intset::Get(is, i));
  return out;
}

std::vector<std::string> Members(const Value& set) {
  std::vector<std::string> out;
  SetForEach(set, [&](const SetMember& m) {
    out.push_back(m.ToString());
    return true;
  });
  return out;
}

std::multiset<std::string> Sorted(const std::vector<std::string>& v) {
  return std::multiset<std::string>(v.begin(), v.end());
}

// Restores set-max-intset-entries after a test changes it.
class LimitGuard {
 public:
  explicit LimitGuard(int64_t v) : old_(Limit(Limits().set_max_intset_entries)) {
    Limits().set_max_intset_entries.store(v);
  }
  ~LimitGuard() { Limits().set_max_intset_entries.store(old_); }

 private:
  int64_t old_;
};

TEST(IntsetTest, KeepsValuesSortedAndDistinct) {
  uint8_t* is = intset::New();
  bool added = false;
  for (int64_t v : {5, -3, 100, 5, 0, -3, 7}) is = intset::Add(is, v, &added);
  EXPECT_EQ(IntsetValues(is), (std::vector<int64_t>{-3, 0, 5, 7, 100}));
  is = intset::Add(is, 7, &added);
  EXPECT_FALSE(added);
  EXPECT_EQ(intset::Width(is), 2u);
  EXPECT_EQ(intset::Bytes(is), 8u + 5 * 2);
  intset::Free(is);
}

TEST(IntsetTest, UpgradesWidthAtBothEnds) {
  uint8_t* is = intset::New();
  bool added = false;
  is = intset::Add(is, 1, &added);
  is = intset::Add(is, -2, &added);
  is = intset::Add(is, 40000, &added);  // Past int16: every value widens to 4 bytes.
  EXPECT_EQ(intset::Width(is), 4u);
  EXPECT_EQ(IntsetValues(is), (std::vector<int64_t>{-2, 1, 40000}));
  is = intset::Add(is, INT64_MIN, &added);  // Past int32 at the low end: prepended.
  EXPECT_TRUE(added);
  EXPECT_EQ(intset::Width(is), 8u);
  EXPECT_EQ(IntsetValues(is), (std::vector<int64_t>{INT64_MIN, -2, 1, 40000}));
  is = intset::Add(is, INT64_MAX, &added);
  EXPECT_EQ(IntsetValues(is), (std::vector<int64_t>{INT64_MIN, -2, 1, 40000, INT64_MAX}));
  EXPECT_TRUE(intset::Contains(is, INT64_MIN));
  EXPECT_FALSE(intset::Contains(is, 2));
  intset::Free(is);
}

TEST(IntsetTest, RemoveKeepsWidthAndOrder) {
  uint8_t* is = intset::New();
  bool flag = false;
  for (int64_t v : std::initializer_list<int64_t>{1, 2, 3, 3000000000LL})
    is = intset::Add(is, v, &flag);
  is = intset::Remove(is, 3000000000LL, &flag);
  EXPECT_TRUE(flag);
  is = intset::Remove(is, 99, &flag);
  EXPECT_FALSE(flag);
  is = intset::Remove(is, 1, &flag);
  EXPECT_EQ(IntsetValues(is), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(intset::Width(is), 8u);  // Redis never downgrades.
  // A value wider than the set's width cannot be there.
  uint8_t* narrow = intset::New();
  narrow = intset::Add(narrow, 1, &flag);
  EXPECT_FALSE(intset::Contains(narrow, 1LL << 40));
  narrow = intset::Remove(narrow, 1LL << 40, &flag);
  EXPECT_FALSE(flag);
  intset::Free(narrow);
  intset::Free(is);
}

TEST(IntsetTest, MatchesASortedSetUnderRandomOperations) {
  std::mt19937_64 rng(7);
  std::set<int64_t> model;
  uint8_t* is = intset::New();
  for (int i = 0; i < 20000; ++i) {
    int shift = static_cast<int>(rng() % 63);
    int64_t v = static_cast<int64_t>(rng() >> (63 - shift)) * (rng() % 2 ? 1 : -1);
    bool flag = false;
    if (rng() % 3 == 0) {
      is = intset::Remove(is, v, &flag);
      EXPECT_EQ(flag, model.erase(v) == 1);
    } else {
      is = intset::Add(is, v, &flag);
      EXPECT_EQ(flag, model.insert(v).second);
    }
  }
  EXPECT_EQ(IntsetValues(is), std::vector<int64_t>(model.begin(), model.end()));
  intset::Free(is);
}

TEST(SetObjectTest, FirstMemberPicksTheEncoding) {
  Value ints = NewSetFor("12");
  EXPECT_EQ(ints.object_encoding(), ObjectEncoding::kIntset);
  Value strs = NewSetFor("a");
  EXPECT_EQ(strs.object_encoding(), ObjectEncoding::kHashtable);
  // Only canonical integers count (Redis's string2ll).
  for (const char* s : {"012", "+1", "-0", " 1", "1.0", "9223372036854775808", ""}) {
    EXPECT_EQ(NewSetFor(s).object_encoding(), ObjectEncoding::kHashtable) << s;
  }
  EXPECT_EQ(NewSetFor("-9223372036854775808").object_encoding(), ObjectEncoding::kIntset);
}

TEST(SetObjectTest, NonIntegerConvertsToHashtable) {
  Value set = NewSetFor("3");
  for (const char* m : {"3", "1", "2"}) SetAdd(set, m);
  EXPECT_EQ(Members(set), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_FALSE(SetAdd(set, "2"));
  EXPECT_TRUE(SetAdd(set, "x"));
  EXPECT_EQ(set.object_encoding(), ObjectEncoding::kHashtable);
  EXPECT_EQ(Sorted(Members(set)), Sorted({"1", "2", "3", "x"}));
  EXPECT_TRUE(SetContains(set, "2"));
  EXPECT_TRUE(SetContains(set, SetMember::Int(2)));
  EXPECT_FALSE(SetAdd(set, "1"));
  // Never back: removing the string leaves a hashtable of integers.
  EXPECT_TRUE(SetRemove(set, "x"));
  EXPECT_EQ(set.object_encoding(), ObjectEncoding::kHashtable);
}

TEST(SetObjectTest, IntsetConvertsPastTheLimit) {
  LimitGuard limit(4);
  Value set = NewSetFor("1");
  for (int i = 1; i <= 4; ++i) SetAdd(set, std::to_string(i));
  EXPECT_EQ(set.object_encoding(), ObjectEncoding::kIntset);
  EXPECT_FALSE(SetAdd(set, "4"));  // Not new: no conversion.
  EXPECT_EQ(set.object_encoding(), ObjectEncoding::kIntset);
  EXPECT_TRUE(SetAdd(set, "5"));
  EXPECT_EQ(set.object_encoding(), ObjectEncoding::kHashtable);
  EXPECT_EQ(SetSize(set), 5u);
  EXPECT_TRUE(SetContains(set, "5"));
  EXPECT_FALSE(SetContains(set, "05"));
}

TEST(SetObjectTest, ZeroLimitConvertsOnFirstAdd) {
  LimitGuard limit(0);
  Value set = NewSetFor("1");
  SetAdd(set, "1");
  EXPECT_EQ(set.object_encoding(), ObjectEncoding::kHashtable);
}

TEST(SetObjectTest, CloneIsDeepForBothEncodings) {
  for (const char* first : {"1", "a"}) {
    Value set = NewSetFor(first);
    for (int i = 0; i < 100; ++i) SetAdd(set, (first[0] == 'a' ? "m" : "") + std::to_string(i));
    Value copy = set.Clone();
    EXPECT_EQ(copy.object_encoding(), set.object_encoding());
    EXPECT_EQ(Sorted(Members(copy)), Sorted(Members(set)));
    SetRemove(set, first[0] == 'a' ? "m5" : "5");
    EXPECT_EQ(SetSize(copy), 100u);
    EXPECT_EQ(SetSize(set), 99u);
    EXPECT_GT(set.heap_bytes(), 0u);
  }
}

TEST(SetObjectTest, BinaryMembersAndEmptyString) {
  Value set = NewSetFor("");
  std::string bin("a\0b\xff", 4);
  EXPECT_TRUE(SetAdd(set, ""));
  EXPECT_TRUE(SetAdd(set, bin));
  EXPECT_FALSE(SetAdd(set, std::string("a\0b\xff", 4)));
  EXPECT_TRUE(SetContains(set, ""));
  EXPECT_FALSE(SetContains(set, "a"));
  EXPECT_TRUE(SetRemove(set, bin));
  EXPECT_EQ(SetSize(set), 1u);
}

// Members from a full scan: every member present throughout must appear.
std::set<std::string> ScanAll(Value& set, int mutate_every, std::mt19937_64* rng) {
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    cursor = SetScan(set, cursor, [&](const SetMember& m) { seen.insert(m.ToString()); });
    // Grow or shrink the table between calls (never touching the members checked for), so the
    // scan crosses rehashes in both directions.
    if (mutate_every > 0 && ++calls % mutate_every == 0) {
      for (int i = 0; i < 50; ++i) SetAdd(set, "tmp" + std::to_string((*rng)() % 100000));
    }
  } while (cursor != 0);
  return seen;
}

TEST(SetObjectTest, ScanSeesEveryMemberAcrossRehashes) {
  std::mt19937_64 rng(3);
  Value set = NewSetFor("m");
  for (int i = 0; i < 5000; ++i) SetAdd(set, "m" + std::to_string(i));
  std::set<std::string> seen = ScanAll(set, 3, &rng);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(seen.count("m" + std::to_string(i))) << i;

  // Shrinking: remove the temporaries and most members while scanning.
  std::set<std::string> seen2;
  uint64_t cursor = 0;
  int step = 0;
  do {
    cursor = SetScan(set, cursor, [&](const SetMember& m) { seen2.insert(m.ToString()); });
    if (++step % 2 == 0) {
      for (int i = 0; i < 200; ++i) SetRemove(set, "tmp" + std::to_string(rng() % 100000));
      for (int i = 1000 + step * 10; i < 1000 + step * 10 + 10 && i < 5000; ++i) {
        SetRemove(set, "m" + std::to_string(i));
      }
    }
  } while (cursor != 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(seen2.count("m" + std::to_string(i))) << i;
}

// SMEMBERS sends SetSize() as the reply's length, then SetForEach's members: a member visited
// twice or missed mid-rehash would corrupt the reply.
TEST(SetObjectTest, ForEachVisitsEachMemberOnceMidRehash) {
  Value set = NewSetFor("a");
  auto check = [&] {
    std::vector<std::string> got = Members(set);
    ASSERT_EQ(got.size(), SetSize(set));
    ASSERT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size());
  };
  for (int i = 0; i < 3000; ++i) {
    SetAdd(set, "g" + std::to_string(i));
    if (i % 37 == 0) check();
  }
  for (int i = 0; i < 2990; ++i) {
    SetRemove(set, "g" + std::to_string(i));
    if (i % 37 == 0) check();
  }
  check();
}

TEST(SetObjectTest, IntsetScanAnswersEverythingAtOnce) {
  Value set = NewSetFor("1");
  for (int i = 10; i > 0; --i) SetAdd(set, std::to_string(i));
  std::vector<std::string> got;
  EXPECT_EQ(SetScan(set, 12345, [&](const SetMember& m) { got.push_back(m.ToString()); }), 0u);
  EXPECT_EQ(got.size(), 10u);
  EXPECT_EQ(got.front(), "1");
  EXPECT_EQ(got.back(), "10");
}

TEST(SetObjectTest, RandomMemberBelongsAndCoversSmallSets) {
  std::mt19937_64 rng(11);
  for (const char* first : {"1", "a"}) {
    Value set = NewSetFor(first);
    std::vector<std::string> all;
    for (int i = 0; i < 20; ++i) {
      std::string m = (first[0] == 'a' ? "s" : "") + std::to_string(i);
      SetAdd(set, m);
      all.push_back(m);
    }
    std::set<std::string> drawn;
    for (int i = 0; i < 2000; ++i) drawn.insert(SetRandomMember(set, rng).ToString());
    EXPECT_EQ(drawn, std::set<std::string>(all.begin(), all.end()));
  }
}

// ---- set algebra ----

Value Make(std::initializer_list<const char*> members) {
  Value v = NewSetFor(*members.begin());
  for (const char* m : members) SetAdd(v, m);
  return v;
}

TEST(SetAlgebraTest, UnionOfIntsetsIsAnIntsetInOrder) {
  Value a = Make({"5", "1"}), b = Make({"3", "1", "-2"});
  Value u = SetUnionOrDiff(SetOp::kUnion, {&a, nullptr, &b});
  EXPECT_EQ(u.object_encoding(), ObjectEncoding::kIntset);
  EXPECT_EQ(Members(u), (std::vector<std::string>{"-2", "1", "3", "5"}));
}

TEST(SetAlgebraTest, DiffAlgorithmDecidesTheEncoding) {
  // Small first set against big others: algorithm 1 adds only survivors (all integers).
  Value a = Make({"1", "2", "x"});
  Value big = Make({"x", "y", "z", "w", "v", "u"});
  Value d1 = SetUnionOrDiff(SetOp::kDiff, {&a, &big});
  EXPECT_EQ(Members(d1), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(d1.object_encoding(), ObjectEncoding::kIntset);
  // A big first set against small others (3 * 8 / 2 > 8 + 1 + 1): algorithm 2 copies the first
  // set, string included.
  Value first = Make({"x", "1", "2", "3", "4", "5", "6", "7"});
  Value small = Make({"x"}), other = Make({"y"});
  Value d2 = SetUnionOrDiff(SetOp::kDiff, {&first, &small, &other});
  EXPECT_EQ(SetSize(d2), 7u);
  EXPECT_EQ(d2.object_encoding(), ObjectEncoding::kHashtable);
  // The same set twice: empty.
  EXPECT_EQ(SetSize(SetUnionOrDiff(SetOp::kDiff, {&first, &small, &first})), 0u);
  EXPECT_EQ(SetSize(SetUnionOrDiff(SetOp::kDiff, {nullptr, &small})), 0u);
}

TEST(SetAlgebraTest, IntersectWalksTheSmallestSet) {
  Value big = Make({"a", "1", "2", "3", "4"});
  Value small = Make({"4", "2", "9"});
  std::vector<std::string> got;
  SetIntersect({&big, &small}, [&](const SetMember& m) {
    got.push_back(m.ToString());
    return true;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"2", "4"}));  // In the intset's ascending order.
  int calls = 0;
  SetIntersect({&big, &big}, [&](const SetMember&) { return ++calls < 2; });
  EXPECT_EQ(calls, 2);  // Stops when told to.
}

}  // namespace
}  // namespace shoal::storage
