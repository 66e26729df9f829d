// Blocking commands: clients that wait for a list or sorted set to appear under one of their keys
// (BLPOP, BRPOP, BLMOVE, BLMPOP, BZPOPMIN, BZMPOP...).
//
// A wait is one object shared by the client's home thread and the shards that own its keys:
//
//   home thread                          owner shard(s)
//   -----------                          --------------
//   Block(wait) --post--> try keys in order: the first one that holds data is served at once;
//                         otherwise the wait is filed behind earlier ones for each key (FIFO)
//   ...                   a later command gives a key a list/zset (Db's ready hook) ->
//                         after that command, the key is offered to its waiters in order:
//                         claim (CAS) -> Serve() takes the data -> Deliver(reply)
//   FinishWait <--post--  reply; the other shards are told to forget the wait
//
// Exactly one party wins a wait's claim: a serving shard, the timeout, or the client going away.
// The loser simply drops it. Nobody blocks on anybody.
//
// Keys on several shards: the home thread first asks every owner which keys hold data (a peek),
// then serves the first such key in argument order, as Redis would. Only when none holds data are
// waits filed; a key that is filled in the meantime is served at filing time.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "protocol/reply_builder.h"
#include "shard/shard.h"
#include "storage/db.h"

namespace shoal::server {

class Client;
class CommandContext;

class BlockedWait : public std::enable_shared_from_this<BlockedWait> {
 public:
  virtual ~BlockedWait() = default;

  // What a key holds, as far as this wait is concerned.
  enum class KeyState { kEmpty, kReady, kWrongType };
  // On the key's owner shard: absent (or a type another kind of waiter wants) -> kEmpty, data
  // this wait can take -> kReady, a type that makes the command fail -> kWrongType.
  virtual KeyState Check(storage::Db& db, std::string_view key, int64_t now_ms) = 0;
  // On the key's owner shard, after winning the claim and with Check() == kReady: takes the data
  // and eventually calls Deliver() (possibly from another shard, as BLMOVE's push does).
  virtual void Serve(shard::Shard& shard, storage::Db& db, std::string_view key,
                     int64_t now_ms) = 0;
  // The reply when the timeout passes first (a null of the command's kind).
  virtual void ReplyTimeout(protocol::ReplyBuilder& reply) = 0;
  // The reply inside MULTI/EXEC when no key holds data: the non-blocking command's empty reply.
  virtual void ReplyEmpty(protocol::ReplyBuilder& reply) { ReplyTimeout(reply); }

  // Any thread: wins the wait for the caller, or returns false if someone else did.
  bool TryClaim() {
    int expected = kWaiting;
    return state_.compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel);
  }
  bool waiting() const { return state_.load(std::memory_order_acquire) == kWaiting; }
  // Any thread, after a successful claim: sends `reply` (RESP bytes) to the client.
  void Deliver(std::string reply);

  // Set by the command before Block(); read-only afterwards.
  std::vector<std::string> keys;
  int db_index = 0;
  int resp = 2;
  std::string command;  // For stats and logs: "blpop".
  // Inside MULTI/EXEC a blocking command does not block: with no data it times out at once. Its
  // keys are locked by the transaction running it, so it ignores those locks.
  bool nowait = false;

 private:
  friend class BlockingDriver;
  friend void Block(CommandContext& ctx, std::shared_ptr<BlockedWait> wait, int64_t timeout_ms);
  enum : int { kWaiting, kClaimed, kCancelled };
  std::atomic<int> state_{kWaiting};
  // Home thread only.
  Client* client_ = nullptr;
  shard::Shard* home_ = nullptr;
  uint64_t timer_id_ = 0;
  std::vector<uint8_t> peek_;  // Per key; each owner writes its own keys' slots.
  size_t peek_pending_ = 0;
  int attempts_ = 0;
};

// Parks the client of `ctx` on `wait` (or serves it at once): the command's reply comes later.
// `timeout_ms` 0 waits forever. REQUIRES: the connection's thread; arguments validated.
void Block(CommandContext& ctx, std::shared_ptr<BlockedWait> wait, int64_t timeout_ms);

// Home thread: the client is going away; forget its wait unless a reply is already on its way.
void CancelBlock(Client& client);

// Per shard thread: the waits filed on this shard, by database and key, oldest first.
class BlockingRegistry {
 public:
  void Add(shard::Shard& shard, int db, const std::string& key, std::shared_ptr<BlockedWait> wait);
  void Remove(shard::Shard& shard, int db, const std::string& key, const BlockedWait* wait);
  // Offers the keys that were given a list or zset since the last call to their waiters. Runs
  // after every command and cross-shard task on a shard; free when nothing became ready.
  void ServeReady(shard::Shard& shard) {
    if (!ready_.empty()) ServeReadySlow(shard);
  }
  size_t waits() const { return filed_; }
  // A key a transaction holds is not served until the transaction lets go of it (a client
  // blocked on a list must not pop it in the middle of a MULTI/EXEC that reads it twice).
  // Keys held back so are offered again after every release on this shard.
  void HoldBack(int db, std::string key) { held_.emplace_back(db, std::move(key)); }
  void RetryHeld(shard::Shard& shard) {
    if (held_.empty()) return;
    ready_.insert(ready_.end(), held_.begin(), held_.end());
    held_.clear();
    ServeReady(shard);
  }

 private:
  struct DbWaits {
    BlockingRegistry* registry;
    int db;
    absl::flat_hash_map<std::string, std::deque<std::shared_ptr<BlockedWait>>> by_key;
  };
  static void OnKeyReady(void* arg, std::string_view key);
  void ServeReadySlow(shard::Shard& shard);

  std::vector<std::unique_ptr<DbWaits>> dbs_;
  std::vector<std::pair<int, std::string>> ready_;
  std::vector<std::pair<int, std::string>> held_;
  size_t filed_ = 0;
};

// The registry of the calling shard thread.
BlockingRegistry& ThisShardBlocking();

}  // namespace shoal::server
