// Db: one logical database (SELECT n) within one shard: the keys this shard owns, their values
// and their expiry deadlines.
//
// Expiry: a key past its deadline is never returned. Lookups delete it on sight (lazy expiry), and
// ActiveExpireCycle() samples the expiry index from the shard's timer so keys nobody reads are
// reclaimed too.
//
// Thread: owned by a single shard thread; not thread-safe.
// Lifetime: an Entry* stays valid until that key is removed (entries never move).
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string_view>

#include "common/hash.h"
#include "storage/dict.h"
#include "storage/key_string.h"
#include "storage/value.h"

namespace shoal::storage {

// One key: 48 bytes, allocated once per key.
struct Entry {
  Entry* next = nullptr;  // Bucket chain, managed by Dict.
  KeyString key;
  uint32_t access_time = 0;  // LRU time or LFU counter: see access_stats.h.
  Value value;

  std::string_view key_view() const { return key.view(); }
};
static_assert(sizeof(Entry) == 48, "Entry should stay at one 48-byte allocation");

// A key's expiry deadline, indexed by its Entry (entries do not move, so the pointer is stable).
struct ExpireNode {
  ExpireNode* next = nullptr;
  Entry* entry;
  int64_t when_ms;
};

struct EntryTraits {
  static uint64_t HashOf(const Entry& e) { return HashKey(e.key_view()); }
  static uint64_t HashKey(std::string_view k) { return shoal::HashKey(k); }
  static bool Matches(const Entry& e, std::string_view k) { return e.key_view() == k; }
};

struct ExpireTraits {
  static uint64_t Mix(const Entry* p) {
    uint64_t x = reinterpret_cast<uintptr_t>(p);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
  }
  static uint64_t HashOf(const ExpireNode& n) { return Mix(n.entry); }
  static uint64_t HashKey(const Entry* e) { return Mix(e); }
  static bool Matches(const ExpireNode& n, const Entry* e) { return n.entry == e; }
};

// How a lookup treats the key it finds.
enum LookupFlags : uint8_t {
  kLookupNoTouch = 0,  // Leave the access time alone (OBJECT, TYPE, TTL).
  kLookupTouch = 1,    // Record the access (OBJECT IDLETIME).
  kLookupRead = 2,     // Count a keyspace hit or miss (INFO stats), as Redis's read lookups do.
};

// A snapshot in progress on a Db (persist/shard_snapshot.h). While one runs, the Db hands every
// entry the snapshot has not saved yet to Save() before anyone can read, change or remove it, so
// the snapshot records each key exactly as it was when the snapshot began, without copying the
// keyspace (no fork, no copy-on-write of pages: a key is copied out, serialized, only when it is
// about to change).
class SnapshotSaver {
 public:
  virtual ~SnapshotSaver() = default;
  // Serializes `e` (its value and deadline as they are now). The Db then counts it saved.
  virtual void Save(Entry* e) = 0;
};

struct DbStats {
  uint64_t expired_keys = 0;
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
};

class Db {
 public:
  Db() = default;
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The live entry for `key`, or nullptr. Deletes the key if it has expired by `now_ms`.
  // `flags` combine LookupFlags.
  Entry* Find(std::string_view key, int64_t now_ms, uint8_t flags = kLookupTouch);

  // Adds `key` with `value`. REQUIRES: `key` is absent (Find returned nullptr).
  Entry* Insert(std::string_view key, Value value);

  // Replaces the value of an existing entry. Its deadline is dropped unless `keep_ttl`.
  void Replace(Entry* e, Value value, bool keep_ttl);

  // Sets `key` to `value` whether it exists or not (dropping any deadline unless `keep_ttl`).
  Entry* Upsert(std::string_view key, Value value, int64_t now_ms, bool keep_ttl = false);

  // Removes the key if present (expired or not). Returns true if it was present and live.
  bool Erase(std::string_view key, int64_t now_ms);
  // Erase, but a big collection's memory is freed on a background thread (UNLINK).
  bool EraseLazily(std::string_view key, int64_t now_ms);
  void Erase(Entry* e);
  // Removes the key and hands back its value and deadline (-1 for none): RENAME, MOVE.
  Value Take(Entry* e, int64_t* when_ms);

  // Deadline in Unix ms, or -1 for none.
  int64_t GetExpire(const Entry* e);
  void SetExpire(Entry* e, int64_t when_ms);
  // Returns true if the key had a deadline.
  bool ClearExpire(Entry* e);

  size_t size() const { return keys_.size(); }
  size_t expires_size() const { return expires_.size(); }

  // Calls `fn` for the entries in the buckets at `cursor`; returns the next cursor (0 = done).
  // Expired entries are skipped (not deleted: the scan must not change the table mid-visit).
  uint64_t Scan(uint64_t cursor, int64_t now_ms, const std::function<void(Entry*)>& fn);

  // A random live key, or nullptr. May delete expired keys it meets.
  Entry* RandomEntry(int64_t now_ms);

  // One round of active expiry: samples up to `samples` keys with a deadline and deletes the
  // expired ones. Returns how many of the sampled keys had expired.
  size_t ExpireSample(int64_t now_ms, size_t samples);

  // Runs incremental rehashing for about `steps` buckets; returns true if more work remains.
  bool RehashSome(size_t steps);

  // Snapshots. Which keys are saved is one bit per key (KeyString::mark) compared with a parity
  // that flips when a snapshot begins: every existing key turns unsaved at once, in O(1). Keys
  // added later get the new parity (they are not part of the snapshot).
  void BeginSnapshot(SnapshotSaver* saver) {
    parity_ = !parity_;
    saver_ = saver;
  }
  void EndSnapshot() { saver_ = nullptr; }
  bool snapshot_running() const { return saver_ != nullptr; }
  bool IsSaved(const Entry* e) const { return e->key.mark() == parity_; }
  void MarkSaved(Entry* e) { e->key.set_mark(parity_); }
  // Visits the entries in the buckets at `cursor`, expired ones included; returns the next cursor
  // (0 = done). For the snapshot's own walk: `fn` must not add or remove keys.
  template <typename Fn>
  uint64_t ScanAll(uint64_t cursor, Fn&& fn) {
    return keys_.Scan(cursor, fn);
  }
  // Saves every key the running snapshot has not saved yet (before FLUSHDB, SWAPDB...).
  void SaveAllPending();
  // The deadline of `e` without the lookup cost when it has none; for savers.
  int64_t ExpireOf(const Entry* e) { return GetExpire(e); }

  // Removes every key. With `lazy`, the memory is given back by a background thread so that a
  // huge database does not stall its shard (FLUSHALL ASYNC); the keys are gone at once either way.
  void Clear(bool lazy = false);
  DbStats& stats() { return stats_; }

  // Blocked clients (BLPOP, BZPOPMIN...) wait for a list or sorted set to appear under a key.
  // While some wait on this Db, `hook(arg, key)` is called whenever a key is given a list or
  // zset value (Insert, Replace). It only takes note: clients are served after the command.
  using ReadyHook = void (*)(void* arg, std::string_view key);
  void set_ready_hook(ReadyHook hook, void* arg) {
    ready_hook_ = hook;
    ready_hook_arg_ = arg;
  }

 private:
  void NoteIfBlockable(const Entry* e);
  // Called before `e` is handed out or removed: a running snapshot saves it first.
  void BeforeUse(Entry* e) {
    if (saver_ != nullptr && !IsSaved(e)) SaveNow(e);
  }
  void SaveNow(Entry* e);

  bool IsExpired(Entry* e, int64_t now_ms);

  Dict<Entry, std::string_view, EntryTraits> keys_;
  Dict<ExpireNode, const Entry*, ExpireTraits> expires_;
  DbStats stats_;
  std::mt19937_64 rng_{0x5eed};
  ReadyHook ready_hook_ = nullptr;
  void* ready_hook_arg_ = nullptr;
  SnapshotSaver* saver_ = nullptr;
  bool parity_ = false;
};

}  // namespace shoal::storage
