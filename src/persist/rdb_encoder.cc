#include "persist/rdb_encoder.h"

#include <lzf.h>

#include <cstring>
#include <string>

#include "common/strings.h"
#include "json/serialize.h"
#include "persist/rdb_format.h"
#include "storage/hash_object.h"
#include "storage/intset.h"
#include "storage/json_object.h"
#include "storage/list_object.h"
#include "storage/listpack.h"
#include "storage/set_object.h"
#include "storage/zset_object.h"

namespace shoal::persist {
namespace {

using storage::ObjectEncoding;
using storage::Value;
using storage::ValueType;

// rdbEncodeInteger: the 0xC0/0xC1/0xC2 forms for values that fit 8, 16 or 32 bits. Returns the
// bytes written to `buf` (0 if the value needs more than 32 bits).
size_t EncodeInteger(int64_t v, uint8_t* buf) {
  if (v >= INT8_MIN && v <= INT8_MAX) {
    buf[0] = 0xC0 | rdb_enc::kInt8;
    buf[1] = static_cast<uint8_t>(v);
    return 2;
  }
  if (v >= INT16_MIN && v <= INT16_MAX) {
    buf[0] = 0xC0 | rdb_enc::kInt16;
    buf[1] = static_cast<uint8_t>(v);
    buf[2] = static_cast<uint8_t>(v >> 8);
    return 3;
  }
  if (v >= INT32_MIN && v <= INT32_MAX) {
    buf[0] = 0xC0 | rdb_enc::kInt32;
    for (int i = 0; i < 4; ++i) buf[1 + i] = static_cast<uint8_t>(v >> (8 * i));
    return 5;
  }
  return 0;
}

// rdbTryIntegerEncoding: only strings that read back identically (no "+1", "01", " 1").
size_t TryIntegerEncoding(std::string_view s, uint8_t* buf) {
  std::optional<int64_t> v = ParseInt64(s);
  if (!v || std::to_string(*v) != s) return 0;
  return EncodeInteger(*v, buf);
}

}  // namespace

void RdbEncoder::Length(uint64_t len) {
  if (len < (1 << 6)) {
    Byte(static_cast<uint8_t>(len));
  } else if (len < (1 << 14)) {
    Byte(static_cast<uint8_t>(0x40 | (len >> 8)));
    Byte(static_cast<uint8_t>(len & 0xFF));
  } else if (len <= UINT32_MAX) {
    Byte(rdb_len::k32Bit);
    for (int i = 3; i >= 0; --i) Byte(static_cast<uint8_t>(len >> (8 * i)));
  } else {
    Byte(rdb_len::k64Bit);
    for (int i = 7; i >= 0; --i) Byte(static_cast<uint8_t>(len >> (8 * i)));
  }
}

bool RdbEncoder::TryLzf(std::string_view s) {
  if (s.size() <= 4) return false;
  // Compressing into len - 4 bytes makes lzf_compress fail unless it saves at least 4 bytes.
  size_t out_cap = s.size() - 4;
  std::string buf(out_cap + 1, '\0');
  unsigned int n = lzf_compress(s.data(), static_cast<unsigned int>(s.size()), buf.data(),
                                static_cast<unsigned int>(out_cap));
  if (n == 0) return false;
  Byte(0xC0 | rdb_enc::kLzf);
  Length(n);
  Length(s.size());
  Raw(buf.data(), n);
  return true;
}

void RdbEncoder::String(std::string_view s) {
  if (s.size() <= 11) {
    uint8_t buf[5];
    if (size_t n = TryIntegerEncoding(s, buf)) return Raw(buf, n);
  }
  // lzf_compress takes unsigned int lengths; larger strings are stored as they are.
  if (compress_ && s.size() > 20 && s.size() <= UINT32_MAX && TryLzf(s)) return;
  Length(s.size());
  Raw(s.data(), s.size());
}

void RdbEncoder::IntString(int64_t v) {
  uint8_t buf[5];
  if (size_t n = EncodeInteger(v, buf)) return Raw(buf, n);
  std::string text = std::to_string(v);
  Length(text.size());
  Raw(text.data(), text.size());
}

void RdbEncoder::BinaryDouble(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof(bits));
  Int64LE(static_cast<int64_t>(bits));
}

void RdbEncoder::Int64LE(int64_t v) {
  uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(u >> (8 * i)));
}

Result<uint8_t> RdbEncoder::ObjectType(const Value& v) {
  switch (v.type()) {
    case ValueType::kString:
      return rdb_type::kString;
    case ValueType::kList:
      return rdb_type::kListQuicklist2;
    case ValueType::kSet:
      return v.object_encoding() == ObjectEncoding::kIntset ? rdb_type::kSetIntset
                                                            : rdb_type::kSet;
    case ValueType::kZSet:
      return v.object_encoding() == ObjectEncoding::kListpack ? rdb_type::kZSetListpack
                                                              : rdb_type::kZSet2;
    case ValueType::kHash:
      return v.object_encoding() == ObjectEncoding::kListpack ? rdb_type::kHashListpack
                                                              : rdb_type::kHash;
    case ValueType::kJson:
      return rdb_type::kModule2;
    case ValueType::kStream:
      break;
  }
  return Status::Error("ERR value type cannot be serialized");
}

Status RdbEncoder::Object(const Value& v) {
  Result<uint8_t> type = ObjectType(v);
  if (!type.ok()) return type.status();
  Byte(*type);
  return ObjectPayload(v);
}

Status RdbEncoder::ObjectPayload(const Value& v) {
  switch (v.type()) {
    case ValueType::kString:
      if (v.is_int()) {
        IntString(v.int_value());
      } else {
        std::string scratch;
        String(v.GetString(&scratch));
      }
      return Status::Ok();
    case ValueType::kList:
      ListPayload(v);
      return Status::Ok();
    case ValueType::kSet:
      SetPayload(v);
      return Status::Ok();
    case ValueType::kZSet:
      ZSetPayload(v);
      return Status::Ok();
    case ValueType::kHash:
      HashPayload(v);
      return Status::Ok();
    case ValueType::kJson:
      JsonPayload(v);
      return Status::Ok();
    case ValueType::kStream:
      break;
  }
  return Status::Error("ERR value type cannot be serialized");
}

// Quicklist 2: the node count, then per node its container kind and its listpack as a string.
// Shoal's nodes are always listpacks (no plain nodes: no element comes near the 1 GB threshold
// where Redis stores one unpacked).
void RdbEncoder::ListPayload(const Value& v) {
  const storage::Quicklist* ql = storage::ListOf(v);
  Length(ql->node_count());
  for (uint32_t i = 0; i < ql->node_count(); ++i) {
    const uint8_t* lp = ql->node(i);
    Length(kQuicklistNodePacked);
    String(std::string_view(reinterpret_cast<const char*>(lp), storage::lp::Bytes(lp)));
  }
}

void RdbEncoder::SetPayload(const Value& v) {
  if (v.object_encoding() == ObjectEncoding::kIntset) {
    const auto* is = static_cast<const uint8_t*>(v.object());
    String(std::string_view(reinterpret_cast<const char*>(is), storage::intset::Bytes(is)));
    return;
  }
  Length(storage::SetSize(v));
  storage::SetForEach(v, [&](const storage::SetMember& m) {
    char buf[24];
    String(m.View(buf));
    return true;
  });
}

// Big sorted sets go from the highest (score, member) down, as Redis 7.0 walks its skiplist from
// the tail: a loader inserting in file order then always prepends.
void RdbEncoder::ZSetPayload(const Value& v) {
  if (v.object_encoding() == ObjectEncoding::kListpack) {
    const auto* lp = static_cast<const uint8_t*>(v.object());
    String(std::string_view(reinterpret_cast<const char*>(lp), storage::lp::Bytes(lp)));
    return;
  }
  size_t n = storage::ZSetLength(v);
  Length(n);
  if (n == 0) return;
  for (storage::ZSetCursor c(v, n - 1, /*reverse=*/true); c.valid(); c.Next()) {
    String(c.member());
    BinaryDouble(c.score());
  }
}

void RdbEncoder::HashPayload(const Value& v) {
  if (v.object_encoding() == ObjectEncoding::kListpack) {
    const auto* lp = static_cast<const uint8_t*>(v.object());
    String(std::string_view(reinterpret_cast<const char*>(lp), storage::lp::Bytes(lp)));
    return;
  }
  // Hash's accessors take a mutable Value; ForEach does not change it.
  storage::Hash h(const_cast<Value*>(&v));
  Length(h.size());
  std::string fscratch, vscratch;
  h.ForEach([&](const storage::HashItem& f, const storage::HashItem& val) {
    String(f.View(&fscratch));
    String(val.View(&vscratch));
  });
}

// RedisJSON 2.x (encoding version 3) saves one string, the document as compact JSON text; the
// module API frames it with opcodes: module id, STRING opcode, the string, EOF opcode.
void RdbEncoder::JsonPayload(const Value& v) {
  Length(kReJsonModuleId);
  Length(rdb_module_op::kString);
  String(json::ToJson(storage::JsonRoot(v)));
  Length(rdb_module_op::kEof);
}

}  // namespace shoal::persist
