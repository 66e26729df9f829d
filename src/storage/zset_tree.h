// ZTree: the ordered half of a large sorted set (OBJECT ENCODING "skiplist"). An order-statistic
// B+tree over ZNode pointers, sorted by (score, member) as Redis sorts a zset.
//
// Why a B+tree and not Redis's skiplist: a skiplist node carries a backward pointer and, per
// level, a forward pointer and a span (~45 bytes per member on average); a leaf slot here is one
// 8-byte pointer, and leaves stay 70-100% full (appends and prepends split unevenly, so
// monotonically growing scores fill leaves completely). Inner nodes hold, per child, its element
// count (rank and range queries in O(log n)) and a pointer to its first element (to route
// searches without copying keys). The members themselves live in ZNodes, owned by the zset, which
// also links them into a hash index (member -> score) through ZNode::next.
//
// Measured (INFO used_memory, one zset of 1M members "member:0000000".."member:0999999", against
// redis-server 7.0.15): 48.8 bytes per member with ascending scores, 52.5 with scores in random
// order (Redis: 109.8 and 109.7); with 19-byte members 68.5 (Redis 125.7). Per member: the ZNode
// (32 bytes up to 15-byte members, 48 up to 31), ~8-11 bytes of leaf slot, ~8 of hash bucket.
// On that zset redis-benchmark (-P 16, random existing members) ran ZRANK 1.7x, ZINCRBY 1.9x,
// ZRANGEBYSCORE ... LIMIT 0 10 1.4x and ZSCORE/ZREM ~1.2x Redis's rate.
//
// Invariants: every leaf is non-empty; every inner node has >= 2 children (so every node below
// the root has a sibling to merge with or borrow from); min[i] of an inner node is the first
// element of child i's subtree; count[i] is the number of elements under child i. Thread: owned by
// one shard thread. Lifetime: Pos values are invalidated by any mutation.
#pragma once

#include <absl/functional/function_ref.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shoal::storage {

// One member of a large sorted set: its hash-chain link, its score and its bytes, in one
// allocation. The length takes one byte below 255 (a 15-byte member fits jemalloc's 32-byte
// class), else 0xFF and four more bytes:
//   next: 8 | score: 8 | len: 1 | bytes       or       ... | 0xFF | len: uint32 | bytes
// (proto-max-bulk-len, 512 MB by default, keeps members far below 4 GB.)
struct ZNode {
  ZNode* next;  // Chain of the member index (storage::Dict).
  double score;

  std::string_view member() const {
    const uint8_t* p = tail();
    if (p[0] != kLongLen) return std::string_view(reinterpret_cast<const char*>(p + 1), p[0]);
    uint32_t n;
    memcpy(&n, p + 1, sizeof(n));
    return std::string_view(reinterpret_cast<const char*>(p + 5), n);
  }
  static ZNode* New(std::string_view member, double score);
  static void Delete(ZNode* n);
  // Bytes of the allocation (the allocator's size class for it).
  size_t alloc_size() const;

 private:
  static constexpr uint8_t kLongLen = 0xFF;
  const uint8_t* tail() const { return reinterpret_cast<const uint8_t*>(this) + sizeof(ZNode); }
  uint8_t* tail() { return reinterpret_cast<uint8_t*>(this) + sizeof(ZNode); }
  static size_t BytesFor(size_t len) { return sizeof(ZNode) + (len < kLongLen ? 1 : 5) + len; }
};
static_assert(sizeof(ZNode) == 16);

// Redis's zset order: by score, then by member bytes (memcmp; a prefix sorts first).
inline bool ZLess(double s1, std::string_view m1, double s2, std::string_view m2) {
  return s1 < s2 || (s1 == s2 && m1 < m2);
}

class ZTree {
 public:
  struct Leaf;
  struct Inner;
  // A position: an element of a leaf. `leaf == nullptr` is "none" (walked off an end).
  struct Pos {
    Leaf* leaf = nullptr;
    uint32_t idx = 0;
    bool valid() const { return leaf != nullptr; }
  };

  ZTree() = default;
  ~ZTree();
  ZTree(const ZTree&) = delete;
  ZTree& operator=(const ZTree&) = delete;

  size_t size() const { return size_; }

  // REQUIRES: no element with n's (score, member) is present.
  void Insert(ZNode* n);
  // Unlinks the element (score, member). REQUIRES: present.
  void Erase(double score, std::string_view member);
  // 0-based rank of (score, member). REQUIRES: present.
  size_t Rank(double score, std::string_view member) const;

  // The element at `rank`; an invalid Pos if rank >= size().
  Pos At(size_t rank) const;
  static ZNode* Get(Pos p);
  static void Next(Pos* p);
  static void Prev(Pos* p);

  // The number of leading elements (in order) for which `pred` holds. REQUIRES: `pred` holds for
  // a prefix of the order and fails for the rest (a partition, as for std::partition_point).
  size_t PartitionPoint(absl::FunctionRef<bool(const ZNode*)> pred) const;

  // Bytes held by the tree's own nodes (not the ZNodes).
  size_t bytes() const;
  // Checks every invariant (tests). Returns false on the first violation.
  bool Verify() const;

 private:
  struct PathStep {
    Inner* inner;
    uint32_t idx;
  };
  static constexpr int kMaxHeight = 32;

  // Records `first` as the new first element under path[depth-1]'s child, and above it for as
  // long as that child is its parent's first.
  static void SetMinUp(PathStep* path, int depth, ZNode* first);
  void FreeSubtree(void* node, int height);
  void InsertChildAbove(PathStep* path, int depth, uint64_t left_count, void* child, uint64_t count,
                        ZNode* min, int mode);
  void RebalanceAfterErase(PathStep* path, int depth, Leaf* leaf);
  void RebalanceInners(PathStep* path, int depth);
  bool VerifySubtree(const void* node, int height, uint64_t* count, const ZNode** first,
                     const ZNode** last) const;

  void* root_ = nullptr;
  int height_ = 0;  // 0: the root is a leaf.
  size_t size_ = 0;
  size_t leaves_ = 0;
  size_t inners_ = 0;
};

}  // namespace shoal::storage
