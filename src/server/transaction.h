// Transaction: the locks of one atomic piece of work (a multi-key command spanning shards,
// MULTI/EXEC, a script) on every shard it touches.
//
//   home thread            shard 0               shard 1                 home thread
//   Acquire() ----------> lock keys (or queue) -> lock keys (or queue) --> `then`: run the work
//                         at_grant(shard 0)       at_grant(shard 1)        (FanOut, batches: the
//                                                                          shards run it without
//   Release() ----------> unlock, grant waiters   unlock, grant waiters    checking locks)
//
// Shards are locked one after another in ascending id order (deadlock freedom: see key_locks.h);
// the request travels from shard to shard, so k shards cost k+1 messages, and a shard that must
// wait simply queues the request and goes on serving other keys. While a transaction holds a
// key, plain commands on it wait (KeyLocks::WaitForRelease); commands on other keys do not.
//
// Thread: built and run from the client's home thread; each part is touched only by its shard's
// thread between the posts that carry it.
#pragma once

#include <absl/functional/any_invocable.h>

#include <functional>
#include <memory>
#include <vector>

#include "server/key_locks.h"
#include "shard/shard.h"

namespace shoal::server {

class Transaction {
 public:
  explicit Transaction(shard::Shard* home) : home_(home) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Building (home thread, before Acquire).
  void AddKey(shard::ShardId shard, int db, std::string_view key, bool exclusive) {
    RequestFor(shard).Add(db, key, exclusive);
  }
  // Every key of every shard (KEYS, FLUSHALL, scripts that touch keys they did not declare).
  void AddAllShards(bool exclusive);
  bool empty() const { return parts_.empty(); }
  bool all_shards() const { return all_shards_; }
  std::vector<shard::ShardId> shards() const;

  // Runs on each shard's thread right after its locks are granted.
  using AtGrant = std::function<void(shard::Shard&)>;
  // Takes every lock, then runs `then` on the home thread (inline when no part had to travel).
  void Acquire(AtGrant at_grant, absl::AnyInvocable<void()> then);
  // Gives every lock back; blocked clients held back from locked keys are served. The object
  // may be destroyed at once.
  void Release() { Release(false, nullptr); }
  // Release, and count every key held exclusively as written: their watches turn dirty. Work
  // that wrote through coordinators (whose tasks do not name keys) needs this, and must not
  // reply before it is done, or a WATCH issued after seeing the reply could be marked by this
  // older write: `done` runs on the home thread once every shard has released.
  void ReleaseTouching(absl::AnyInvocable<void()> done) { Release(true, std::move(done)); }

 private:
  struct Part {
    shard::ShardId shard;
    std::unique_ptr<LockRequest> request;
  };
  LockRequest& RequestFor(shard::ShardId shard);
  void StepOn(size_t i);                 // On parts_[i]'s shard.
  void Granted(size_t i, bool waited);   // On parts_[i]'s shard.
  void Forward(size_t i);                // Moves on to parts_[i].
  void Release(bool touch, absl::AnyInvocable<void()> done);

  shard::Shard* home_;
  bool all_shards_ = false;
  std::vector<Part> parts_;  // Ascending shard id.
  AtGrant at_grant_;
  absl::AnyInvocable<void()> then_;
};

// Runs on the owner thread when a request is released: unlocks and follows up (see Release).
void ReleaseHere(shard::Shard& shard, LockRequest& request, bool touch);

}  // namespace shoal::server
