// ServerState: process-wide facts commands need: configuration, the shard set, start time,
// client ids, and the shutdown request. Set once at start-up.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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
  // Write commands are refused with MISCONF (checked per write: one relaxed load when saving
  // works).
  bool RefuseWritesAfterSaveError() const;

  static ServerState& Get();
};

}  // namespace shoal::server
