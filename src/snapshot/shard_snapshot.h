// ShardSnapshot: one shard's share of a snapshot, serialized on the shard's own thread while it
// keeps serving clients. No fork and no copy of the keyspace:
//
//   Begin()      every Db of the shard flips its snapshot parity: all keys become "unsaved" in
//                O(1) (storage/db.h); keys added from now on are born "saved" (not in the image)
//   Step()       walks the Dbs bucket by bucket (the SCAN cursor, stable across rehashing),
//                serializing unsaved keys into chunks, for about a millisecond per loop
//                iteration, then lets the loop serve its clients again
//   a write      the Db hands the key to Save() before anyone can read, change or delete it, so
//                the key goes into the image as it was when the snapshot began
//   done         the walk has covered every bucket: the Dbs leave snapshot mode and the file is
//                told this producer is finished
//
// So the image is the shard's state at Begin(), and the extra memory is the chunks on their way
// to the disk: bounded by pausing the walk while the file writer lags (kMaxQueuedBytes), plus
// whatever writes force out early.
//
// Thread: the shard's thread only (created elsewhere, before Begin()).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persist/snapshot_file.h"
#include "shard/shard.h"
#include "storage/db.h"

namespace shoal::snapshot {

class ShardSnapshot {
 public:
  // `foreground`: SAVE and SHUTDOWN, walked with a longer slice per loop iteration.
  // `compress`: LZF for long strings (rdbcompression). `lru`: an LRU maxmemory-policy, under
  // which Redis records each key's idle time (under LFU its access counter: always done).
  ShardSnapshot(shard::Shard& shard, persist::SnapshotFile* file, bool foreground, bool compress,
                bool lru);
  ShardSnapshot(const ShardSnapshot&) = delete;
  ShardSnapshot& operator=(const ShardSnapshot&) = delete;

  void Begin(int64_t now_ms);
  bool finished() const { return finished_; }
  // After the shard's loop has stopped for good (shutdown): leave snapshot mode without writing.
  void Abandon();

  // Any thread (INFO): keys written so far.
  uint64_t keys_saved() const { return keys_saved_.load(std::memory_order_relaxed); }

 private:
  // The Db's hook: serializes one key of database `index`.
  class DbSaver final : public storage::SnapshotSaver {
   public:
    DbSaver(ShardSnapshot* owner, int index) : owner_(owner), index_(index) {}
    void Save(storage::Entry* e) override { owner_->SaveEntry(index_, e); }

   private:
    ShardSnapshot* owner_;
    int index_;
  };

  void ScheduleStep();
  void Step();
  void SaveEntry(int db, storage::Entry* e);
  void FlushChunk();
  void Finish();

  shard::Shard& shard_;
  persist::SnapshotFile* file_;
  bool foreground_;
  bool compress_;
  bool lru_;
  std::vector<std::unique_ptr<DbSaver>> savers_;
  int64_t start_ms_ = 0;
  int db_ = 0;          // The Db being walked...
  uint64_t cursor_ = 0; // ...and where.
  std::string chunk_;
  int chunk_db_ = -1;   // The database chunk_ has selected, -1 when it is empty.
  std::atomic<uint64_t> keys_saved_{0};  // Written by the shard only; read by INFO.
  bool finished_ = false;
};

}  // namespace shoal::snapshot
