// Sorted sets: the two encodings a zset-typed Value holds, and the operations the zset commands
// need, with Redis 7.0's semantics (ordering, encoding choices, conversions).
//
// Encodings (what OBJECT ENCODING reports):
//   listpack - member,score entry pairs in one listpack (storage/listpack.h), sorted by score
//              then member. Scores are written as Redis's d2string writes them: an integer entry
//              when the score is integral and within +-LLONG_MAX/2 (so -0 is stored as 0), else
//              "%.17g" text ("inf", "-inf"). ZSCAN shows those bytes as they are.
//   skiplist - ZSetBig: a member -> ZNode hash index (storage::Dict, incremental rehash) plus an
//              order-statistic B+tree over the same ZNodes (storage/zset_tree.h). Redis's name
//              is kept because clients see it.
// A new zset starts as a listpack unless listpacks are disabled or its first member is too long;
// it converts to the big encoding once it outgrows zset-max-listpack-entries or receives a member
// longer than zset-max-listpack-value, and never converts back. Computed results (*STORE) are laid
// out from scratch: a listpack when they fit both limits.
//
// Memory: 1M keys each holding a 5-member listpack zset ("member:0".."member:4", scores 0-4) take
// 136.6 bytes per key (48-byte keyspace entry, 80-byte listpack allocation, bucket), Redis 152.4.
// For the big encoding see zset_tree.h.
//
// Thread: a zset belongs to the shard that owns its key, like the Value holding it.
#pragma once

#include <absl/functional/function_ref.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/hash.h"
#include "storage/dict.h"
#include "storage/value.h"
#include "storage/zset_tree.h"

namespace shoal::storage {

struct ZNodeTraits {
  static uint64_t HashOf(const ZNode& n) { return HashKey(n.member()); }
  static uint64_t HashKey(std::string_view m) { return shoal::HashKey(m); }
  static bool Matches(const ZNode& n, std::string_view m) { return n.member() == m; }
};

// The big encoding. Both structures link the same ZNodes; the dict owns them.
struct ZSetBig {
  Dict<ZNode, std::string_view, ZNodeTraits> dict;
  ZTree tree;
  size_t node_bytes = 0;  // Sum of the ZNodes' allocation sizes.
};

// ---- Ranges ----------------------------------------------------------------------------------

// A score interval: "(1.5" is exclusive, "-inf"/"+inf" are open ends.
struct ZScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
};
bool ZScoreGteMin(double v, const ZScoreRange& r);
bool ZScoreLteMax(double v, const ZScoreRange& r);
// True for intervals nothing can fall in (min > max, or min == max with an open end).
bool ZScoreRangeEmpty(const ZScoreRange& r);

// A member interval: "[a" inclusive, "(a" exclusive, "-" below everything, "+" above everything.
struct ZLexBound {
  enum Kind : uint8_t { kValue, kMinusInf, kPlusInf };
  Kind kind = kValue;
  std::string value;
};
struct ZLexRange {
  ZLexBound min, max;
  bool minex = false, maxex = false;
};
bool ZLexGteMin(std::string_view m, const ZLexRange& r);
bool ZLexLteMax(std::string_view m, const ZLexRange& r);
bool ZLexRangeEmpty(const ZLexRange& r);

// ---- The zset --------------------------------------------------------------------------------

// A (member, score) pair owned outside any zset: results computed across keys or shards.
struct ZEntry {
  std::string member;
  double score;
};

// Redis's choice for a key created by ZADD/ZINCRBY: a listpack, unless listpacks are disabled
// (zset-max-listpack-entries 0) or `first_member` is longer than zset-max-listpack-value.
Value NewZSetFor(std::string_view first_member);
// A computed result. REQUIRES: `sorted` non-empty, sorted by (score, member), members distinct.
Value ZSetFromSorted(const std::vector<ZEntry>& sorted);

// All below: REQUIRES: `z` holds a zset.
// Converts a listpack zset to the big encoding (RDB loading of a listpack past the limits).
// REQUIRES: listpack encoding.
void ZSetConvertToBig(Value& z);
size_t ZSetLength(const Value& z);
std::optional<double> ZSetScore(const Value& z, std::string_view member);

// ZADD's flags in and out (Redis's ZADD_IN_* / ZADD_OUT_*).
enum ZAddIn : int { kZAddNx = 1, kZAddXx = 2, kZAddGt = 4, kZAddLt = 8, kZAddIncr = 16 };
enum ZAddOut : int { kZAddAdded = 1, kZAddUpdated = 2, kZAddNop = 4 };
// Redis's zsetAdd: adds `member` or updates its score under the flags, converting the encoding
// when needed. *new_score gets the resulting score (INCR). Returns false, changing nothing, when
// the score (or the incremented one) is NaN.
bool ZSetAdd(Value& z, double score, std::string_view member, int in_flags, int* out_flags,
             double* new_score);
// True if `member` was present. An emptied zset stays; the caller deletes the key.
bool ZSetRemove(Value& z, std::string_view member);
// 0-based rank in ascending order, or nullopt.
std::optional<size_t> ZSetRank(const Value& z, std::string_view member);
// Deletes `count` members from ascending rank `start`. REQUIRES: start + count <= length.
void ZSetDeleteRange(Value& z, size_t start, size_t count);

inline constexpr size_t kZNone = SIZE_MAX;
// Ascending ranks of the first and last members inside a range, or kZNone, as Redis's
// zzl/zslFirstInRange and LastInRange find them. For lex ranges over members with different
// scores (where Redis leaves the result unspecified) a listpack is scanned exactly as Redis scans
// it, the big encoding searched as if members were sorted.
size_t ZSetFirstInScoreRange(const Value& z, const ZScoreRange& r);
size_t ZSetLastInScoreRange(const Value& z, const ZScoreRange& r);
size_t ZSetFirstInLexRange(const Value& z, const ZLexRange& r);
size_t ZSetLastInLexRange(const Value& z, const ZLexRange& r);

// Walks a zset from an ascending rank, toward higher ranks or (reverse) lower ones.
// Lifetime: invalidated by any change to the zset.
class ZSetCursor {
 public:
  ZSetCursor(const Value& z, size_t rank, bool reverse);
  bool valid() const { return big_ ? pos_.valid() : eptr_ != nullptr; }
  // Valid until the cursor moves.
  std::string_view member();
  double score() const;
  void Next();

 private:
  bool big_;
  bool reverse_;
  uint8_t* lp_ = nullptr;
  uint8_t* eptr_ = nullptr;  // Listpack: the member entry.
  ZTree::Pos pos_;
  char buf_[24];
};

// ZSCAN: calls fn(member, score_text) for the members at `cursor` and returns the next cursor
// (0: done). A listpack yields everything at once, with the score bytes as stored; the big
// encoding visits the member index's buckets (about `count` members, at most 10x that many
// buckets), with scores as "%.17g".
uint64_t ZSetScan(const Value& z, uint64_t cursor, int64_t count,
                  absl::FunctionRef<void(std::string_view, std::string_view)> fn);

// Redis's d2string: the bytes a listpack stores for a score. `buf` needs 32 bytes.
size_t ZScoreToListpackText(double score, char* buf);
// "%.17g" with Redis's spelling of infinities (ZSCAN's text for the big encoding).
size_t ZScoreToText(double score, char* buf);

}  // namespace shoal::storage
