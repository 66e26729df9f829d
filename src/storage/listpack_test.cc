#include "storage/listpack.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>
#include <vector>

namespace shoal::storage {
namespace {

std::string Bytes(const uint8_t* p) {
  return std::string(reinterpret_cast<const char*>(p), lp::Bytes(p));
}

std::vector<std::string> Contents(uint8_t* p) {
  std::vector<std::string> out;
  for (uint8_t* e = lp::First(p); e != nullptr; e = lp::Next(p, e)) {
    std::string s;
    lp::AppendTo(e, &s);
    out.push_back(s);
  }
  return out;
}

// The field/value pairs redis-server 7.0 was given to produce testdata/redis7_hash_listpack.bin
// (the listpack inside DUMP of that hash, with hash-max-listpack-value raised to 100000). Every
// integer width and string-length class appears.
std::vector<std::pair<std::string, std::string>> RedisPairs() {
  return {{"a", "1"},
          {"b", "-1"},
          {"c", "4095"},
          {"d", "-4096"},
          {"e", "32767"},
          {"f", "8388607"},
          {"g", "2147483647"},
          {"h", "9223372036854775807"},
          {"i", "-9223372036854775808"},
          {"j", "-128"},
          {"k", "128"},
          {"l", "007"},
          {"m", ""},
          {"s", std::string(63, 'x')},
          {"t", std::string(64, 'y')},
          {"u", std::string(4095, 'z')},
          {"v", std::string(4096, 'w')},
          {"w", "-32769"},
          {"x", "-2147483649"}};
}

TEST(ListpackTest, BytesMatchRedis) {
  std::ifstream in(std::string(SHOAL_STORAGE_TESTDATA) + "/redis7_hash_listpack.bin",
                   std::ios::binary);
  ASSERT_TRUE(in.good());
  std::stringstream want;
  want << in.rdbuf();
  uint8_t* p = lp::New();
  for (const auto& [f, v] : RedisPairs()) {
    p = lp::Append(p, f);
    p = lp::Append(p, v);
  }
  EXPECT_EQ(Bytes(p), want.str());
  // And reading Redis's bytes gives back the same pairs.
  std::vector<std::string> got = Contents(p);
  size_t i = 0;
  for (const auto& [f, v] : RedisPairs()) {
    EXPECT_EQ(got[i++], f);
    EXPECT_EQ(got[i++], v);
  }
  lp::Free(p);
}

TEST(ListpackTest, WalksBothWaysAndSeeks) {
  uint8_t* p = lp::New();
  EXPECT_EQ(lp::First(p), nullptr);
  EXPECT_EQ(lp::Last(p), nullptr);
  EXPECT_EQ(lp::Seek(p, 0), nullptr);
  std::vector<std::string> want;
  for (int i = 0; i < 300; ++i) {
    std::string s = i % 3 == 0 ? std::to_string(i * 1000 - 70000) : std::string(i, 'a' + i % 26);
    p = lp::Append(p, s);
    want.push_back(s);
  }
  EXPECT_EQ(lp::Length(p), want.size());
  EXPECT_EQ(Contents(p), want);
  std::vector<std::string> backwards;
  for (uint8_t* e = lp::Last(p); e != nullptr; e = lp::Prev(p, e)) {
    std::string s;
    lp::AppendTo(e, &s);
    backwards.push_back(s);
  }
  EXPECT_EQ(backwards, std::vector<std::string>(want.rbegin(), want.rend()));
  for (int64_t i : {0, 1, 149, 150, 299}) {
    std::string s;
    lp::AppendTo(lp::Seek(p, i), &s);
    EXPECT_EQ(s, want[i]);
    std::string t;
    lp::AppendTo(lp::Seek(p, i - 300), &t);
    EXPECT_EQ(t, want[i]);
  }
  EXPECT_EQ(lp::Seek(p, 300), nullptr);
  EXPECT_EQ(lp::Seek(p, -301), nullptr);
  lp::Free(p);
}

TEST(ListpackTest, FindSkipsValues) {
  uint8_t* p = lp::New();
  for (const char* s : {"f1", "v1", "10", "f1", "f2", "10"}) p = lp::Append(p, s);
  // Fields are at even positions: "f1" as a value at position 3 must not be found as a field.
  uint8_t* hit = lp::Find(p, lp::First(p), "10", 1);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit, lp::Seek(p, 2));
  EXPECT_EQ(lp::Find(p, lp::First(p), "v1", 1), nullptr);
  EXPECT_EQ(lp::Find(p, lp::First(p), "f2", 1), lp::Seek(p, 4));
  EXPECT_EQ(lp::Find(p, lp::First(p), "010", 0), nullptr);  // Not the integer 10.
  lp::Free(p);
}

// Random edits against a deque model, including entries whose backlen needs several bytes and a
// count past the 16-bit header field.
TEST(ListpackTest, RandomEditsMatchModel) {
  std::mt19937 rng(7);
  uint8_t* p = lp::New();
  std::deque<std::string> model;
  auto random_value = [&]() -> std::string {
    switch (rng() % 5) {
      case 0: return std::to_string(static_cast<int64_t>(rng()) - (1LL << 31));
      case 1: return std::to_string(static_cast<int64_t>(uint64_t{rng()} << 32 | rng()));
      case 2: return std::string(rng() % 70, 'q');
      case 3: return std::string(rng() % 300 == 0 ? 20000 : rng() % 5000, 'r');
      default: return "0" + std::to_string(rng() % 100);
    }
  };
  for (int step = 0; step < 4000; ++step) {
    int op = rng() % 10;
    if (op < 3 || model.empty()) {
      std::string v = random_value();
      if (rng() % 2) {
        p = lp::Append(p, v);
        model.push_back(v);
      } else {
        p = lp::Prepend(p, v);
        model.push_front(v);
      }
    } else if (op < 5) {
      size_t i = rng() % model.size();
      std::string v = random_value();
      uint8_t* e = lp::Seek(p, static_cast<int64_t>(i));
      p = lp::Insert(p, v, e, rng() % 2 ? lp::Where::kBefore : lp::Where::kAfter, &e);
      std::string at;
      lp::AppendTo(e, &at);
      EXPECT_EQ(at, v);
      size_t pos = (lp::Seek(p, static_cast<int64_t>(i)) == e) ? i : i + 1;
      model.insert(model.begin() + pos, v);
    } else if (op < 7) {
      size_t i = rng() % model.size();
      std::string v = random_value();
      uint8_t* e = lp::Seek(p, static_cast<int64_t>(i));
      p = lp::Replace(p, &e, v);
      model[i] = v;
    } else if (op < 9) {
      size_t i = rng() % model.size();
      uint8_t* e = lp::Seek(p, static_cast<int64_t>(i));
      p = lp::Delete(p, &e);
      model.erase(model.begin() + i);
      if (i < model.size()) {
        std::string next;
        lp::AppendTo(e, &next);
        EXPECT_EQ(next, model[i]);
      } else {
        EXPECT_EQ(e, nullptr);
      }
    } else {
      size_t i = rng() % model.size();
      size_t n = rng() % 5;
      p = lp::DeleteRange(p, static_cast<int64_t>(i), n);
      if (n > 0) model.erase(model.begin() + i, model.begin() + std::min(model.size(), i + n));
    }
    ASSERT_EQ(lp::Length(p), model.size()) << step;
  }
  EXPECT_EQ(Contents(p), std::vector<std::string>(model.begin(), model.end()));
  // Past 65535 entries the header count saturates and Length() counts.
  uint8_t* big = lp::New();
  for (int i = 0; i < 66000; ++i) big = lp::AppendInt(big, i);
  EXPECT_EQ(lp::Length(big), 66000u);
  uint8_t* first = lp::First(big);
  big = lp::DeleteRange(big, &first, 10000);
  EXPECT_EQ(lp::Length(big), 56000u);
  lp::Free(big);
  lp::Free(p);
}

}  // namespace
}  // namespace shoal::storage
