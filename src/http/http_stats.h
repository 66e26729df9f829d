// Per-shard-thread HTTP counters for /metrics (read on their own thread, by message).
#pragma once

#include <cstdint>

#include "absl/container/flat_hash_map.h"

namespace shoal::http {

struct HttpThreadStats {
  uint64_t connections_accepted = 0;
  uint64_t requests = 0;
  absl::flat_hash_map<int, uint64_t> responses_by_status;

  void CountStatus(int status) {
    requests++;
    responses_by_status[status]++;
  }
};

HttpThreadStats& ThisThreadHttpStats();

}  // namespace shoal::http
