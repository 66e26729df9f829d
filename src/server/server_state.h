// ServerState: process-wide facts commands need: configuration, the shard set, start time,
// client ids, and the shutdown request. Set once at start-up.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

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

  static ServerState& Get();
};

}  // namespace shoal::server
