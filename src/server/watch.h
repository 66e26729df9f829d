// WATCH: optimistic locking for MULTI/EXEC.
//
// A client's watch is one WatchState shared with the shards that own its watched keys. Each
// owner files it per key (WatchRegistry, one per shard thread) and sets `dirty` when a write
// touches the key: after every write command that names it, when a transaction holding it
// exclusively releases it, and when FLUSHDB/FLUSHALL empties a database that holds it. EXEC reads
// `dirty` only once it holds (shared) locks on every watched key, so no write can slip in between
// the check and the transaction. A key that existed at WATCH time and has expired by EXEC makes
// EXEC fail too, as in Redis 7.0 (checked by the owner while the lock is held).
//
// Thread: WatchState::dirty is set on owner threads and read on the client's home thread;
// everything else belongs to one thread as noted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "storage/db.h"

namespace shoal::server {

struct WatchState {
  std::atomic<bool> dirty{false};
};

// The client's side (home thread): what it watches.
struct WatchSet {
  std::shared_ptr<WatchState> state = std::make_shared<WatchState>();
  std::vector<std::pair<int, std::string>> keys;  // (db, key), each once.
};

// Per shard thread: watches filed on this shard's keys.
class WatchRegistry {
 public:
  void Watch(int db, std::string_view key, std::shared_ptr<WatchState> state, bool existed);
  void Unwatch(int db, std::string_view key, const WatchState* state);
  // Marks every watch of `key` dirty.
  void Touch(int db, std::string_view key) {
    if (!dbs_.empty()) TouchSlow(db, key);
  }
  // FLUSHDB / FLUSHALL: marks the watches of keys that exist in `db` before it is emptied.
  void TouchExisting(int db, storage::Db& data, int64_t now_ms);
  // EXEC, with the key locked: true if `state`'s watch of `key` is dirty, or the key existed at
  // WATCH time and is gone (expired) now.
  bool Changed(int db, std::string_view key, const WatchState& state, storage::Db& data,
               int64_t now_ms);
  bool empty() const { return watched_ == 0; }
  // Any thread: does any client watch any key anywhere? (Lets writers skip touching.)
  static bool AnyWatched() { return total_.load(std::memory_order_acquire) > 0; }

 private:
  struct Watcher {
    std::shared_ptr<WatchState> state;
    bool existed;
  };
  void TouchSlow(int db, std::string_view key);

  std::vector<absl::flat_hash_map<std::string, std::vector<Watcher>>> dbs_;
  size_t watched_ = 0;
  static std::atomic<int64_t> total_;
};

WatchRegistry& ThisShardWatches();

}  // namespace shoal::server
