#include "shard/shard_set.h"

#include <chrono>
#include <latch>
#include <thread>

namespace shoal::shard {

ShardSet::ShardSet(size_t num_shards, int num_dbs) {
  for (size_t i = 0; i < num_shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(static_cast<ShardId>(i), this, num_dbs));
  }
}

ShardSet::~ShardSet() { StopAndJoin(); }

void ShardSet::Start(std::function<void(Shard&)> init, std::function<void(Shard&)> fini) {
  // `fini` runs only once every shard has stopped running tasks: it may then free what tasks
  // still queued elsewhere point at (they will never run).
  auto stopped = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(shards_.size()));
  for (auto& s : shards_) {
    Shard* shard = s.get();
    threads_.emplace_back([shard, init, fini, stopped] {
      if (init) init(*shard);
      shard->Run();
      // Another shard may still be finishing a script that calls into this one (CallSync):
      // keep answering such calls until every shard has stopped.
      stopped->count_down();
      while (!stopped->try_wait()) {
        shard->ServeSyncCalls();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      shard->ServeSyncCalls();
      if (fini) fini(*shard);
      shard->RunDeferred();  // Frees what fini closed.
    });
  }
}

void ShardSet::StopAndJoin() {
  for (auto& s : shards_) s->Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void ShardSet::Broadcast(const std::function<void(Shard&)>& fn) {
  for (auto& s : shards_) {
    Shard* shard = s.get();
    shard->Post([shard, fn] { fn(*shard); });
  }
}

}  // namespace shoal::shard
