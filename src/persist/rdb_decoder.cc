#include "persist/rdb_decoder.h"

#include <lzf.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

#include "json/parse.h"
#include "persist/packed_formats.h"
#include "persist/rdb_format.h"
#include "storage/encoding_limits.h"
#include "storage/hash_object.h"
#include "storage/intset.h"
#include "storage/json_object.h"
#include "storage/list_object.h"
#include "storage/listpack.h"
#include "storage/set_object.h"
#include "storage/zset_object.h"

namespace shoal::persist {
namespace {

using storage::Limit;
using storage::Limits;
using storage::ObjectEncoding;
using storage::Value;
using storage::ValueType;

Status Corrupt(std::string what) { return Status::Error("corrupt payload: " + what); }

// LZF turns a 3-byte back reference into at most 264 bytes: a claimed expansion beyond this ratio
// is a lie, refused before anything is allocated for it.
constexpr uint64_t kMaxLzfRatio = 100;

// Redis's module type ids pack a 9-character name (6 bits a character) above a 10-bit encoding
// version.
constexpr char kModuleCharset[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string ModuleName(uint64_t id) {
  std::string name(9, '?');
  uint64_t bits = id >> 10;
  for (int j = 8; j >= 0; --j) {
    name[j] = kModuleCharset[bits & 63];
    bits >>= 6;
  }
  return name;
}

std::string ItemText(const storage::lp::Item& it) {
  return it.is_int ? std::to_string(it.ival) : std::string(it.str);
}

// A zset listpack score: an integer entry, or text strtod reads whole (Redis writes "inf",
// "-inf" and "%.17g"). NaN is refused, as Redis refuses NaN scores everywhere else.
bool ListpackScore(const storage::lp::Item& it, double* score) {
  if (it.is_int) {
    *score = static_cast<double>(it.ival);
    return true;
  }
  if (it.str.empty() || it.str.size() > 127) return false;
  char buf[128];
  memcpy(buf, it.str.data(), it.str.size());
  buf[it.str.size()] = '\0';
  char* end = nullptr;
  *score = strtod(buf, &end);
  return end == buf + it.str.size() && !std::isnan(*score);
}

// Checks a validated listpack as a hash or zset body: pairs, no repeated field / member, and for
// zsets valid scores in (score, member) order, which Shoal's zset code searches by.
Status CheckPairs(const uint8_t* lp, size_t count, bool zset) {
  if (count == 0) return Corrupt("empty collection");
  if (count % 2 != 0) return Corrupt("odd number of entries");
  std::unordered_set<std::string> seen;
  seen.reserve(count / 2);
  bool have_prev = false;
  double prev_score = 0;
  std::string prev_member;
  for (const uint8_t* p = storage::lp::First(lp); p != nullptr;) {
    const uint8_t* vp = storage::lp::Next(lp, p);
    std::string key = ItemText(storage::lp::Get(p));
    if (zset) {
      double score;
      if (!ListpackScore(storage::lp::Get(vp), &score)) return Corrupt("bad zset score");
      if (have_prev && !storage::ZLess(prev_score, prev_member, score, key)) {
        return Corrupt("zset listpack out of order");
      }
      have_prev = true;
      prev_score = score;
      prev_member = key;
    }
    if (!seen.insert(std::move(key)).second) return Corrupt("duplicate field or member");
    p = storage::lp::Next(lp, vp);
  }
  return Status::Ok();
}

// A listpack made from entries read elsewhere (ziplists, zipmaps).
uint8_t* ListpackOf(const std::vector<std::string>& entries) {
  uint8_t* lp = storage::lp::New();
  for (const std::string& e : entries) lp = storage::lp::Append(lp, e);
  return lp;
}

}  // namespace

// ---- primitives ----

Status RdbDecoder::Need(size_t n) const {
  if (n > remaining()) return Corrupt("truncated");
  return Status::Ok();
}

Status RdbDecoder::Byte(uint8_t* b) {
  if (Status s = Need(1); !s.ok()) return s;
  *b = static_cast<uint8_t>(in_[pos_++]);
  return Status::Ok();
}

Status RdbDecoder::LengthOrEncoding(uint64_t* len, bool* encoded) {
  uint8_t b;
  if (Status s = Byte(&b); !s.ok()) return s;
  *encoded = false;
  switch (b >> 6) {
    case rdb_len::k6Bit:
      *len = b & 0x3F;
      return Status::Ok();
    case rdb_len::k14Bit: {
      uint8_t b2;
      if (Status s = Byte(&b2); !s.ok()) return s;
      *len = (static_cast<uint64_t>(b & 0x3F) << 8) | b2;
      return Status::Ok();
    }
    case rdb_len::kEncVal:
      *encoded = true;
      *len = b & 0x3F;
      return Status::Ok();
  }
  int n = b == rdb_len::k32Bit ? 4 : b == rdb_len::k64Bit ? 8 : 0;
  if (n == 0) return Corrupt("unknown length encoding");
  if (Status s = Need(n); !s.ok()) return s;
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_++]);
  *len = v;
  return Status::Ok();
}

Status RdbDecoder::Length(uint64_t* len) {
  bool encoded;
  if (Status s = LengthOrEncoding(len, &encoded); !s.ok()) return s;
  if (encoded) return Corrupt("encoded value where a length belongs");
  return Status::Ok();
}

Status RdbDecoder::Count(uint64_t* n, size_t min_bytes) {
  if (Status s = Length(n); !s.ok()) return s;
  if (*n > remaining() / min_bytes) return Corrupt("count larger than the payload");
  return Status::Ok();
}

Status RdbDecoder::String(std::string* out) {
  uint64_t len;
  bool encoded;
  if (Status s = LengthOrEncoding(&len, &encoded); !s.ok()) return s;
  if (!encoded) {
    if (Status s = Need(len); !s.ok()) return s;
    out->assign(in_.data() + pos_, len);
    pos_ += len;
    return Status::Ok();
  }
  if (len == rdb_enc::kLzf) {
    uint64_t clen, ulen;
    if (Status s = Length(&clen); !s.ok()) return s;
    if (Status s = Length(&ulen); !s.ok()) return s;
    if (Status s = Need(clen); !s.ok()) return s;
    if (ulen == 0 || clen == 0 || ulen > clen * kMaxLzfRatio || ulen > UINT32_MAX) {
      return Corrupt("bad LZF lengths");
    }
    out->resize(ulen);
    unsigned int got = lzf_decompress(in_.data() + pos_, static_cast<unsigned int>(clen),
                                      out->data(), static_cast<unsigned int>(ulen));
    if (got != ulen) return Corrupt("LZF data");
    pos_ += clen;
    return Status::Ok();
  }
  int n = len == rdb_enc::kInt8 ? 1 : len == rdb_enc::kInt16 ? 2 : len == rdb_enc::kInt32 ? 4 : 0;
  if (n == 0) return Corrupt("unknown string encoding");
  if (Status s = Need(n); !s.ok()) return s;
  uint64_t u = 0;
  for (int i = n - 1; i >= 0; --i) u = (u << 8) | static_cast<uint8_t>(in_[pos_ + i]);
  pos_ += n;
  uint64_t sign = 1ULL << (8 * n - 1);
  *out = std::to_string(static_cast<int64_t>((u ^ sign) - sign));
  return Status::Ok();
}

Status RdbDecoder::Int64LE(int64_t* v) {
  if (Status s = Need(8); !s.ok()) return s;
  uint64_t u = 0;
  for (int i = 7; i >= 0; --i) u = (u << 8) | static_cast<uint8_t>(in_[pos_ + i]);
  pos_ += 8;
  *v = static_cast<int64_t>(u);
  return Status::Ok();
}

Status RdbDecoder::Int32LE(int32_t* v) {
  if (Status s = Need(4); !s.ok()) return s;
  uint32_t u = 0;
  for (int i = 3; i >= 0; --i) u = (u << 8) | static_cast<uint8_t>(in_[pos_ + i]);
  pos_ += 4;
  *v = static_cast<int32_t>(u);
  return Status::Ok();
}

Status RdbDecoder::BinaryDouble(double* d) {
  int64_t bits;
  if (Status s = Int64LE(&bits); !s.ok()) return s;
  memcpy(d, &bits, sizeof(*d));
  return Status::Ok();
}

Status RdbDecoder::TextDouble(double* d) {
  uint8_t len;
  if (Status s = Byte(&len); !s.ok()) return s;
  switch (len) {
    case 253: *d = NAN; return Status::Ok();
    case 254: *d = INFINITY; return Status::Ok();
    case 255: *d = -INFINITY; return Status::Ok();
  }
  if (Status s = Need(len); !s.ok()) return s;
  char buf[256];
  memcpy(buf, in_.data() + pos_, len);
  buf[len] = '\0';
  pos_ += len;
  char* end = nullptr;
  *d = strtod(buf, &end);
  if (len == 0 || end != buf + len) return Corrupt("bad text double");
  return Status::Ok();
}

// ---- objects ----

Status RdbDecoder::ReadObject(uint8_t type, Value* out) {
  switch (type) {
    case rdb_type::kString: return ReadStringValue(out);
    case rdb_type::kList: return ReadPlainList(out);
    case rdb_type::kSet: return ReadSet(out);
    case rdb_type::kZSet:
    case rdb_type::kZSet2: return ReadZSet(type, out);
    case rdb_type::kHash: return ReadHash(out);
    case rdb_type::kModule2: return ReadModule(out);
    case rdb_type::kHashZipmap:
    case rdb_type::kHashZiplist:
    case rdb_type::kHashListpack: return ReadHashPacked(type, out);
    case rdb_type::kListZiplist: return ReadZiplistList(out);
    case rdb_type::kSetIntset: return ReadIntset(out);
    case rdb_type::kZSetZiplist:
    case rdb_type::kZSetListpack: return ReadZSetPacked(type, out);
    case rdb_type::kListQuicklist:
    case rdb_type::kListQuicklist2: return ReadQuicklist(type, out);
    case rdb_type::kModule:
      return Status::Error("module values in the pre-release format (RDB type 6) are not supported");
    case rdb_type::kStreamListpacks:
    case rdb_type::kStreamListpacks2:
      return Status::Error("stream values are not supported (Shoal has no stream type)");
    case 20:
    case 21:
      return Status::Error("RDB type " + std::to_string(type) +
                           " belongs to Redis 7.2 or later (RDB 11+): not supported");
  }
  return Corrupt("unknown object type " + std::to_string(type));
}

Status RdbDecoder::ReadStringValue(Value* out) {
  std::string s;
  if (Status st = String(&s); !st.ok()) return st;
  *out = Value::String(s);
  return Status::Ok();
}

// ---- lists ----

Status RdbDecoder::ReadPlainList(Value* out) {
  uint64_t n;
  if (Status s = Count(&n, 1); !s.ok()) return s;
  if (n == 0) return Corrupt("empty list");
  auto* ql = storage::Quicklist::Create();
  Value v = Value::Object(ValueType::kList, ObjectEncoding::kQuicklist, ql);
  std::string e;
  for (uint64_t i = 0; i < n; ++i) {
    if (Status s = String(&e); !s.ok()) return s;
    ql->Push(storage::ListEnd::kTail, e);
  }
  *out = std::move(v);
  return Status::Ok();
}

// Quicklists keep their nodes as saved (Redis's quicklistAppendListpack); empty nodes are skipped,
// as Redis skips them, and a list left with no element is refused.
Status RdbDecoder::ReadQuicklist(uint8_t type, Value* out) {
  uint64_t nodes;
  if (Status s = Count(&nodes, 2); !s.ok()) return s;
  auto* ql = storage::Quicklist::Create();
  Value v = Value::Object(ValueType::kList, ObjectEncoding::kQuicklist, ql);
  std::string blob;
  std::vector<std::string> entries;
  for (uint64_t i = 0; i < nodes; ++i) {
    uint64_t container = kQuicklistNodePacked;
    if (type == rdb_type::kListQuicklist2) {
      if (Status s = Length(&container); !s.ok()) return s;
      if (container != kQuicklistNodePacked && container != kQuicklistNodePlain) {
        return Corrupt("unknown quicklist container");
      }
    }
    if (Status s = String(&blob); !s.ok()) return s;
    if (container == kQuicklistNodePlain) {
      // One element stored unpacked; Shoal keeps every element in a listpack node.
      ql->AppendNode(storage::lp::Append(storage::lp::New(), blob));
      continue;
    }
    if (type == rdb_type::kListQuicklist) {
      if (Status s = ReadZiplist(blob, &entries); !s.ok()) return s;
      if (entries.empty()) continue;
      ql->AppendNode(ListpackOf(entries));
      continue;
    }
    size_t count;
    if (Status s = ValidateListpack(blob, &count); !s.ok()) return s;
    if (count == 0) continue;
    ql->AppendNode(storage::lp::Clone(reinterpret_cast<const uint8_t*>(blob.data())));
  }
  if (ql->size() == 0) return Corrupt("empty list");
  *out = std::move(v);
  return Status::Ok();
}

Status RdbDecoder::ReadZiplistList(Value* out) {
  std::string blob;
  if (Status s = String(&blob); !s.ok()) return s;
  std::vector<std::string> entries;
  if (Status s = ReadZiplist(blob, &entries); !s.ok()) return s;
  if (entries.empty()) return Corrupt("empty list");
  auto* ql = storage::Quicklist::Create();
  Value v = Value::Object(ValueType::kList, ObjectEncoding::kQuicklist, ql);
  for (const std::string& e : entries) ql->Push(storage::ListEnd::kTail, e);
  *out = std::move(v);
  return Status::Ok();
}

// ---- sets ----

Status RdbDecoder::ReadSet(Value* out) {
  uint64_t n;
  if (Status s = Count(&n, 1); !s.ok()) return s;
  if (n == 0) return Corrupt("empty set");
  std::string m;
  if (Status s = String(&m); !s.ok()) return s;
  // setTypeCreate + setTypeAdd, as Redis loads element by element: an intset while members are
  // integers and within set-max-intset-entries, else a hashtable.
  Value v = storage::NewSetFor(m);
  storage::SetAdd(v, m);
  for (uint64_t i = 1; i < n; ++i) {
    if (Status s = String(&m); !s.ok()) return s;
    if (!storage::SetAdd(v, m)) return Corrupt("duplicate set member");
  }
  *out = std::move(v);
  return Status::Ok();
}

Status RdbDecoder::ReadIntset(Value* out) {
  std::string blob;
  if (Status s = String(&blob); !s.ok()) return s;
  size_t count;
  if (Status s = ValidateIntset(blob, &count); !s.ok()) return s;
  if (count == 0) return Corrupt("empty set");
  Value v = Value::Object(ValueType::kSet, ObjectEncoding::kIntset,
                          storage::intset::Clone(reinterpret_cast<const uint8_t*>(blob.data())));
  if (static_cast<int64_t>(count) > Limit(Limits().set_max_intset_entries)) {
    storage::SetConvertToHashtable(v);
  }
  *out = std::move(v);
  return Status::Ok();
}

// ---- sorted sets ----

Status RdbDecoder::ReadZSet(uint8_t type, Value* out) {
  uint64_t n;
  // A member takes at least one byte, a score one (text) or eight (binary).
  if (Status s = Count(&n, type == rdb_type::kZSet2 ? 9 : 2); !s.ok()) return s;
  if (n == 0) return Corrupt("empty zset");
  Value v;
  std::string m;
  for (uint64_t i = 0; i < n; ++i) {
    double score;
    if (Status s = String(&m); !s.ok()) return s;
    Status s = type == rdb_type::kZSet2 ? BinaryDouble(&score) : TextDouble(&score);
    if (!s.ok()) return s;
    if (std::isnan(score)) return Corrupt("zset with NaN score");
    if (i == 0) v = storage::NewZSetFor(m);
    int flags = 0;
    double ignored;
    storage::ZSetAdd(v, score, m, 0, &flags, &ignored);
    if (!(flags & storage::kZAddAdded)) return Corrupt("duplicate zset member");
  }
  *out = std::move(v);
  return Status::Ok();
}

Status RdbDecoder::ReadZSetPacked(uint8_t type, Value* out) {
  std::string blob;
  if (Status s = String(&blob); !s.ok()) return s;
  uint8_t* lp;
  if (type == rdb_type::kZSetZiplist) {
    std::vector<std::string> entries;
    if (Status s = ReadZiplist(blob, &entries); !s.ok()) return s;
    lp = ListpackOf(entries);
  } else {
    size_t count;
    if (Status s = ValidateListpack(blob, &count); !s.ok()) return s;
    lp = storage::lp::Clone(reinterpret_cast<const uint8_t*>(blob.data()));
  }
  Value v = Value::Object(ValueType::kZSet, ObjectEncoding::kListpack, lp);
  if (Status s = CheckPairs(lp, storage::lp::Length(lp), /*zset=*/true); !s.ok()) return s;
  if (static_cast<int64_t>(storage::lp::Length(lp) / 2) >
      Limit(Limits().zset_max_listpack_entries)) {
    storage::ZSetConvertToBig(v);
  }
  *out = std::move(v);
  return Status::Ok();
}

// ---- hashes ----

Status RdbDecoder::ReadHash(Value* out) {
  uint64_t n;
  if (Status s = Count(&n, 2); !s.ok()) return s;
  if (n == 0) return Corrupt("empty hash");
  // Field by field as Redis does: a listpack until a field or value is too long or there are too
  // many fields (Hash::Set converts on exactly those conditions).
  Value v = storage::Hash::New();
  storage::Hash h(&v);
  std::string f, val;
  for (uint64_t i = 0; i < n; ++i) {
    if (Status s = String(&f); !s.ok()) return s;
    if (Status s = String(&val); !s.ok()) return s;
    if (!h.Set(f, val)) return Corrupt("duplicate hash field");
  }
  *out = std::move(v);
  return Status::Ok();
}

Status RdbDecoder::ReadHashPacked(uint8_t type, Value* out) {
  std::string blob;
  if (Status s = String(&blob); !s.ok()) return s;
  uint8_t* lp;
  size_t max_len = 0;
  if (type == rdb_type::kHashListpack) {
    size_t count;
    if (Status s = ValidateListpack(blob, &count); !s.ok()) return s;
    lp = storage::lp::Clone(reinterpret_cast<const uint8_t*>(blob.data()));
  } else {
    std::vector<std::string> entries;
    Status s = type == rdb_type::kHashZipmap ? ReadZipmap(blob, &entries)
                                             : ReadZiplist(blob, &entries);
    if (!s.ok()) return s;
    for (const std::string& e : entries) max_len = std::max(max_len, e.size());
    lp = ListpackOf(entries);
  }
  Value v = Value::Object(ValueType::kHash, ObjectEncoding::kListpack, lp);
  if (Status s = CheckPairs(lp, storage::lp::Length(lp), /*zset=*/false); !s.ok()) return s;
  // Redis converts listpacks and ziplists by field count only; zipmaps by value length too.
  const storage::EncodingLimits& l = Limits();
  bool too_long = type == rdb_type::kHashZipmap &&
                  static_cast<int64_t>(max_len) > Limit(l.hash_max_listpack_value);
  if (too_long ||
      static_cast<int64_t>(storage::lp::Length(lp) / 2) > Limit(l.hash_max_listpack_entries)) {
    storage::Hash(&v).ConvertToHashtable();
  }
  *out = std::move(v);
  return Status::Ok();
}

// ---- modules ----

// Only RedisJSON's type is known: its encoding version 3 is one string (the document as JSON
// text); version 2 added a count (and, when non-zero, two strings) left over from RediSearch.
Status RdbDecoder::ReadModule(Value* out) {
  uint64_t id;
  if (Status s = Length(&id); !s.ok()) return s;
  std::string name = ModuleName(id);
  int encver = static_cast<int>(id & 1023);
  if (name != kReJsonModuleName) {
    char hex[32];
    snprintf(hex, sizeof(hex), "0x%016llx", static_cast<unsigned long long>(id));
    return Status::Error("module type '" + name + "' (id " + hex + ") is not supported");
  }
  if (encver != 2 && encver != 3) {
    return Status::Error("ReJSON-RL encoding version " + std::to_string(encver) +
                         " is not supported");
  }
  uint64_t op;
  std::string text;
  if (Status s = Length(&op); !s.ok()) return s;
  if (op != rdb_module_op::kString) return Corrupt("ReJSON-RL value without its string");
  if (Status s = String(&text); !s.ok()) return s;
  if (encver == 2) {
    uint64_t extra;
    if (Status s = Length(&op); !s.ok()) return s;
    if (op != rdb_module_op::kUInt) return Corrupt("ReJSON-RL v2 value without its count");
    if (Status s = Length(&extra); !s.ok()) return s;
    for (int i = 0; extra > 0 && i < 2; ++i) {
      std::string ignored;
      if (Status s = Length(&op); !s.ok()) return s;
      if (op != rdb_module_op::kString) return Corrupt("ReJSON-RL v2 extra string");
      if (Status s = String(&ignored); !s.ok()) return s;
    }
  }
  if (Status s = Length(&op); !s.ok()) return s;
  if (op != rdb_module_op::kEof) return Corrupt("module value without EOF");
  Result<json::Value> root = json::Parse(text);
  if (!root.ok()) return Corrupt("ReJSON-RL document: " + root.status().message());
  *out = storage::MakeJson(std::move(root).value());
  return Status::Ok();
}

}  // namespace shoal::persist
