// ServerState: process-wide facts commands need: configuration, the shard set, start time,
// client ids, and the shutdown request. Set once at start-up.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "server/change_counters.h"
#include "server/config.h"
#include "shard/shard_set.h"

namespace shoal::server {

struct ServerState {
  Config config;
  shard::ShardSet* shards = nullptr;
  int64_t start_time_us = 0;
  std::string run_id;  // 40 hex characters, as Redis's.
  std::string executable;
  std::string config_file;
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<int64_t> lastsave_unix{0};
  std::atomic<int64_t> connected_clients{0};
  std::atomic<int64_t> blocked_clients{0};  // Parked by a blocking command (blocking.h).
  // Set by main: asks the process to shut down (SHUTDOWN). Thread-safe.
  std::function<void()> request_shutdown;
  // Set before request_shutdown when no save is due at exit (SHUTDOWN NOSAVE, or it saved).
  std::atomic<bool> shutdown_skip_save{false};
  // Snapshots (src/snapshot): write commands run, per shard, and whether the last background
  // save failed (with stop-writes-on-bgsave-error, writes are then refused: MISCONF).
  ChangeCounters changes;
  std::atomic<bool> last_bgsave_failed{false};
  // The append-only file cannot be written (disk full, read-only...): writes are refused with
  // "MISCONF Errors writing to the AOF file: <why>" until it can. Set by the AOF's cron.
  std::atomic<bool> aof_write_failed{false};
  void SetAofWriteError(std::string why);
  // The error a write command gets now, or "" (one or two relaxed loads when all is well).
  std::string WriteRefusal() const;

  static ServerState& Get();

 private:
  mutable std::mutex aof_error_mu_;
  std::string aof_write_error_;
};

}  // namespace shoal::server
