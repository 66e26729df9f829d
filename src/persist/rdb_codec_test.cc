// Encoder/decoder round trips of every type and encoding, with random contents and sizes on both
// sides of the encoding thresholds.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "json/parse.h"
#include "persist/dump_payload.h"
#include "persist/rdb_decoder.h"
#include "persist/rdb_encoder.h"
#include "persist/rdb_format.h"
#include "persist/test_values.h"
#include "storage/encoding_limits.h"

namespace shoal::persist {
namespace {

using storage::Value;
using testing::Describe;

// Strings of every kind RDB distinguishes: integers (8/16/32/64-bit, non-canonical), short,
// compressible, incompressible binary.
std::string RandomString(std::mt19937_64& rng) {
  switch (rng() % 7) {
    case 0: return std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64));
    case 1: return std::to_string(static_cast<int>(rng() % 300) - 150);
    case 2: return "0" + std::to_string(rng() % 100);  // Not canonical: stays a string.
    case 3: return std::string(21 + rng() % 200, static_cast<char>('a' + rng() % 3));
    case 4: {
      std::string s(rng() % 90, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      return s;
    }
    default: return "m:" + std::to_string(rng() % 100000);
  }
}

Value RoundTrip(const Value& v, std::string* bytes) {
  bytes->clear();
  RdbEncoder enc(bytes);
  EXPECT_TRUE(enc.Object(v).ok());
  RdbDecoder dec(*bytes);
  uint8_t type = 0;
  EXPECT_TRUE(dec.Byte(&type).ok());
  Value out;
  Status s = dec.ReadObject(type, &out);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(dec.AtEnd());
  return out;
}

// The value comes back with the same contents and encoding, and encodes to the same bytes
// (hashtables aside, whose order is their own).
void ExpectRoundTrip(const Value& v) {
  std::string bytes, again;
  Value back = RoundTrip(v, &bytes);
  EXPECT_EQ(Describe(back), Describe(v));
  RdbEncoder enc(&again);
  ASSERT_TRUE(enc.Object(back).ok());
  bool ordered = v.is_string() || v.type() == storage::ValueType::kList ||
                 v.type() == storage::ValueType::kJson ||
                 v.object_encoding() != storage::ObjectEncoding::kHashtable;
  if (ordered) {
    EXPECT_EQ(again, bytes);
  }
}

TEST(RdbCodecTest, PrimitivesRoundTrip) {
  std::mt19937_64 rng(1);
  std::string buf;
  RdbEncoder enc(&buf);
  std::vector<uint64_t> lens = {0, 1, 63, 64, 16383, 16384, UINT32_MAX, 1ULL + UINT32_MAX,
                                UINT64_MAX};
  std::vector<std::string> strs;
  for (int i = 0; i < 500; ++i) strs.push_back(RandomString(rng));
  strs.push_back("");
  strs.push_back("-0");
  strs.push_back("+1");
  for (uint64_t l : lens) enc.Length(l);
  for (const std::string& s : strs) enc.String(s);
  enc.BinaryDouble(-2.5);
  enc.BinaryDouble(INFINITY);
  enc.Int64LE(-1234567890123);
  RdbDecoder dec(buf);
  for (uint64_t l : lens) {
    uint64_t got;
    ASSERT_TRUE(dec.Length(&got).ok());
    EXPECT_EQ(got, l);
  }
  for (const std::string& s : strs) {
    std::string got;
    ASSERT_TRUE(dec.String(&got).ok());
    EXPECT_EQ(got, s);
  }
  double d;
  ASSERT_TRUE(dec.BinaryDouble(&d).ok());
  EXPECT_EQ(d, -2.5);
  ASSERT_TRUE(dec.BinaryDouble(&d).ok());
  EXPECT_EQ(d, INFINITY);
  int64_t ms;
  ASSERT_TRUE(dec.Int64LE(&ms).ok());
  EXPECT_EQ(ms, -1234567890123);
  EXPECT_TRUE(dec.AtEnd());
}

TEST(RdbCodecTest, StringEncodingsAsRedis) {
  auto enc_of = [](std::string_view s) {
    std::string b;
    RdbEncoder(&b).String(s);
    return b;
  };
  EXPECT_EQ(enc_of("12"), std::string("\xC0\x0C", 2));
  EXPECT_EQ(enc_of("-3000"), std::string("\xC1\x48\xF4", 3));
  EXPECT_EQ(enc_of("1234567"), std::string("\xC2\x87\xD6\x12\x00", 5));
  EXPECT_EQ(enc_of("012"), std::string("\x03" "012", 4));
  EXPECT_EQ(enc_of("12345678901"), std::string("\x0B" "12345678901", 12));  // Past 32 bits.
  EXPECT_EQ(static_cast<uint8_t>(enc_of(std::string(40, 'x'))[0]), 0xC3);
  std::string raw;
  RdbEncoder(&raw, /*compress=*/false).String(std::string(40, 'x'));
  EXPECT_EQ(raw, "\x28" + std::string(40, 'x'));
}

TEST(RdbCodecTest, Strings) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 300; ++i) ExpectRoundTrip(Value::String(RandomString(rng)));
  ExpectRoundTrip(Value::Int(INT64_MIN));
  ExpectRoundTrip(Value::Int(INT64_MAX));
  // A string stored as bytes (INCRBYFLOAT's "123") comes back int-encoded, as from Redis's
  // RESTORE (tryObjectEncoding).
  std::string bytes;
  EXPECT_EQ(Describe(RoundTrip(Value::RawString("123"), &bytes)), "string/int:[123]");
}

TEST(RdbCodecTest, Lists) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 40; ++round) {
    Value v = Value::Object(storage::ValueType::kList, storage::ObjectEncoding::kQuicklist,
                            storage::Quicklist::Create());
    size_t n = 1 + rng() % (round < 20 ? 20 : 3000);
    for (size_t i = 0; i < n; ++i) {
      storage::ListOf(v)->Push(rng() % 2 ? storage::ListEnd::kHead : storage::ListEnd::kTail,
                               RandomString(rng));
    }
    ExpectRoundTrip(v);
  }
}

TEST(RdbCodecTest, Sets) {
  std::mt19937_64 rng(4);
  for (int round = 0; round < 60; ++round) {
    size_t n = 1 + rng() % (round % 2 ? 700 : 30);
    bool ints = round % 3 != 0;
    std::string first = ints ? std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64))
                              : RandomString(rng);
    Value v = storage::NewSetFor(first);
    storage::SetAdd(v, first);
    for (size_t i = 1; i < n; ++i) {
      storage::SetAdd(v, ints ? std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64))
                              : RandomString(rng));
    }
    ExpectRoundTrip(v);
  }
}

TEST(RdbCodecTest, SortedSets) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 60; ++round) {
    size_t n = 1 + rng() % (round % 2 ? 400 : 130);
    Value v;
    for (size_t i = 0; i < n; ++i) {
      std::string m = RandomString(rng);
      double score;
      switch (rng() % 4) {
        case 0: score = static_cast<double>(static_cast<int64_t>(rng() % 1000) - 500); break;
        case 1: score = std::ldexp(static_cast<double>(rng() % 100000), -(int)(rng() % 40)); break;
        case 2: score = rng() % 2 ? INFINITY : -INFINITY; break;
        default: score = static_cast<double>(static_cast<int64_t>(rng())) * 1e10; break;
      }
      if (i == 0) v = storage::NewZSetFor(m);
      int flags = 0;
      double ignored;
      storage::ZSetAdd(v, score, m, 0, &flags, &ignored);
    }
    ExpectRoundTrip(v);
  }
}

TEST(RdbCodecTest, Hashes) {
  std::mt19937_64 rng(6);
  for (int round = 0; round < 60; ++round) {
    size_t n = 1 + rng() % (round % 2 ? 700 : 40);
    Value v = storage::Hash::New();
    storage::Hash h(&v);
    for (size_t i = 0; i < n; ++i) h.Set(RandomString(rng), RandomString(rng));
    ExpectRoundTrip(v);
  }
}

TEST(RdbCodecTest, Json) {
  for (const char* doc : {"{\"a\":[1,2.5,\"x\",null,true,{\"b\":-0.0}],\"c\":\"\\u0001\\\"\"}",
                          "3", "\"str\"", "[]", "{}",
                          "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]"}) {
    Result<json::Value> root = json::Parse(doc);
    ASSERT_TRUE(root.ok());
    Value v = storage::MakeJson(std::move(root).value());
    ExpectRoundTrip(v);
    std::string bytes;
    RdbEncoder enc(&bytes);
    ASSERT_TRUE(enc.Object(v).ok());
    EXPECT_EQ(static_cast<uint8_t>(bytes[0]), rdb_type::kModule2);
    // The module id, as a 64-bit length: 0x81 then the id big-endian.
    EXPECT_EQ(bytes.substr(1, 9), std::string("\x81\x45\xe2\x52\x38\xdf\x91\x2c\x03", 9));
  }
}

// A decoded listpack past the entry limits converts as Redis's rdbLoadObject converts it; one
// with long values does not (Redis checks only the count for listpack types).
TEST(RdbCodecTest, LoadConvertsByCurrentLimits) {
  storage::EncodingLimits& l = storage::Limits();
  Value h = storage::Hash::New();
  storage::Hash(&h).Set("f1", "v1");
  storage::Hash(&h).Set("f2", "v2");
  Value z = storage::NewZSetFor("a");
  int flags;
  double ignored;
  storage::ZSetAdd(z, 1, "a", 0, &flags, &ignored);
  storage::ZSetAdd(z, 2, "b", 0, &flags, &ignored);
  Value s = storage::NewSetFor("1");
  storage::SetAdd(s, "1");
  storage::SetAdd(s, "2");
  std::string hb, zb, sb;
  Value back;
  int64_t saved_h = l.hash_max_listpack_entries, saved_z = l.zset_max_listpack_entries,
          saved_s = l.set_max_intset_entries, saved_v = l.hash_max_listpack_value;
  l.hash_max_listpack_value = 1;
  EXPECT_EQ(RoundTrip(h, &hb).EncodingName(), "listpack");
  l.hash_max_listpack_entries = 1;
  l.zset_max_listpack_entries = 1;
  l.set_max_intset_entries = 1;
  EXPECT_EQ(RoundTrip(h, &hb).EncodingName(), "hashtable");
  EXPECT_EQ(RoundTrip(z, &zb).EncodingName(), "skiplist");
  EXPECT_EQ(RoundTrip(s, &sb).EncodingName(), "hashtable");
  l.hash_max_listpack_entries = saved_h;
  l.zset_max_listpack_entries = saved_z;
  l.set_max_intset_entries = saved_s;
  l.hash_max_listpack_value = saved_v;
}

TEST(RdbCodecTest, DumpPayloadFraming) {
  Value v = Value::String("hello");
  Result<std::string> p = MakeDumpPayload(v);
  ASSERT_TRUE(p.ok());
  // What redis-server 7.0 answers to DUMP of "hello".
  EXPECT_EQ(*p, std::string("\x00\x05hello\x0a\x00\x63\x72\xdf\x76\x65\x34\x20\x0a", 17));
  EXPECT_TRUE(VerifyDumpPayload(*p));
  std::string bad = *p;
  bad[3] ^= 1;
  EXPECT_FALSE(VerifyDumpPayload(bad));
  std::string future = *p;
  future[future.size() - 10] = 11;  // RDB 11: too new.
  EXPECT_FALSE(VerifyDumpPayload(future));
  EXPECT_FALSE(VerifyDumpPayload(std::string(9, '\0')));
  Value back;
  ASSERT_TRUE(ParseDumpPayload(*p, &back).ok());
  EXPECT_EQ(Describe(back), Describe(v));
}

}  // namespace
}  // namespace shoal::persist
