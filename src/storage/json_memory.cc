#include "storage/json_memory.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "json/value.h"

namespace shoal::storage {
namespace {

// One cache line per thread: the owner adds with relaxed stores, readers only load.
struct alignas(64) Counter {
  std::atomic<int64_t> bytes{0};
};

struct Registry {
  std::mutex mu;
  std::vector<Counter*>
      counters;  // Never shrinks: a counter outlives its thread (sums stay right).
};

Registry& TheRegistry() {
  static Registry* r = new Registry();  // Leaked: threads may count during static teardown.
  return *r;
}

Counter& ThisThreadCounter() {
  thread_local Counter* c = [] {
    auto* fresh = new Counter();
    Registry& r = TheRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.counters.push_back(fresh);
    return fresh;
  }();
  return *c;
}

}  // namespace

void AddJsonBytes(int64_t delta) {
  if (delta == 0) return;
  std::atomic<int64_t>& b = ThisThreadCounter().bytes;
  b.store(b.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

int64_t TotalJsonBytes() {
  Registry& r = TheRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  int64_t sum = 0;
  for (const Counter* c : r.counters) sum += c->bytes.load(std::memory_order_relaxed);
  sum += json::TotalHeapBytes();
  return sum < 0 ? 0 : sum;
}

}  // namespace shoal::storage
