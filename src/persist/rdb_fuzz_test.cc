// Thousands of random mutations of valid payloads of every type and encoding: decoding must fail
// cleanly or produce a value that can be walked and encoded again (run under ASan to catch what
// "not crashing" hides).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "json/parse.h"
#include "persist/rdb_decoder.h"
#include "persist/rdb_encoder.h"
#include "persist/rdb_format.h"
#include "persist/rdb_test_builders.h"
#include "persist/test_values.h"
#include "storage/zset_object.h"

namespace shoal::persist {
namespace {

using storage::Value;

std::string Encoded(const Value& v) {
  std::string out;
  EXPECT_TRUE(RdbEncoder(&out).Object(v).ok());
  return out;
}

std::string WithType(uint8_t type, const std::string& body) {
  return std::string(1, static_cast<char>(type)) + body;
}

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  std::mt19937_64 rng(11);
  seeds.push_back(Encoded(Value::String("hello")));
  seeds.push_back(Encoded(Value::String(std::string(100, 'a') + "b")));
  seeds.push_back(Encoded(Value::Int(-123456)));
  for (size_t n : {3, 50, 600}) {
    Value l = Value::Object(storage::ValueType::kList, storage::ObjectEncoding::kQuicklist,
                            storage::Quicklist::Create());
    for (size_t i = 0; i < n; ++i) {
      storage::ListOf(l)->Push(storage::ListEnd::kTail,
                               i % 3 ? std::to_string(i * 7919) : "e" + std::to_string(i));
    }
    seeds.push_back(Encoded(l));
    Value s = storage::NewSetFor("1");
    Value t = storage::NewSetFor("x");
    Value z = storage::NewZSetFor("m");
    Value h = storage::Hash::New();
    for (size_t i = 0; i < n; ++i) {
      storage::SetAdd(s, std::to_string(i * 100003));
      storage::SetAdd(t, "x" + std::to_string(i));
      int flags;
      double ignored;
      storage::ZSetAdd(z, static_cast<double>(rng() % 1000) / 8, "m" + std::to_string(i), 0,
                       &flags, &ignored);
      storage::Hash(&h).Set("f" + std::to_string(i), std::to_string(i));
    }
    seeds.push_back(Encoded(s));
    seeds.push_back(Encoded(t));
    seeds.push_back(Encoded(z));
    seeds.push_back(Encoded(h));
  }
  Result<json::Value> doc = json::Parse("{\"a\":[1,2,{\"b\":\"c\"}],\"d\":1.5}");
  seeds.push_back(Encoded(storage::MakeJson(std::move(doc).value())));
  // Old encodings.
  std::string zl;
  RdbEncoder(&zl, false).String(testing::BuildZiplist({"a", "1", "b", "2.5", "c", "300"}));
  seeds.push_back(WithType(rdb_type::kListZiplist, zl));
  seeds.push_back(WithType(rdb_type::kZSetZiplist, zl));
  seeds.push_back(WithType(rdb_type::kHashZiplist, zl));
  std::string zm;
  RdbEncoder(&zm, false).String(testing::BuildZipmap({{"f", "1"}, {"gg", "22"}}));
  seeds.push_back(WithType(rdb_type::kHashZipmap, zm));
  std::string ql;
  RdbEncoder(&ql, false).Length(2);
  ql += zl + zl;
  seeds.push_back(WithType(rdb_type::kListQuicklist, ql));
  return seeds;
}

// Uses the decoded value the way commands would.
void Exercise(const Value& v) {
  std::string desc = testing::Describe(v);
  std::string again;
  EXPECT_TRUE(RdbEncoder(&again).Object(v).ok());
  if (v.type() == storage::ValueType::kZSet && storage::ZSetLength(v) > 0) {
    Value copy = v.Clone();
    storage::ZSetRemove(copy, "m1");
    int flags;
    double ignored;
    storage::ZSetAdd(copy, 1.0, "new", 0, &flags, &ignored);
    storage::ZSetRank(copy, "new");
  }
  if (v.type() == storage::ValueType::kList) {
    Value copy = v.Clone();
    std::string out;
    storage::ListOf(copy)->Push(storage::ListEnd::kHead, "x");
    storage::ListOf(copy)->Pop(storage::ListEnd::kTail, &out);
  }
  if (v.type() == storage::ValueType::kHash) {
    Value copy = v.Clone();
    storage::Hash(&copy).Set("f1", "new");
    storage::Hash(&copy).Delete("f2");
  }
  if (v.type() == storage::ValueType::kSet) {
    Value copy = v.Clone();
    storage::SetAdd(copy, "77");
    storage::SetRemove(copy, "100003");
  }
}

TEST(RdbFuzzTest, MutatedPayloadsNeverCrash) {
  std::vector<std::string> seeds = Seeds();
  std::mt19937_64 rng(12345);
  int decoded = 0, refused = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string p = seeds[rng() % seeds.size()];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !p.empty(); ++e) {
      size_t at = rng() % p.size();
      switch (rng() % 6) {
        case 0: p[at] = static_cast<char>(rng()); break;
        case 1: p[at] ^= static_cast<char>(1 << (rng() % 8)); break;
        case 2: p.resize(at); break;
        case 3: p.insert(at, 1, static_cast<char>(rng())); break;
        case 4: p.erase(at, 1 + rng() % 8); break;
        default:  // Small integer tweaks hit lengths and counts.
          p[at] = static_cast<char>(p[at] + (rng() % 2 ? 1 : -1));
      }
    }
    if (p.empty()) continue;
    RdbDecoder dec(p);
    uint8_t type;
    ASSERT_TRUE(dec.Byte(&type).ok());
    Value v;
    if (dec.ReadObject(type, &v).ok()) {
      ++decoded;
      Exercise(v);
    } else {
      ++refused;
    }
  }
  // Both outcomes happen: the mutations reach past the first checks.
  EXPECT_GT(decoded, 100);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace shoal::persist
