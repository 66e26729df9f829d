// ChangeCounters: how many write commands each shard has run, for snapshots' save points and
// INFO's rdb_changes_since_last_save (Redis's `dirty`). One counter per shard on its own cache
// line, written only by its shard: counting a write costs a plain increment, no shared atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace shoal::server {

class ChangeCounters {
 public:
  // Before the shards start.
  void Resize(size_t shards) {
    counters_ = std::make_unique<Counter[]>(shards);
    size_ = shards;
  }
  // The shard's own thread.
  void Count(size_t shard) {
    if (shard >= size_) return;
    std::atomic<int64_t>& c = counters_[shard].value;
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  // Any thread: the sum so far (each shard's part as of a recent moment).
  int64_t Total() const {
    int64_t sum = 0;
    for (size_t i = 0; i < size_; ++i) sum += counters_[i].value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Counter {
    std::atomic<int64_t> value{0};
  };
  std::unique_ptr<Counter[]> counters_;
  size_t size_ = 0;
};

}  // namespace shoal::server
