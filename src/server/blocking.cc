#include "server/blocking.h"

#include <algorithm>

#include "common/clock.h"
#include "common/status.h"
#include "protocol/reply_builder.h"
#include "server/client.h"
#include "server/command_context.h"
#include "server/key_locks.h"
#include "server/server_state.h"
#include "shard/shard_set.h"

namespace shoal::server {

namespace {
thread_local BlockingRegistry t_registry;
}  // namespace

BlockingRegistry& ThisShardBlocking() { return t_registry; }

// The home-thread side of a wait: starting it, peeking across shards, finishing it. Every
// function runs on the thread named in its comment; data crosses threads only inside posted tasks.
class BlockingDriver {
 public:
  using WaitPtr = std::shared_ptr<BlockedWait>;

  // Home thread.
  static void Start(const WaitPtr& w) {
    std::vector<shard::ShardId> owners = Owners(*w);
    if (owners.size() == 1) {
      RunOn(*w, owners[0], [w](shard::Shard& s) { TryOrFile(s, w, AllKeysOf(*w, s.id())); });
      return;
    }
    w->peek_.assign(w->keys.size(), 0);
    w->peek_pending_ = owners.size();
    for (shard::ShardId id : owners) {
      RunOn(*w, id, [w](shard::Shard& s) {
        storage::Db& db = s.db(w->db_index);
        int64_t now = UnixTimeMs();
        for (size_t i : AllKeysOf(*w, s.id())) {
          w->peek_[i] = static_cast<uint8_t>(w->Check(db, w->keys[i], now));
        }
        w->home_->Post([w] { PeekDone(w); });
      });
    }
  }

  // Home thread: one owner answered the peek.
  static void PeekDone(const WaitPtr& w) {
    if (--w->peek_pending_ > 0 || !w->waiting()) return;
    auto empty = static_cast<uint8_t>(BlockedWait::KeyState::kEmpty);
    size_t first = 0;
    while (first < w->keys.size() && w->peek_[first] == empty) ++first;
    if (first == w->keys.size() && w->nowait) {
      Timeout(w);  // Inside EXEC: no data now means none (the transaction holds the keys).
      return;
    }
    if (first == w->keys.size() || ++w->attempts_ > 3) {
      // Nothing to take anywhere (or the data keeps vanishing under us): file the wait with
      // every owner; a key filled since the peek is served as it is filed.
      for (shard::ShardId id : Owners(*w)) {
        RunOn(*w, id, [w](shard::Shard& s) { TryOrFile(s, w, AllKeysOf(*w, s.id())); });
      }
      return;
    }
    // Serve the first key with data, in argument order, as Redis does. If it emptied meanwhile,
    // peek again.
    shard::ShardId owner = OwnerOf(*w, w->keys[first]);
    RunOn(*w, owner, [w, first](shard::Shard& s) {
      if (!w->waiting()) return;
      storage::Db& db = s.db(w->db_index);
      if (w->Check(db, w->keys[first], UnixTimeMs()) == BlockedWait::KeyState::kEmpty) {
        w->home_->Post([w] { Start(w); });
        return;
      }
      TryOrFile(s, w, {first});
    });
  }

  // Owner shard: serves the wait from the first of `indexes` that holds data (or fails it on a
  // wrong type); if none does, files it under each of them.
  static void TryOrFile(shard::Shard& s, const WaitPtr& w, const std::vector<size_t>& indexes) {
    if (!w->waiting()) return;  // Timed out or gone before we got here.
    storage::Db& db = s.db(w->db_index);
    int64_t now = UnixTimeMs();
    KeyLocks& locks = ThisShardLocks();
    bool held = false;
    for (size_t i : indexes) {
      if (!w->nowait && locks.Locked(w->db_index, w->keys[i])) {
        // A transaction holds it: wait as if empty, and look again when it lets go.
        t_registry.HoldBack(w->db_index, w->keys[i]);
        held = true;
        continue;
      }
      BlockedWait::KeyState st = w->Check(db, w->keys[i], now);
      if (st == BlockedWait::KeyState::kEmpty) continue;
      if (!w->TryClaim()) return;
      if (st == BlockedWait::KeyState::kWrongType) {
        std::string out;
        protocol::ReplyBuilder(&out, w->resp).Error(Status::WrongType(), w->command);
        w->Deliver(std::move(out));
      } else {
        w->Serve(s, db, w->keys[i], now);
      }
      return;
    }
    if (w->nowait && !held) {
      if (!w->TryClaim()) return;
      std::string out;
      protocol::ReplyBuilder r(&out, w->resp);
      w->ReplyEmpty(r);
      w->Deliver(std::move(out));
      return;
    }
    for (size_t i : indexes) t_registry.Add(s, w->db_index, w->keys[i], w);
  }

  // Home thread: a reply (served or timed out) reached the client's thread.
  static void Finish(const WaitPtr& w, const std::string& reply) {
    Client* c = w->client_;
    if (w->timer_id_ != 0) w->home_->loop().CancelOnce(w->timer_id_);
    w->timer_id_ = 0;
    Forget(w);
    c->blocked.reset();
    ServerState::Get().blocked_clients--;
    if (!c->closed()) c->out().append(reply);
    c->in_flight--;
    c->AsyncDone();
  }

  // Home thread.
  static void Timeout(const WaitPtr& w) {
    w->timer_id_ = 0;
    int expected = BlockedWait::kWaiting;
    if (!w->state_.compare_exchange_strong(expected, BlockedWait::kCancelled)) return;
    std::string out;
    protocol::ReplyBuilder r(&out, w->resp);
    if (w->nowait) {
      w->ReplyEmpty(r);
    } else {
      w->ReplyTimeout(r);
    }
    Finish(w, out);
  }

  // Home thread.
  static void Cancel(Client& c) {
    WaitPtr w = c.blocked;
    int expected = BlockedWait::kWaiting;
    if (!w->state_.compare_exchange_strong(expected, BlockedWait::kCancelled)) {
      return;  // A reply is on its way; Finish() releases the client.
    }
    if (w->timer_id_ != 0) w->home_->loop().CancelOnce(w->timer_id_);
    w->timer_id_ = 0;
    Forget(w);
    c.blocked.reset();
    ServerState::Get().blocked_clients--;
    c.in_flight--;
  }

  // Home thread: every owner drops the wait from its queues.
  static void Forget(const WaitPtr& w) {
    for (shard::ShardId id : Owners(*w)) {
      RunOn(*w, id, [w](shard::Shard& s) {
        for (size_t i : AllKeysOf(*w, s.id())) t_registry.Remove(s, w->db_index, w->keys[i], w.get());
      });
    }
  }

  static shard::ShardId OwnerOf(const BlockedWait& w, std::string_view key) {
    return w.home_->shard_set().OwnerOf(key);
  }

  static std::vector<shard::ShardId> Owners(const BlockedWait& w) {
    std::vector<shard::ShardId> out;
    for (const std::string& k : w.keys) {
      shard::ShardId id = OwnerOf(w, k);
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    }
    return out;
  }

  static std::vector<size_t> AllKeysOf(const BlockedWait& w, shard::ShardId id) {
    std::vector<size_t> out;
    for (size_t i = 0; i < w.keys.size(); ++i) {
      if (OwnerOf(w, w.keys[i]) == id) out.push_back(i);
    }
    return out;
  }

  // Runs `fn` on shard `id`: inline when it is the home shard, else posted. Clients freed by
  // what `fn` does (none today) would be served by the ServeReady that follows.
  template <typename Fn>
  static void RunOn(const BlockedWait& w, shard::ShardId id, Fn fn) {
    shard::Shard& target = w.home_->shard_set().shard(id);
    if (&target == w.home_) {
      fn(target);
      t_registry.ServeReady(target);
      return;
    }
    target.Post([fn = std::move(fn), &target]() mutable {
      fn(target);
      t_registry.ServeReady(target);
    });
  }
};

void BlockedWait::Deliver(std::string reply) {
  home_->Post([self = shared_from_this(), reply = std::move(reply)] {
    BlockingDriver::Finish(self, reply);
  });
}

void Block(CommandContext& ctx, std::shared_ptr<BlockedWait> wait, int64_t timeout_ms) {
  Client* c = ctx.client();
  wait->client_ = c;
  wait->home_ = &ctx.shard();
  wait->db_index = ctx.db_index();
  wait->resp = c->resp;
  wait->nowait = c->in_exec;
  c->blocked = wait;
  ServerState::Get().blocked_clients++;
  c->in_flight++;
  ctx.Suspend();
  if (timeout_ms > 0) {
    wait->timer_id_ = wait->home_->loop().RunOnceAfter(
        timeout_ms, [wait] { BlockingDriver::Timeout(wait); });
  }
  BlockingDriver::Start(wait);
}

void CancelBlock(Client& client) {
  if (client.blocked != nullptr) BlockingDriver::Cancel(client);
}

void BlockingRegistry::Add(shard::Shard& shard, int db, const std::string& key,
                           std::shared_ptr<BlockedWait> wait) {
  if (dbs_.size() <= static_cast<size_t>(db)) dbs_.resize(db + 1);
  if (dbs_[db] == nullptr) dbs_[db] = std::make_unique<DbWaits>(DbWaits{this, db, {}});
  DbWaits* d = dbs_[db].get();
  if (d->by_key.empty()) shard.db(db).set_ready_hook(&BlockingRegistry::OnKeyReady, d);
  d->by_key[key].push_back(std::move(wait));
  filed_++;
}

void BlockingRegistry::Remove(shard::Shard& shard, int db, const std::string& key,
                              const BlockedWait* wait) {
  if (dbs_.size() <= static_cast<size_t>(db) || dbs_[db] == nullptr) return;
  DbWaits* d = dbs_[db].get();
  auto it = d->by_key.find(key);
  if (it == d->by_key.end()) return;
  auto& q = it->second;
  for (auto w = q.begin(); w != q.end(); ++w) {
    if (w->get() == wait) {
      q.erase(w);
      filed_--;
      break;
    }
  }
  if (q.empty()) {
    d->by_key.erase(it);
    if (d->by_key.empty()) shard.db(db).set_ready_hook(nullptr, nullptr);
  }
}

void BlockingRegistry::OnKeyReady(void* arg, std::string_view key) {
  auto* d = static_cast<DbWaits*>(arg);
  if (d->by_key.contains(absl::string_view(key.data(), key.size()))) d->registry->ready_.emplace_back(d->db, std::string(key));
}

void BlockingRegistry::ServeReadySlow(shard::Shard& shard) {
  while (!ready_.empty()) {
    std::vector<std::pair<int, std::string>> batch;
    batch.swap(ready_);
    for (auto& [db, key] : batch) {
      DbWaits* d = dbs_[db].get();
      auto it = d->by_key.find(key);
      if (it == d->by_key.end()) continue;
      storage::Db& sdb = shard.db(db);
      int64_t now = UnixTimeMs();
      auto& q = it->second;
      // Oldest first. A waiter that wants another type (BZPOPMIN on a list) keeps its place.
      for (size_t i = 0; i < q.size();) {
        if (!ThisShardLocks().idle() && ThisShardLocks().Locked(db, key)) {
          HoldBack(db, key);
          break;
        }
        std::shared_ptr<BlockedWait> w = q[i];
        if (!w->waiting()) {
          q.erase(q.begin() + static_cast<ptrdiff_t>(i));
          filed_--;
          continue;
        }
        if (sdb.Find(key, now, storage::kLookupNoTouch) == nullptr) break;  // All taken.
        if (w->Check(sdb, key, now) != BlockedWait::KeyState::kReady) {
          ++i;
          continue;
        }
        q.erase(q.begin() + static_cast<ptrdiff_t>(i));
        filed_--;
        if (w->TryClaim()) w->Serve(shard, sdb, key, now);
      }
      if (q.empty()) {
        d->by_key.erase(it);
        if (d->by_key.empty()) sdb.set_ready_hook(nullptr, nullptr);
      }
    }
  }
}

}  // namespace shoal::server
