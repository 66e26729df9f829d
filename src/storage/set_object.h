// Sets: the two encodings a set-typed Value holds, and the operations the set commands need.
//
// Encodings (what OBJECT ENCODING reports), chosen exactly as Redis 7.0 chooses them:
//   intset    - every member is an integer in canonical form (Redis's string2ll) and there are
//               at most set-max-intset-entries of them: a sorted array (storage/intset.h);
//   hashtable - anything else: an incrementally rehashed Dict of SetNodes.
// A set starts as an intset if its first member is an integer (setTypeCreate), and converts to a
// hashtable when a non-integer arrives or it outgrows the limit; it never converts back (only a
// freshly built set, e.g. a *STORE result or what SPOP leaves behind, starts over).
//
// Memory: a hashtable member costs one allocation of 12 + len bytes (next pointer, length, bytes)
// plus its bucket slot (8 to 16 bytes at load factors 1 to 0.5), against Redis's dictEntry, sds
// and bucket. Measured (INFO used_memory, jemalloc): one set of 1M members "m:<i>" takes 40 bytes
// a member here, 56 in Redis 7.0; 1M sets of 5 short strings 280 bytes a key, 432 in Redis; 1M
// intsets of 5 integers 88 bytes a key, 104 in Redis.
//
// Iteration order: intsets ascending (observable: SMEMBERS, SSCAN and the algebra replies must
// show it); hashtables in bucket order, which Redis leaves unspecified too.
//
// Thread: a set belongs to the shard that owns its key, like the Value holding it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/hash.h"
#include "storage/dict.h"
#include "storage/intset.h"
#include "storage/value.h"

namespace shoal::storage {

// One member of a hashtable-encoded set, in a single allocation: the member's bytes start at
// offset 12 (inside `head`) and run on past the struct's end.
struct SetNode {
  SetNode* next;
  uint32_t len;
  char head[4];

  static constexpr size_t kDataOffset = 12;
  const char* data() const { return reinterpret_cast<const char*>(this) + kDataOffset; }
  std::string_view view() const { return {data(), len}; }

  static SetNode* Make(std::string_view member);
  static void Destroy(SetNode* n);
  // Bytes the allocation asked for.
  size_t alloc_size() const;
};
static_assert(sizeof(SetNode) == 16);

struct SetNodeTraits {
  static uint64_t HashOf(const SetNode& n) { return HashKey(n.view()); }
  static uint64_t HashKey(std::string_view m) { return shoal::HashKey(m); }
  static bool Matches(const SetNode& n, std::string_view m) { return n.view() == m; }
};

using SetTable = Dict<SetNode, std::string_view, SetNodeTraits>;

// A member as a set yields it: intsets hold integers, hashtables hold bytes. A view: it is valid
// until the set it came from changes.
class SetMember {
 public:
  static SetMember Int(int64_t v) { return SetMember(true, v, {}); }
  static SetMember Bytes(std::string_view s) { return SetMember(false, 0, s); }

  bool is_int() const { return is_int_; }
  int64_t int_value() const { return int_; }
  // The member's bytes; an integer is formatted into `buf`, which must outlive the view.
  std::string_view View(char (&buf)[24]) const {
    if (!is_int_) return bytes_;
    int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(int_));
    return {buf, static_cast<size_t>(n)};
  }
  std::string ToString() const {
    char buf[24];
    return std::string(View(buf));
  }

 private:
  SetMember(bool is_int, int64_t i, std::string_view s) : is_int_(is_int), int_(i), bytes_(s) {}
  bool is_int_;
  int64_t int_;
  std::string_view bytes_;
};

// Redis's setTypeCreate: an empty set that will hold `first`: an intset if it is an integer.
Value NewSetFor(std::string_view first);
// An empty intset-encoded set: the start of a computed result (SUNION, SINTERSTORE...), which
// converts as members are added, like Redis's createIntsetObject.
Value NewIntsetSet();

// All below: REQUIRES: `set` holds a set (type kSet).
size_t SetSize(const Value& set);
// Adds `member`, converting the encoding as Redis's setTypeAdd does. True if it was new.
bool SetAdd(Value& set, std::string_view member);
bool SetAdd(Value& set, const SetMember& member);
// True if `member` was present (and is now gone). An emptied set stays; the caller deletes it.
bool SetRemove(Value& set, std::string_view member);
bool SetRemove(Value& set, const SetMember& member);
bool SetContains(const Value& set, std::string_view member);
bool SetContains(const Value& set, const SetMember& member);
// Converts an intset to a hashtable. REQUIRES: intset encoding.
void SetConvertToHashtable(Value& set);

// Calls fn(const SetMember&) for every member in iteration order while it returns true. `fn`
// must not change the set.
template <typename Fn>
void SetForEach(const Value& set, Fn&& fn) {
  if (set.object_encoding() == ObjectEncoding::kIntset) {
    const uint8_t* is = static_cast<const uint8_t*>(set.object());
    for (uint32_t i = 0, n = intset::Size(is); i < n; ++i) {
      if (!fn(SetMember::Int(intset::Get(is, i)))) return;
    }
    return;
  }
  // Scanning from 0 to 0 with no change in between visits every node exactly once, rehash or not.
  SetTable* t = static_cast<SetTable*>(set.object());
  bool go = true;
  uint64_t cursor = 0;
  do {
    cursor = t->Scan(cursor, [&](SetNode* n) {
      if (go) go = fn(SetMember::Bytes(n->view()));
    });
  } while (cursor != 0 && go);
}

// A random member (not removed). `rand` returns uniform 64-bit values. REQUIRES: non-empty.
template <typename Rand>
SetMember SetRandomMember(Value& set, Rand&& rand) {
  if (set.object_encoding() == ObjectEncoding::kIntset) {
    const uint8_t* is = static_cast<const uint8_t*>(set.object());
    return SetMember::Int(intset::Get(is, static_cast<uint32_t>(rand() % intset::Size(is))));
  }
  return SetMember::Bytes(static_cast<SetTable*>(set.object())->Random(rand)->view());
}

// One SSCAN step: calls fn(const SetMember&) for the members at `cursor` and returns the next
// cursor (0 when done). An intset answers everything at once, whatever the cursor, as in Redis;
// a hashtable visits one bucket (of each table while rehashing) per call.
template <typename Fn>
uint64_t SetScan(Value& set, uint64_t cursor, Fn&& fn) {
  if (set.object_encoding() == ObjectEncoding::kIntset) {
    SetForEach(set, [&](const SetMember& m) {
      fn(m);
      return true;
    });
    return 0;
  }
  return static_cast<SetTable*>(set.object())->Scan(cursor, [&](SetNode* n) {
    fn(SetMember::Bytes(n->view()));
  });
}

}  // namespace shoal::storage
