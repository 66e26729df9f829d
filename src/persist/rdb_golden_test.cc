// Payloads written by redis-server 7.0.15 (DUMP output, as hex) decode to the right contents and
// encode back to the same bytes; old encodings Redis still reads are built by hand.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "persist/dump_payload.h"
#include "persist/rdb_decoder.h"
#include "persist/rdb_encoder.h"
#include "persist/rdb_format.h"
#include "persist/rdb_test_builders.h"
#include "persist/test_values.h"
#include "storage/encoding_limits.h"

namespace shoal::persist {
namespace {

using storage::Value;
using testing::BuildZiplist;
using testing::BuildZipmap;
using testing::Describe;

struct Golden {
  const char* name;
  const char* hex;          // DUMP from redis-server 7.0.15.
  const char* description;  // Describe() of the value.
  bool same_bytes;          // Shoal's DUMP must be byte-identical.
};

const Golden kGoldens[] = {
    {"int", "00c139300a009d94ea2793fc08b9", "string/int:[12345]", true},
    {"embstr", "000568656c6c6f0a006372df766534200a", "string/embstr:[hello]", true},
    {"lzf", "00c30a2b016161e01d00026263640a002b555bd8ddbc5bf2",
     "string/embstr:[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcd]", true},
    {"int64", "0013393232333337323033363835343737353830370a003a657e9481e85f22",
     "string/int:[9223372036854775807]", true},
    {"int8", "00c0fb0a0049c4c6f4d7263f68", "string/int:[-5]", true},
    {"int16", "00c148f40a006ec0b42314cd69f7", "string/int:[-3000]", true},
    {"int32", "00c287d612000a00e93e1e362b3b7c5e", "string/int:[1234567]", true},
    {"quicklist",
     "120102c31e405e165e00000006008161028162020101dff902c12c02e04678e03c000148ff0a0048b7dfa5c3a4a"
     "66f",
     "list/quicklist:[a][b][1][-7][300][xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxx]",
     true},
    {"intset32", "0b180400000004000000010000000200000003000000701101000a00ef2e6521e385a22a",
     "set/intset:[1][2][3][70000]", true},
    {"intset64", "0b180800000002000000010000000000000000f2052a010000000a0054f5a26ae707b5fc",
     "set/intset:[1][5000000000]", true},
    {"set_hashtable", "020101610a006296e97e44d21a6d", "set/hashtable:[a]", true},
    {"zset_listpack",
     "1126260000000800826d3303dffd02826d31030101826d320383322e350407018531652b323006ff0a0098ded29c"
     "4917b48f",
     "zset/listpack:[m3=-3][m1=1][m2=2.5][7=1e+20]", true},
    {"hash_listpack",
     "101d1d00000006008266310382763103826632037b01836e756d04dfff02ff0a0098b21e0a2851f69d",
     "hash/listpack:[f1=v1][f2=123][num=-1]", true},
    {"zset_skiplist",
     "0503c3094046016363e039000163630000000000000840016200000000000000400161000000000000f03f0a0035"
     "172d02d6d1b4be",
     "zset/skiplist:[a=1][b=2][ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
     "ccc=3]",
     true},
    {"hash_hashtable", "04010166c3094046017676e039000176760a00f21bfa0a02f2749c",
     "hash/hashtable:[f=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv]",
     true},
};

TEST(RdbGoldenTest, RedisPayloadsDecodeAndEncodeBack) {
  for (const Golden& g : kGoldens) {
    SCOPED_TRACE(g.name);
    std::string payload = absl::HexStringToBytes(g.hex);
    ASSERT_TRUE(VerifyDumpPayload(payload));
    Value v;
    Status s = ParseDumpPayload(payload, &v);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(Describe(v), g.description);
    Result<std::string> again = MakeDumpPayload(v);
    ASSERT_TRUE(again.ok());
    if (g.same_bytes) {
      EXPECT_EQ(absl::BytesToHexString(*again), g.hex);
    }
  }
}

// Decodes type byte + body (no DUMP footer).
Status Decode(uint8_t type, const std::string& body, Value* out) {
  RdbDecoder dec(body);
  Status s = dec.ReadObject(type, out);
  if (s.ok() && !dec.AtEnd()) return Status::Error("trailing bytes");
  return s;
}

std::string Str(std::string_view s) {
  std::string out;
  RdbEncoder(&out).String(s);
  return out;
}
std::string Len(uint64_t n) {
  std::string out;
  RdbEncoder(&out).Length(n);
  return out;
}

TEST(RdbGoldenTest, OldListEncodings) {
  Value v;
  // Type 1: a plain list of strings.
  ASSERT_TRUE(Decode(rdb_type::kList, Len(3) + Str("a") + Str("12") + Str("ccc"), &v).ok());
  EXPECT_EQ(Describe(v), "list/quicklist:[a][12][ccc]");
  // Type 10: one ziplist.
  std::vector<std::string> items = {"x", "0", "12", "13", "-1", "40000", "5000000000",
                                    std::string(100, 'y')};
  ASSERT_TRUE(Decode(rdb_type::kListZiplist, Str(BuildZiplist(items)), &v).ok());
  std::string want = "list/quicklist:";
  for (const std::string& s : items) want += "[" + s + "]";
  EXPECT_EQ(Describe(v), want);
  // Type 14: a quicklist of ziplists; empty nodes are skipped.
  std::string body = Len(3) + Str(BuildZiplist({"a", "b"})) + Str(BuildZiplist({})) +
                     Str(BuildZiplist({"7"}));
  ASSERT_TRUE(Decode(rdb_type::kListQuicklist, body, &v).ok());
  EXPECT_EQ(Describe(v), "list/quicklist:[a][b][7]");
  // Type 18 with a plain node (container 1) between packed ones.
  Value packed = Value::Object(storage::ValueType::kList, storage::ObjectEncoding::kQuicklist,
                               storage::Quicklist::Create());
  storage::ListOf(packed)->Push(storage::ListEnd::kTail, "p");
  std::string node;
  ASSERT_TRUE(RdbEncoder(&node).ObjectPayload(packed).ok());
  // node = Len(1) Len(2) Str(listpack); splice a plain node after it.
  body = Len(2) + node.substr(1) + Len(kQuicklistNodePlain) + Str("plain element");
  ASSERT_TRUE(Decode(rdb_type::kListQuicklist2, body, &v).ok());
  EXPECT_EQ(Describe(v), "list/quicklist:[p][plain element]");
}

TEST(RdbGoldenTest, OldHashAndZSetEncodings) {
  Value v;
  // Type 9: zipmap; a value longer than hash-max-listpack-value makes it a hashtable.
  ASSERT_TRUE(
      Decode(rdb_type::kHashZipmap, Str(BuildZipmap({{"f", "1"}, {"g", "two"}})), &v).ok());
  EXPECT_EQ(Describe(v), "hash/listpack:[f=1][g=two]");
  ASSERT_TRUE(
      Decode(rdb_type::kHashZipmap, Str(BuildZipmap({{"f", std::string(65, 'v')}})), &v).ok());
  EXPECT_EQ(v.EncodingName(), "hashtable");
  // Type 13: hash ziplist.
  ASSERT_TRUE(Decode(rdb_type::kHashZiplist, Str(BuildZiplist({"f", "1", "g", "2"})), &v).ok());
  EXPECT_EQ(Describe(v), "hash/listpack:[f=1][g=2]");
  // Type 4: plain hash, small enough for a listpack.
  ASSERT_TRUE(Decode(rdb_type::kHash, Len(2) + Str("a") + Str("1") + Str("b") + Str("2"), &v).ok());
  EXPECT_EQ(Describe(v), "hash/listpack:[a=1][b=2]");
  // Type 12: zset ziplist, scores as integers and text.
  ASSERT_TRUE(
      Decode(rdb_type::kZSetZiplist, Str(BuildZiplist({"a", "1", "b", "2.5", "c", "inf"})), &v)
          .ok());
  EXPECT_EQ(Describe(v), "zset/listpack:[a=1][b=2.5][c=inf]");
  // Type 3: scores as text, with the special lengths for infinities.
  std::string body = Len(3) + Str("a") + "\x03" "1.5" + Str("b") + "\xfe" + Str("c") + "\xff";
  ASSERT_TRUE(Decode(rdb_type::kZSet, body, &v).ok());
  EXPECT_EQ(Describe(v), "zset/listpack:[c=-inf][a=1.5][b=inf]");
  body = Len(1) + Str("a") + "\xfd";  // NaN.
  EXPECT_FALSE(Decode(rdb_type::kZSet, body, &v).ok());
}

TEST(RdbGoldenTest, RefusedTypesAndDuplicates) {
  Value v;
  for (uint8_t t : {uint8_t{6}, uint8_t{8}, uint8_t{15}, uint8_t{19}, uint8_t{20}, uint8_t{21},
                    uint8_t{200}}) {
    EXPECT_FALSE(Decode(t, Len(1) + Str("x"), &v).ok()) << int(t);
  }
  Status s = Decode(rdb_type::kStreamListpacks, Len(0), &v);
  EXPECT_NE(s.message().find("stream"), std::string::npos);
  // A module other than ReJSON-RL is named in the error ("graphdata" encver 1, say).
  std::string other;
  RdbEncoder(&other).Length(0x1234567890abc401ULL);
  s = Decode(rdb_type::kModule2, other + Len(0), &v);
  EXPECT_NE(s.message().find("0x1234567890abc401"), std::string::npos) << s.message();
  // Duplicates and empty collections.
  EXPECT_FALSE(Decode(rdb_type::kSet, Len(2) + Str("a") + Str("a"), &v).ok());
  EXPECT_FALSE(Decode(rdb_type::kSet, Len(0), &v).ok());
  EXPECT_FALSE(Decode(rdb_type::kHash, Len(2) + Str("a") + Str("1") + Str("a") + Str("2"), &v).ok());
  EXPECT_FALSE(Decode(rdb_type::kHashZiplist, Str(BuildZiplist({"f", "1", "f", "2"})), &v).ok());
  EXPECT_FALSE(Decode(rdb_type::kHashZiplist, Str(BuildZiplist({"f", "1", "g"})), &v).ok());
  EXPECT_FALSE(Decode(rdb_type::kZSetZiplist, Str(BuildZiplist({"b", "2", "a", "1"})), &v).ok());
  std::string zdup = Len(2) + Str("a");
  RdbEncoder(&zdup).BinaryDouble(1);
  zdup += Str("a");
  RdbEncoder(&zdup).BinaryDouble(2);
  EXPECT_FALSE(Decode(rdb_type::kZSet2, zdup, &v).ok());
  EXPECT_FALSE(Decode(rdb_type::kListQuicklist2, Len(1) + Len(2) + Str(BuildZiplist({})), &v).ok());
  // A count far beyond the payload is refused before any work.
  EXPECT_FALSE(Decode(rdb_type::kList, Len(1ULL << 40) + Str("a"), &v).ok());
}

TEST(RdbGoldenTest, ModuleIdNamesReJson) {
  // moduleTypeEncodeId("ReJSON-RL", 3), computed independently of the decoder.
  const char* charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint64_t id = 0;
  for (char c : std::string("ReJSON-RL")) id = (id << 6) | (strchr(charset, c) - charset);
  id = (id << 10) | 3;
  EXPECT_EQ(id, kReJsonModuleId);
  // RedisJSON 1.x-era encoding version 2: string, count 0, EOF.
  std::string body;
  RdbEncoder enc(&body);
  enc.Length((kReJsonModuleId & ~1023ULL) | 2);
  enc.Length(rdb_module_op::kString);
  enc.String("{\"a\":1}");
  enc.Length(rdb_module_op::kUInt);
  enc.Length(0);
  enc.Length(rdb_module_op::kEof);
  Value v;
  Status s = Decode(rdb_type::kModule2, body, &v);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Describe(v), "ReJSON-RL/raw:[{\"a\":1}]");
}

}  // namespace
}  // namespace shoal::persist
