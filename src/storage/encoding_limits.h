// Where small collections switch from their compact encoding to the large one: Redis's
// *-max-listpack-* and set-max-intset-entries parameters. CONFIG SET stores straight into these
// atomics (server/config.cc points its parameters at them); collection code reads them with
// relaxed loads on any shard thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace shoal::storage {

struct EncodingLimits {
  // Positive: entries per quicklist node; -1..-5: node size 4KB..64KB.
  std::atomic<int64_t> list_max_listpack_size{-2};
  std::atomic<int64_t> list_compress_depth{0};
  std::atomic<int64_t> hash_max_listpack_entries{512};  // Debian's redis-server 7.0 says 512.
  std::atomic<int64_t> hash_max_listpack_value{64};
  std::atomic<int64_t> set_max_intset_entries{512};
  std::atomic<int64_t> zset_max_listpack_entries{128};
  std::atomic<int64_t> zset_max_listpack_value{64};
  std::atomic<int64_t> hll_sparse_max_bytes{3000};
};

// The process-wide limits.
inline EncodingLimits& Limits() {
  static EncodingLimits limits;
  return limits;
}

inline int64_t Limit(const std::atomic<int64_t>& v) { return v.load(std::memory_order_relaxed); }

}  // namespace shoal::storage
