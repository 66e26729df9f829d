// ShardSet: all shards, their threads, and the rule that maps a key to its owner.
#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "common/hash.h"
#include "shard/shard.h"

namespace shoal::shard {

class ShardSet {
 public:
  ShardSet(size_t num_shards, int num_dbs);
  ~ShardSet();

  size_t size() const { return shards_.size(); }
  Shard& shard(ShardId id) { return *shards_[id]; }

  // The shard that owns `key`: a fast hash of the key, modulo the shard count. (The hash's
  // high bits choose the shard; a shard's Dict uses the low bits, so the two stay independent.)
  // With one shard there is nothing to choose, and no hash to compute on every command.
  ShardId OwnerOf(std::string_view key) const {
    if (shards_.size() == 1) return 0;
    return static_cast<ShardId>(((HashKey(key) >> 32) * shards_.size()) >> 32);
  }

  // Starts one thread per shard. On each shard's thread, `init(shard)` runs before the loop and
  // `fini(shard)` after it stops (to close that thread's connections).
  void Start(std::function<void(Shard&)> init = {}, std::function<void(Shard&)> fini = {});
  // Asks every shard to stop and joins the threads. Call from outside the shard threads.
  void StopAndJoin();

  // Runs `fn` on every shard (each on its own thread).
  void Broadcast(const std::function<void(Shard&)>& fn);

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
};

}  // namespace shoal::shard
