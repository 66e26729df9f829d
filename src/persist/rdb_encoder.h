// RdbEncoder: writes values in Redis 7.0's RDB object format (rdb_format.h), appending to a
// std::string. DUMP payloads and snapshot files both use it.
//
// The goal is byte-identity with redis-server 7.0 for the same value in the same encoding: small
// encodings are written from Shoal's own bytes (its listpacks and intsets have Redis's layout), and
// every choice Redis makes is made the same way (integer and LZF string encodings, the type id per
// encoding, big sorted sets from the highest score down). Hashtable orders differ from Redis's,
// as they do between two Redis processes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/value.h"

namespace shoal::persist {

class RdbEncoder {
 public:
  // `compress`: LZF-compress long strings, as Redis does under rdbcompression yes (its default).
  explicit RdbEncoder(std::string* out, bool compress = true) : out_(out), compress_(compress) {}

  void Byte(uint8_t b) { out_->push_back(static_cast<char>(b)); }
  // Redis's length encoding: 6 bits, 14 bits big-endian, 0x80 + 32 bits or 0x81 + 64 bits BE.
  void Length(uint64_t len);
  // rdbSaveRawString: a canonical integer of at most 11 characters that fits 32 bits as an
  // integer encoding; else LZF when compressing, longer than 20 bytes, and it saves 4+ bytes;
  // else length and bytes.
  void String(std::string_view s);
  // rdbSaveLongLongAsStringObject: an int-encoded string value.
  void IntString(int64_t v);
  // 8 bytes, little-endian IEEE 754 (zset scores in type 5, module doubles).
  void BinaryDouble(double d);
  // 8 bytes little-endian (expire times in ms, module unsigned values).
  void Int64LE(int64_t v);

  // The type byte Object() writes for `v`; an error for values RDB cannot hold.
  static Result<uint8_t> ObjectType(const storage::Value& v);
  // The payload that follows the type byte (an RDB file puts the key in between).
  Status ObjectPayload(const storage::Value& v);
  // Type byte then payload: what DUMP serializes.
  Status Object(const storage::Value& v);

  std::string* out() { return out_; }

 private:
  void Raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }
  // Writes `s` LZF-compressed; false (writing nothing) if it would not save at least 4 bytes.
  bool TryLzf(std::string_view s);

  void ListPayload(const storage::Value& v);
  void SetPayload(const storage::Value& v);
  void ZSetPayload(const storage::Value& v);
  void HashPayload(const storage::Value& v);
  void JsonPayload(const storage::Value& v);

  std::string* out_;
  bool compress_;
};

}  // namespace shoal::persist
