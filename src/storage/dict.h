// Dict: an intrusive chained hash table with incremental rehashing, the structure behind each
// database's keyspace and expiry index.
//
// Why not absl::flat_hash_map: SCAN must visit every key present for the whole scan at least once
// even while the table resizes, and resizing a table of millions of keys must not stall the shard.
// Both need control over the bucket layout: buckets are a power of two, a resize moves a few
// buckets per operation from the old table to the new one, and the SCAN cursor walks bucket
// indexes in reverse-bit order, so buckets split by a grow or merged by a shrink are never missed
// (the classic scheme Redis uses for its dict; this is our own implementation of it).
//
// Nodes are owned by the caller; the Dict only links them. A node type has a member
// `Node* next`, and Traits supply:
//   static uint64_t HashOf(const Node&);            static uint64_t HashKey(const Key&);
//   static bool Matches(const Node&, const Key&);
// Thread: owned by one shard thread; not thread-safe.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace shoal::storage {

template <typename Node, typename Key, typename Traits>
class Dict {
 public:
  Dict() = default;
  ~Dict() { FreeTables(); }
  Dict(const Dict&) = delete;
  Dict& operator=(const Dict&) = delete;
  // Moving takes the whole table (FLUSHALL ASYNC hands it to a background thread to free).
  Dict(Dict&& o) noexcept : rehash_idx_(o.rehash_idx_) {
    t_[0] = o.t_[0];
    t_[1] = o.t_[1];
    o.t_[0] = o.t_[1] = Table{};
    o.rehash_idx_ = -1;
  }

  size_t size() const { return t_[0].used + t_[1].used; }
  bool empty() const { return size() == 0; }
  size_t bucket_count() const { return t_[0].size + t_[1].size; }
  bool rehashing() const { return rehash_idx_ >= 0; }

  Node* Find(const Key& key) {
    if (empty()) return nullptr;
    RehashStep();
    uint64_t h = Traits::HashKey(key);
    for (int t = 0; t <= 1; ++t) {
      if (t_[t].size == 0) continue;
      for (Node* n = t_[t].buckets[h & t_[t].mask]; n != nullptr; n = n->next) {
        if (Traits::Matches(*n, key)) return n;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  // REQUIRES: no node with an equal key is linked.
  void Insert(Node* node) {
    RehashStep();
    GrowIfNeeded();
    Table& t = rehashing() ? t_[1] : t_[0];
    Node*& head = t.buckets[Traits::HashOf(*node) & t.mask];
    node->next = head;
    head = node;
    ++t.used;
  }

  // Unlinks and returns the node matching `key`, or nullptr.
  Node* Remove(const Key& key) {
    if (empty()) return nullptr;
    RehashStep();
    uint64_t h = Traits::HashKey(key);
    for (int t = 0; t <= 1; ++t) {
      if (t_[t].size == 0) continue;
      Node** link = &t_[t].buckets[h & t_[t].mask];
      while (*link != nullptr) {
        if (Traits::Matches(**link, key)) {
          Node* n = *link;
          *link = n->next;
          --t_[t].used;
          ShrinkIfNeeded();
          return n;
        }
        link = &(*link)->next;
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  // Unlinks every node and hands each to `dispose` (which usually frees it).
  template <typename Fn>
  void Clear(Fn&& dispose) {
    for (Table& t : t_) {
      for (size_t i = 0; i < t.size; ++i) {
        Node* n = t.buckets[i];
        while (n != nullptr) {
          Node* next = n->next;
          dispose(n);
          n = next;
        }
      }
    }
    FreeTables();
  }

  // Visits the buckets at `cursor` and returns the next cursor (0 when the scan is complete).
  // Every node linked for the whole scan is visited at least once; some may be visited twice.
  // `fn` must not insert or remove nodes.
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, Fn&& fn) {
    if (empty()) return 0;
    if (!rehashing()) {
      const Table& t = t_[0];
      VisitBucket(t, cursor & t.mask, fn);
      return NextCursor(cursor, t.mask);
    }
    // During a rehash: visit the bucket in the small table, then every bucket of the large table
    // that it expands into.
    const Table* small = &t_[0];
    const Table* large = &t_[1];
    if (small->size > large->size) std::swap(small, large);
    VisitBucket(*small, cursor & small->mask, fn);
    do {
      VisitBucket(*large, cursor & large->mask, fn);
      cursor = NextCursor(cursor, large->mask);
    } while (cursor & (small->mask ^ large->mask));
    return cursor;
  }

  // A random node, or nullptr when empty. `rand` returns uniform 64-bit values. Not uniform over
  // nodes (buckets with long chains are favoured less), as with Redis's dictGetRandomKey.
  template <typename Rand>
  Node* Random(Rand&& rand) {
    if (empty()) return nullptr;
    RehashStep();
    for (;;) {
      // Pick a bucket across both tables, weighted by table size.
      uint64_t r = rand();
      const Table* t = &t_[0];
      size_t idx;
      if (rehashing()) {
        size_t total = t_[0].size + t_[1].size;
        idx = r % total;
        if (idx >= t_[0].size) {
          idx -= t_[0].size;
          t = &t_[1];
        } else if (static_cast<int64_t>(idx) < rehash_idx_) {
          continue;  // Already moved: empty.
        }
      } else {
        idx = r & t->mask;
      }
      Node* head = t->buckets[idx];
      if (head == nullptr) continue;
      size_t len = 0;
      for (Node* n = head; n != nullptr; n = n->next) ++len;
      size_t pick = rand() % len;
      Node* n = head;
      while (pick-- > 0) n = n->next;
      return n;
    }
  }

  // Moves up to `steps` buckets of an ongoing rehash. Returns true if rehashing continues.
  bool Rehash(size_t steps) {
    if (!rehashing()) return false;
    size_t empty_visits = steps * 10;  // Bound the work on sparse tables too.
    while (steps-- > 0 && t_[0].used > 0) {
      while (t_[0].buckets[rehash_idx_] == nullptr) {
        ++rehash_idx_;
        if (--empty_visits == 0) return true;
      }
      Node* n = t_[0].buckets[rehash_idx_];
      while (n != nullptr) {
        Node* next = n->next;
        Node*& head = t_[1].buckets[Traits::HashOf(*n) & t_[1].mask];
        n->next = head;
        head = n;
        --t_[0].used;
        ++t_[1].used;
        n = next;
      }
      t_[0].buckets[rehash_idx_] = nullptr;
      ++rehash_idx_;
    }
    if (t_[0].used == 0) {
      free(t_[0].buckets);
      t_[0] = t_[1];
      t_[1] = Table{};
      rehash_idx_ = -1;
      return false;
    }
    return true;
  }

  // Bytes used by the bucket arrays.
  size_t overhead_bytes() const { return (t_[0].size + t_[1].size) * sizeof(Node*); }

 private:
  struct Table {
    Node** buckets = nullptr;
    size_t size = 0;
    size_t mask = 0;
    size_t used = 0;
  };
  static constexpr size_t kInitialSize = 4;

  void RehashStep() {
    if (rehashing()) Rehash(1);
  }

  void GrowIfNeeded() {
    if (rehashing()) return;
    if (t_[0].size == 0) {
      t_[0] = MakeTable(kInitialSize);
      return;
    }
    if (t_[0].used >= t_[0].size) StartRehash(t_[0].size * 2);
  }

  void ShrinkIfNeeded() {
    // Shrink below 1/8 fill, as Redis's cron does for tables under 10% full.
    if (rehashing() || t_[0].size <= kInitialSize) return;
    if (t_[0].used * 8 < t_[0].size) {
      size_t target = kInitialSize;
      while (target < t_[0].used) target *= 2;
      if (target < t_[0].size) StartRehash(target);
    }
  }

  void StartRehash(size_t new_size) {
    t_[1] = MakeTable(new_size);
    rehash_idx_ = 0;
  }

  static Table MakeTable(size_t size) {
    Table t;
    t.buckets = static_cast<Node**>(calloc(size, sizeof(Node*)));
    t.size = size;
    t.mask = size - 1;
    return t;
  }

  void FreeTables() {
    free(t_[0].buckets);
    free(t_[1].buckets);
    t_[0] = t_[1] = Table{};
    rehash_idx_ = -1;
  }

  template <typename Fn>
  static void VisitBucket(const Table& t, size_t idx, Fn& fn) {
    for (Node* n = t.buckets[idx]; n != nullptr;) {
      Node* next = n->next;
      fn(n);
      n = next;
    }
  }

  // Reverse-binary increment: set the bits outside the mask, reverse, add one, reverse back.
  static uint64_t NextCursor(uint64_t v, uint64_t mask) {
    v |= ~mask;
    v = ReverseBits(v);
    ++v;
    return ReverseBits(v);
  }

  static uint64_t ReverseBits(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);
  }

  Table t_[2];
  int64_t rehash_idx_ = -1;
};

}  // namespace shoal::storage
