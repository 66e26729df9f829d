// ThreadState: per-shard-thread server state that is not keyspace data: the clients this thread
// serves, command statistics, and counters for INFO. thread_local, so each shard thread has its
// own and no locks are needed; INFO and CLIENT LIST visit every shard by message to read them.
#pragma once

#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/latency_histogram.h"

namespace shoal::server {

class Client;
struct CommandSpec;

struct CommandStat {
  uint64_t calls = 0;
  uint64_t nsec = 0;  // Total time; INFO's usec is nsec / 1000 (sub-microsecond calls add up).
  uint64_t rejected_calls = 0;
  uint64_t failed_calls = 0;
  LatencyHistogram latency;  // Of every call, for INFO latencystats and /metrics quantiles.

  // One call that took `ns`. The histogram keeps nanoseconds, so fast commands do not all read 0.
  void RecordCall(int64_t ns) {
    calls++;
    nsec += static_cast<uint64_t>(ns);
    latency.Record(static_cast<uint64_t>(ns));
  }
};

struct ThreadState {
  absl::flat_hash_set<Client*> clients;
  absl::flat_hash_map<const CommandSpec*, CommandStat> command_stats;
  absl::flat_hash_map<std::string, uint64_t> error_stats;  // "ERR" -> count.
  uint64_t total_commands = 0;
  uint64_t total_connections = 0;
  uint64_t rejected_connections = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
  uint64_t error_replies = 0;

  void ResetStats() {
    command_stats.clear();
    error_stats.clear();
    total_commands = total_connections = rejected_connections = 0;
    net_input_bytes = net_output_bytes = error_replies = 0;
  }

  static ThreadState& Get();
};

}  // namespace shoal::server
