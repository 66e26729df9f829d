// Quicklist: the list type's storage. Redis 7.0 reports OBJECT ENCODING "quicklist" for every
// list (the listpack list encoding came with 7.2), and so does Shoal.
//
// Elements live in listpack nodes (storage/listpack.h). A node is bounded by the fill limit of
// list-max-listpack-size, fixed when the list is created as Redis fixes it: fill > 0 caps the
// entries per node (and the node at 8 KB, Redis's safety limit); fill -1..-5 caps the node at
// 4/8/16/32/64 KB. A single element bigger than the limit gets a node of its own. Nodes are
// split when an insertion in the middle overflows them, and neighbours are merged when they fit
// together again (after an insertion split, after LREM and LTRIM-style deletions), so the nodes
// stay close to full.
//
// Unlike Redis's doubly linked nodes (a 32-byte node struct per listpack), the nodes are held in a
// deque of listpack pointers: one array with free room at both ends, so pushing or popping a node
// at either end is O(1) amortized, and a node costs 8 bytes beyond its listpack. A node's entry
// count and size come from its listpack header. A list of one node keeps that node's pointer in
// the header itself (no array), so a small list costs this 32-byte header plus one listpack.
//
// Index lookups walk from the nearer end, skipping whole nodes by their counts.
// list-compress-depth is accepted as a setting but nodes are never LZF-compressed.
//
// Measured (INFO used_memory, 2 shards, vs redis-server 7.0.15, list-max-listpack-size -2):
//   1M lists of 5 short elements ("v1".."v5"):  120 bytes per list (Redis: 200), that is the
//     48-byte key entry, this 32-byte header and a 32-byte listpack, plus the bucket slot;
//   one list of 1M "element:N" strings:       15.95 MB (Redis: 16.02 MB);
//   one list of the integers 0..999999:         4.86 MB (Redis: 5.00 MB).
//
// Invariants: no node is empty; count_ is the sum of the node lengths.
// Thread: owned by one shard thread, like the Value that holds it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/listpack.h"
#include "storage/value.h"

namespace shoal::storage {

// Which end of a list: LEFT/head or RIGHT/tail.
enum class ListEnd : uint8_t { kHead, kTail };

// Compares listpack entries with one element as Redis's lpCompare does: a canonical integer
// matches only integer entries of that value, anything else only string entries of those bytes.
class ElementMatcher {
 public:
  explicit ElementMatcher(std::string_view s);
  bool Matches(const uint8_t* p) const;

 private:
  std::string_view s_;
  int64_t ival_ = 0;
  bool is_int_ = false;
};

class Quicklist {
 public:
  // A position in the list: a node and an entry in it. Stays valid until the list changes.
  struct Pos {
    uint32_t node = 0;
    uint8_t* p = nullptr;  // nullptr: walked off an end.
    bool valid() const { return p != nullptr; }
  };

  // `fill` is list-max-listpack-size; it is clamped as Redis clamps it (to -5..32767).
  explicit Quicklist(int64_t fill);
  ~Quicklist();
  Quicklist(const Quicklist&) = delete;
  Quicklist& operator=(const Quicklist&) = delete;

  // A new list with the fill limit of the current list-max-listpack-size.
  static Quicklist* Create();
  Quicklist* Clone() const;

  size_t size() const { return count_; }
  size_t node_count() const { return len_; }
  int fill() const { return fill_; }
  // Bytes allocated for the list: this header, the node array and every listpack.
  size_t HeapBytes() const;

  void Push(ListEnd end, std::string_view s);
  // Appends a whole node, taking ownership of `lp` (RDB loading keeps nodes as they were saved,
  // as Redis's quicklistAppendListpack does). REQUIRES: `lp` is a valid, non-empty listpack.
  void AppendNode(uint8_t* lp);
  // Removes the element at `end` and appends its text to `out`. REQUIRES: size() > 0.
  void Pop(ListEnd end, std::string* out);

  // The entry at `index` (negative counts from the tail); invalid if out of range.
  Pos Seek(int64_t index) const;
  // Moves to the next / previous entry; the position becomes invalid past the end.
  void Next(Pos* pos) const;
  void Prev(Pos* pos) const;
  static lp::Item Get(Pos pos) { return lp::Get(pos.p); }

  // Replaces the entry at `pos` (LSET). Invalidates positions.
  void Replace(Pos pos, std::string_view s);
  // Inserts `s` before or after the entry at `pos` (LINSERT). Invalidates positions.
  void Insert(Pos pos, std::string_view s, bool after);
  // The first entry equal to `s`, walking from the head; invalid if none.
  Pos FindFirst(std::string_view s) const;
  // Deletes `n` entries starting at index `start`. REQUIRES: start + n <= size().
  void DeleteRange(size_t start, size_t n);
  // Deletes entries equal to `s`: all of them if `limit` is 0, else the first `limit` met walking
  // from `from` (LREM). Returns how many were deleted.
  size_t RemoveMatching(std::string_view s, size_t limit, ListEnd from);

  // The node listpacks in order (tests and memory figures).
  const uint8_t* node(uint32_t i) const { return slots()[head_ + i]; }

 private:
  uint8_t* const* slots() const { return cap_ <= 1 ? &single_ : ring_; }
  uint8_t** slots() { return cap_ <= 1 ? &single_ : ring_; }
  uint8_t*& node_ref(uint32_t i) { return slots()[head_ + i]; }
  uint8_t* mut(uint32_t i) { return slots()[head_ + i]; }

  // Whether a node of `bytes` bytes and `count` entries respects the fill limit.
  bool Fits(size_t bytes, size_t count) const;
  // Whether node `lp` can take one more entry of `entry_bytes`.
  bool CanAdd(const uint8_t* lp, size_t entry_bytes) const;
  // The same for element `s`, without encoding it unless the node is close to its limit.
  bool CanAddElement(const uint8_t* lp, std::string_view s) const;

  // Node array management: insert one node at `i`, erase `k` nodes at `i` (not freeing them).
  void InsertNode(uint32_t i, uint8_t* lp);
  void EraseNodes(uint32_t i, uint32_t k);
  void Resize(uint32_t new_cap, uint32_t new_head);
  // Splits node `i` so that its first `offset` entries stay and the rest become node i + 1.
  void SplitNode(uint32_t i, size_t offset);
  // Merges node i + 1 into node i if both fit in one node; returns true if it did.
  bool TryMergeNext(uint32_t i);
  // Merges around node `i` after it changed, as Redis's _quicklistMergeNodes does.
  void MergeAround(uint32_t i);

  union {
    uint8_t** ring_;   // cap_ > 1: the node array; nodes are [head_, head_ + len_).
    uint8_t* single_;  // cap_ <= 1: the only node, if len_ == 1.
  };
  uint64_t count_ = 0;
  uint32_t head_ = 0;
  uint32_t len_ = 0;
  uint32_t cap_ = 0;
  int16_t fill_;
};
static_assert(sizeof(Quicklist) == 32, "a small list should cost one 32-byte header");

// Concatenates listpack `b` onto `a` (freeing neither); returns the (reallocated) `a`.
uint8_t* ConcatListpacks(uint8_t* a, const uint8_t* b);

// The list object held by a list Value.
inline Quicklist* ListOf(const Value& v) { return static_cast<Quicklist*>(v.object()); }

}  // namespace shoal::storage
