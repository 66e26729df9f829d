// AofManager: the append-only file (Redis 7's multi-part AOF: appendonlydir/ with a base file, incr
// files and a manifest), from start-up to shutdown.
//
//   start-up      base (an RDB, loaded like a snapshot) + incr files replayed through the
//                 dispatcher (aof_replay.h); a truncated tail is cut off (aof-load-truncated)
//   running       shards log their writes (server/write_log.h) and push them at the end of each
//                 loop turn to the AofWriter (aof/aof_writer.h: group commit, fsync policy);
//                 replies wait for the writer's acknowledgement (server/log_acks.h)
//   BGREWRITEAOF  a snapshot into a new base file (no fork), begun while every shard is held
//   / automatic   exclusively for an instant, at which the log switches to a new incr file: the
//                 new base + the new incr are exactly the state; then the manifest names them
//                 and the old files go
//
// Thread: start-up and shutdown calls from main; Rewrite and Cron from shard threads; Info from
// any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "aof/aof_manifest.h"
#include "aof/aof_writer.h"
#include "common/status.h"
#include "shard/shard_set.h"

namespace shoal::durability {

struct AofInfo {
  bool enabled = false;
  bool rewrite_in_progress = false;
  bool rewrite_scheduled = false;
  int64_t last_rewrite_sec = -1;
  int64_t current_rewrite_sec = -1;
  bool last_rewrite_ok = true;
  int64_t rewrites = 0;
  int64_t rewrite_failures = 0;  // Consecutive.
  bool last_write_ok = true;
  uint64_t current_size = 0;
  uint64_t base_size = 0;
  uint64_t buffer_length = 0;
  uint64_t delayed_fsync = 0;
};

class AofManager {
 public:
  static AofManager& Get();

  // Main, before the shards start, with appendonly yes: loads the base file into the shards and
  // reads the incr files (kept for ReplayIncrs). No AOF yet: nothing is loaded (as Redis 7, which
  // then ignores dump.rdb), and StartLogging creates the files.
  Status LoadBase(shard::ShardSet& shards, int64_t* keys_loaded);
  // Main, shards running, no listener open yet: replays what LoadBase read.
  Status ReplayIncrs(shard::ShardSet& shards);
  // Main, after the replay (or CONFIG SET appendonly yes, from a shard thread): opens the incr
  // file, creating base + incr + manifest when there are none, and starts logging.
  Status StartLogging(shard::ShardSet& shards);
  // Shutdown, after the shards stopped: flushes and closes the file.
  Status StopLogging();
  // CONFIG SET appendonly yes while running: a rewrite makes the base of what is there now, and
  // logging starts at its cut.
  Status EnableAtRuntime(shard::Shard& home);
  // CONFIG SET appendonly no: stops logging (the file stays open and flushes what was logged).
  void DisableAtRuntime();
  bool logging() const { return writer_ != nullptr; }

  // BGREWRITEAOF. `done` runs on `home`'s thread.
  Status Rewrite(shard::Shard& home, std::function<void(const Status&)> done);
  void ScheduleRewrite() {
    std::lock_guard<std::mutex> l(mu_);
    rewrite_scheduled_ = true;
  }
  // Shard 0's timer: automatic rewrites (auto-aof-rewrite-percentage / -min-size) and scheduled
  // ones.
  void Cron(shard::Shard& shard);
  void SetFsyncPolicy(std::string_view policy);

  AofInfo Info() const;
  // MISCONF "Errors writing to the AOF file: ..." while writes fail (empty when fine).
  std::string WriteError() const;

 private:
  std::string DirPath() const;
  std::string FileName() const;
  Status WriteEmptyBase(const std::string& name);
  // mu_ held. Opens the writer on `path` and makes the shards log into it.
  Status OpenWriter(const std::string& path);
  // mu_ held. A snapshot into a new base file; at its cut, `at_cut` runs with every shard held.
  Status StartBaseSnapshot(shard::Shard& home, aof::AofManifest after, const std::string& base,
                           std::function<void()> at_cut,
                           std::function<void(const Status&)> done);
  void RewriteDone(const Status& status, aof::AofManifest after);

  mutable std::mutex mu_;  // Guards the manifest and rewrite state (a few times per rewrite).
  aof::AofManifest manifest_;
  std::unique_ptr<aof::AofWriter> writer_;
  std::atomic<aof::AofWriter*> writer_ptr_{nullptr};  // For the sink functions.
  std::string pending_data_;  // Incr files read by LoadBase, replayed by ReplayIncrs.
  bool rewriting_ = false;
  bool rewrite_scheduled_ = false;
  int64_t rewrite_start_ms_ = 0;
  int64_t last_rewrite_sec_ = -1;
  bool last_rewrite_ok_ = true;
  int64_t rewrites_ = 0;
  int64_t rewrite_failures_ = 0;
  uint64_t base_size_ = 0;
};

}  // namespace shoal::durability
