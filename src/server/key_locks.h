// KeyLocks: one shard's lock table for the transaction layer (transaction.h).
//
// Atomic multi-key work across shards locks KEYS, never data: a transaction that spans shards
// first takes its keys' locks on every shard involved, then runs, then releases. Only the owner
// thread touches a shard's table, like its data; requests arrive as messages.
//
// Rules, per shard:
//   - A request names keys (each shared or exclusive) or the whole shard (KEYS, FLUSHDB, scripts
//     with undeclared keys). It is granted when it conflicts neither with a granted lock nor with
//     an earlier request still waiting (FIFO: nobody starves, and every shard orders conflicting
//     requests by their arrival on it). A request is queued whole, in one step.
//   - Plain commands (no transaction) never hold locks: one that touches a key another
//     transaction holds waits until a release, then runs. It never waits behind other waiters,
//     since it finishes the moment it runs.
//   - Transactions acquire their shards in ascending shard id order. Together with the one-step
//     queueing above this rules out deadlock: a transaction waiting on shard s holds locks only
//     on shards below s, so a cycle of waits would need shard ids that keep decreasing.
//
// Thread: the owning shard's thread only.
#pragma once

#include <absl/functional/any_invocable.h>

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace shoal::server {

// One transaction's locks on one shard.
struct LockRequest {
  struct Key {
    int db;
    std::string key;
    bool exclusive;
  };
  std::vector<Key> keys;
  bool whole_shard = false;  // Every key of every database on this shard.
  bool whole_exclusive = false;
  // Runs on the shard's thread when a request that had to wait is granted.
  absl::AnyInvocable<void()> on_grant;

  void Add(int db, std::string_view key, bool exclusive) {
    keys.push_back(Key{db, std::string(key), exclusive});
  }
  // Sorts the keys and merges duplicates (exclusive wins). KeyLocks needs it done before Acquire.
  void Normalize();
  bool empty() const { return keys.empty() && !whole_shard; }
};

class KeyLocks {
 public:
  // Grants `r` now and returns true, or queues it and returns false (r->on_grant runs when it is
  // granted). `r` stays the caller's; it must stay alive until Release(r).
  bool Acquire(LockRequest* r);
  // Releases a granted request, grants the waiters that can go, and retries waiting commands.
  void Release(LockRequest* r);

  // True when no lock is granted on this shard: plain commands skip every check.
  bool idle() const { return granted_ == 0; }
  // Would a plain command reading (`write` false) or writing `key` conflict with a granted lock?
  bool Conflicts(int db, std::string_view key, bool write) const;
  // Is `key` locked at all (blocked clients are not served from a key a transaction holds)?
  bool Locked(int db, std::string_view key) const { return Conflicts(db, key, true); }
  // A plain command that conflicted: `retry` runs after the next release on this shard (and may
  // wait again).
  void WaitForRelease(absl::AnyInvocable<void()> retry) { retries_.push_back(std::move(retry)); }

  size_t granted() const { return granted_; }
  size_t waiting() const { return waiting_.size(); }

 private:
  struct KeyState {
    uint32_t shared = 0;
    bool exclusive = false;
  };
  bool CompatibleWithGranted(const LockRequest& r) const;
  static bool RequestsConflict(const LockRequest& a, const LockRequest& b);
  bool CompatibleWithWaitersBefore(const LockRequest& r,
                                   std::list<LockRequest*>::const_iterator end) const;
  void Grant(LockRequest* r);
  KeyState* Find(int db, std::string_view key);
  const KeyState* Find(int db, std::string_view key) const;

  std::vector<absl::flat_hash_map<std::string, KeyState>> dbs_;
  size_t granted_ = 0;          // Granted requests.
  uint32_t whole_shared_ = 0;   // Granted whole-shard shared requests.
  bool whole_exclusive_ = false;
  uint32_t exclusive_keys_ = 0;  // Keys held exclusively (a whole-shard shared lock waits for 0).
  std::list<LockRequest*> waiting_;
  std::vector<absl::AnyInvocable<void()>> retries_;
};

// The lock table of the calling shard thread.
KeyLocks& ThisShardLocks();

}  // namespace shoal::server
