#include "storage/lazy_free.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "storage/json_object.h"

namespace shoal::storage {

namespace {

// One background thread with a locked queue: only this thread and the shards that hand values
// over ever touch the lock, and a handover is a push of 16 bytes; no shard waits for a free.
class Freer {
 public:
  Freer() : thread_([this] { Loop(); }) { thread_.detach(); }

  void Push(Value v) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(v));
      ++pushed_;
    }
    cv_.notify_one();
  }

  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    uint64_t target = pushed_;
    done_cv_.wait(lock, [&] { return freed_ >= target; });
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return !queue_.empty(); });
      Value v = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      { Value dying = std::move(v); }  // The slow part, outside the lock.
      lock.lock();
      ++freed_;
      done_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  std::deque<Value> queue_;
  uint64_t pushed_ = 0;
  uint64_t freed_ = 0;
  std::thread thread_;
};

Freer& TheFreer() {
  static Freer* freer = new Freer();  // Never destroyed: its thread may outlive static teardown.
  return *freer;
}

}  // namespace

bool WorthFreeingLazily(const Value& v) {
  if (v.is_string()) return false;
  // A JSON document is many small blocks: worth the handover only when it is big.
  // Its accounted size is O(1) to read, where heap_bytes() would walk the tree.
  if (v.type() == ValueType::kJson) return JsonOf(v).accounted > 64 * 1024;
  ObjectEncoding e = v.object_encoding();
  return e != ObjectEncoding::kListpack && e != ObjectEncoding::kIntset;
}

void FreeLazily(Value v) { TheFreer().Push(std::move(v)); }

void DrainLazyFree() { TheFreer().Drain(); }

}  // namespace shoal::storage
