// The hash type's storage: a key's field -> value map, in one of two encodings chosen as Redis 7.0
// chooses them (OBJECT ENCODING answers the same, and listpack order is Redis's order):
//
//   listpack  - field, value, field, value... in one listpack (storage/listpack.h), in insertion
//               order. An update replaces the value where it stands; a delete removes the pair.
//               Used while the hash has at most hash-max-listpack-entries fields and no field or
//               value is longer than hash-max-listpack-value bytes.
//   hashtable - a Dict (storage/dict.h, incrementally rehashed) of HashNodes: one allocation per
//               field holding the chain link, both lengths, the field's bytes and the value's
//               bytes. 16 bytes of header, no per-string allocation: a short field costs its
//               node (32 bytes for "f:123456" -> "v:123456" under jemalloc) plus its share of
//               the bucket array (8-16 bytes), about half of what Redis spends (a dictEntry and
//               two sds strings).
// A listpack converts to a hashtable when a write would break the limits; never back.
//
// Measured (INFO used_memory, jemalloc, against redis-server 7.0.15):
//   one hash of 1M fields "f:<i>" -> "v:<i>": Shoal 40.4 bytes per field, Redis 72.3;
//   1M hashes "h:<i>" of 5 such fields (listpacks): Shoal 150.9 bytes per key, Redis 166.7.
//
// Thread: owned by one shard thread, as the Value that holds it.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/hash.h"
#include "storage/dict.h"
#include "storage/listpack.h"
#include "storage/value.h"

namespace shoal::storage {

// One field of a hashtable-encoded hash. The field's bytes follow the header, then the value's.
struct HashNode {
  HashNode* next;  // Bucket chain, managed by Dict.
  uint32_t field_len;
  uint32_t value_len;

  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  std::string_view field() const { return std::string_view(bytes(), field_len); }
  std::string_view value() const { return std::string_view(bytes() + field_len, value_len); }

  // A node holding `field` and `value`, malloc'd (release with free()).
  static HashNode* Make(std::string_view field, std::string_view value);
};
static_assert(sizeof(HashNode) == 16);

struct HashNodeTraits {
  static uint64_t HashOf(const HashNode& n) { return shoal::HashKey(n.field()); }
  static uint64_t HashKey(std::string_view f) { return shoal::HashKey(f); }
  static bool Matches(const HashNode& n, std::string_view f) { return n.field() == f; }
};

using HashTable = Dict<HashNode, std::string_view, HashNodeTraits>;

// A field or value as stored: a listpack may hold it as an integer (lp::Item::View formats it).
using HashItem = lp::Item;

// Operations on one hash value, whichever its encoding. A short-lived view over the key's Value:
// mutations that reallocate or convert the object store the new pointer back into it.
// Lifetime: HashItems handed out stay valid until the next mutation of the hash.
class Hash {
 public:
  explicit Hash(Value* v) : v_(v) {}

  // An empty listpack-encoded hash (the caller adds a field before anyone can see it).
  static Value New();

  bool is_listpack() const { return v_->object_encoding() == ObjectEncoding::kListpack; }
  size_t size() const;

  // The value of `field`, if present.
  std::optional<HashItem> Get(std::string_view field);
  bool Exists(std::string_view field) { return Get(field).has_value(); }

  // Redis's hashTypeTryConversion, run by HSET/HMSET/HSETNX before they write: converts to a
  // hashtable when any of `args` (the fields and values about to be written) is longer than
  // hash-max-listpack-value, or when together they would outgrow a listpack.
  void PrepareWrite(std::span<const std::string_view> args);

  // Sets `field` to `value`; returns true if the field is new. Converts to a hashtable first when
  // either is longer than hash-max-listpack-value, and afterwards when the listpack holds more than
  // hash-max-listpack-entries fields (an update counts too, as in Redis: a lowered limit applies
  // at the next write).
  bool Set(std::string_view field, std::string_view value);

  // Removes `field`; returns true if it was present. The caller deletes the key once empty.
  bool Delete(std::string_view field);

  // Calls fn(HashItem field, HashItem value) for every field: listpack order, or table order.
  // `fn` must not modify the hash.
  template <typename Fn>
  void ForEach(Fn&& fn);

  // REQUIRES: !is_listpack(). Visits the buckets at `cursor` (Dict::Scan); returns the next one.
  template <typename Fn>
  uint64_t ScanTable(uint64_t cursor, Fn&& fn) {
    return table()->Scan(cursor,
                         [&](HashNode* n) { fn(HashItem{n->field()}, HashItem{n->value()}); });
  }

  // REQUIRES: !is_listpack() and size() > 0. A random field (Dict::Random's distribution).
  template <typename Rand>
  std::pair<HashItem, HashItem> RandomTableField(Rand&& rand) {
    HashNode* n = table()->Random(rand);
    return {HashItem{n->field()}, HashItem{n->value()}};
  }

  // Every field and value, in ForEach order.
  std::vector<std::pair<HashItem, HashItem>> Pairs();

  void ConvertToHashtable();

  uint8_t* listpack() const { return static_cast<uint8_t*>(v_->object()); }
  HashTable* table() const { return static_cast<HashTable*>(v_->object()); }

 private:
  Value* v_;
};

template <typename Fn>
void Hash::ForEach(Fn&& fn) {
  if (is_listpack()) {
    const uint8_t* lp = listpack();
    for (const uint8_t* p = lp::First(lp); p != nullptr;) {
      const uint8_t* vp = lp::Next(lp, p);
      fn(lp::Get(p), lp::Get(vp));
      p = lp::Next(lp, vp);
    }
    return;
  }
  // A complete scan of a table nobody modifies meanwhile visits each node exactly once.
  uint64_t cursor = 0;
  do {
    cursor = ScanTable(cursor, fn);
  } while (cursor != 0);
}

}  // namespace shoal::storage
