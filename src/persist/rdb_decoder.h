// RdbDecoder: reads Redis's RDB object format (rdb_format.h) from a byte range: everything Redis
// 7.0 can write or read, back to the encodings of Redis 2.x (zipmaps, ziplists, plain lists,
// text zset scores), turned into Shoal's types.
//
// Input is untrusted (RESTORE payloads, files from elsewhere): every read is bounds-checked, no
// length is trusted to size an allocation before the bytes behind it are known to exist, packed
// blobs are checked in full before use (packed_formats.h), and duplicates are refused. A corrupt
// payload yields an error, never a crash or an invalid object.
//
// Encodings after loading are the ones Redis 7.0's rdbLoadObject picks: listpack hashes and zsets
// past *-max-listpack-entries become hashtable / skiplist, intsets past set-max-intset-entries
// become hashtables, and collections stored element by element (types 2, 3, 4, 5) come out in the
// encoding Redis would give them when built by adding those elements.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/value.h"

namespace shoal::persist {

class RdbDecoder {
 public:
  explicit RdbDecoder(std::string_view in) : in_(in) {}

  size_t offset() const { return pos_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }

  Status Byte(uint8_t* b);
  // A length (Redis's length encoding). Encoded-string markers (11xxxxxx) are errors here.
  Status Length(uint64_t* len);
  // A string in any encoding: plain, integer (0xC0-0xC2, returned as decimal text) or LZF.
  Status String(std::string* out);
  // 8-byte little-endian IEEE 754 double.
  Status BinaryDouble(double* d);
  // The text double of type-3 zsets: a length byte (253 NaN, 254 +inf, 255 -inf) and the text.
  Status TextDouble(double* d);
  // 8 bytes little-endian.
  Status Int64LE(int64_t* v);
  // A 4-byte little-endian value (the seconds of the old EXPIRETIME opcode).
  Status Int32LE(int32_t* v);

  // The payload of an object of RDB type `type` (the byte before it), as a Shoal value.
  Status ReadObject(uint8_t type, storage::Value* out);

 private:
  Status Need(size_t n) const;
  // A length or, when `*encoded`, the special string encoding in the low six bits.
  Status LengthOrEncoding(uint64_t* len, bool* encoded);
  // A count of elements that each take at least `min_bytes`: refused if the input cannot hold
  // them, so no loop or reservation runs on a forged count.
  Status Count(uint64_t* n, size_t min_bytes);

  Status ReadStringValue(storage::Value* out);
  Status ReadPlainList(storage::Value* out);
  Status ReadQuicklist(uint8_t type, storage::Value* out);
  Status ReadZiplistList(storage::Value* out);
  Status ReadSet(storage::Value* out);
  Status ReadIntset(storage::Value* out);
  Status ReadZSet(uint8_t type, storage::Value* out);
  Status ReadZSetPacked(uint8_t type, storage::Value* out);
  Status ReadHash(storage::Value* out);
  Status ReadHashPacked(uint8_t type, storage::Value* out);
  Status ReadModule(storage::Value* out);

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace shoal::persist
