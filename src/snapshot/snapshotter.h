// Snapshotter: the process's snapshots (SAVE, BGSAVE, save points, SHUTDOWN): at most one at a
// time, each a consistent image of every shard, written without fork and without pausing the
// server.
//
//   Start(home)  opens the file (persist/snapshot_file.h), then a transaction holding every shard
//                (shared) visits the shards in ascending order and begins each shard's share
//                (shard_snapshot.h) the moment its lock is granted. Holding shard 0..k while
//                shard k+1 begins means no multi-shard transaction can be half-applied across
//                the beginnings: the image is one point in time for every MULTI/EXEC, MSET, RENAME
//                across shards. The locks are released as soon as every share has begun.
//   shards       serialize their keys while serving; the file writer thread writes them.
//   done         the writer renamed the file into place; results (LASTSAVE, status, changes
//                since the last save) are recorded, and the callers are answered on their
//                threads.
//
// Thread: Start from shard threads; Info from any thread; the shutdown calls from main.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "persist/snapshot_file.h"
#include "shard/shard.h"
#include "snapshot/shard_snapshot.h"

namespace shoal::snapshot {

enum class SaveKind {
  kBackground,  // BGSAVE, save points: small slices, clients barely notice.
  kForeground,  // SAVE, SHUTDOWN: the caller waits; bigger slices.
};

struct SnapshotInfo {
  bool in_progress = false;
  int64_t current_start_unix = 0;
  int64_t last_save_unix = 0;
  bool last_ok = true;
  int64_t last_duration_sec = -1;
  int64_t saves = 0;
  int64_t changes_since_last_save = 0;
  int64_t last_load_keys_loaded = 0;
  int64_t last_load_keys_expired = 0;
  uint64_t keys_processed = 0;  // Of the running snapshot, as far as known.
};

class Snapshotter {
 public:
  using Done = std::function<void(const Status&)>;

  static Snapshotter& Get();

  // Shard thread. Starts a snapshot; `done` runs on `home`'s thread when it is on disk (or
  // failed). If one is running: with `queue_if_running` a new one starts after it (SHUTDOWN
  // needs an image of now), else the error "Background save already in progress".
  Status Start(shard::Shard& home, SaveKind kind, Done done, bool queue_if_running = false);
  bool in_progress() const { return running_.load(std::memory_order_acquire); }
  // BGSAVE SCHEDULE and BGSAVE inside MULTI: start one as soon as none is running.
  void Schedule() { scheduled_.store(true, std::memory_order_relaxed); }

  // Main, after loading at start-up.
  void RecordLoad(int64_t loaded, int64_t expired, int64_t now_unix);

  SnapshotInfo Info() const;
  // Shard 0's timer: save points and scheduled saves.
  void Cron(shard::Shard& shard);

  // Main thread, shutting down, before the shards stop: saves and waits. Returns its status.
  Status SaveForShutdown(shard::ShardSet& shards);
  // Main thread, after the shards stopped: drops a snapshot still running (its temp file goes).
  void AbandonAfterStop(shard::ShardSet& shards);

 private:
  struct Run;
  int64_t TotalChanges() const;
  void Finished(Run* run, const persist::SnapshotResult& result);

  std::atomic<bool> running_{false};
  std::atomic<bool> scheduled_{false};
  std::atomic<bool> abandoning_{false};

  mutable std::mutex mu_;  // Guards what follows: touched a few times per snapshot, never per key.
  Run* current_ = nullptr;
  std::vector<std::pair<shard::Shard*, Done>> waiting_;  // Queued behind the current run.
  SaveKind waiting_kind_ = SaveKind::kForeground;
  int64_t changes_at_last_save_ = 0;
  int64_t last_save_unix_ = 0;
  int64_t last_try_unix_ = 0;
  bool last_ok_ = true;
  int64_t last_duration_sec_ = -1;
  int64_t saves_ = 0;
  int64_t load_loaded_ = 0;
  int64_t load_expired_ = 0;
};

}  // namespace shoal::snapshot
