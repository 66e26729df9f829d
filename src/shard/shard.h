// Shard: one thread, its event loop, its inbox, and the slice of the keyspace it owns.
//
// Shared-nothing: only the owning thread touches a shard's databases. Other threads reach them
// by posting a task to the shard's inbox (Post), which the shard runs on its own thread, in
// order of arrival. A task that wants an answer posts another task back to its sender; no
// thread ever waits for another.
//
// Wake-up: a shard about to sleep in epoll_wait sets `sleeping_`; a producer that finds it set
// writes the shard's eventfd. A busy shard takes tasks without any system call.
#pragma once

#include <absl/functional/any_invocable.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "shard/event_loop.h"
#include "shard/mpsc_queue.h"
#include "storage/db.h"

namespace shoal::shard {

using ShardId = uint32_t;
class ShardSet;

class Shard : private Watcher {
 public:
  using Task = absl::AnyInvocable<void()>;

  Shard(ShardId id, ShardSet* set, int num_dbs);
  ~Shard() override;

  ShardId id() const { return id_; }
  ShardSet& shard_set() { return *set_; }
  EventLoop& loop() { return loop_; }

  // Thread-safe: runs `task` on this shard's thread.
  void Post(Task task);

  // Owner thread only.
  storage::Db& db(int index) { return *dbs_[index]; }
  int num_dbs() const { return static_cast<int>(dbs_.size()); }
  bool IsCurrentThread() const { return Current() == this; }
  // The shard whose thread is running, or nullptr off shard threads.
  static Shard* Current();

  // Runs `fn` after the current loop iteration's events are handled: lets an object that may
  // still be referenced by pending epoll events (a closed connection) be freed safely.
  void RunAfterEvents(Task fn) { deferred_.push_back(std::move(fn)); }

  // Thread body: runs the loop until Stop() is observed.
  void Run();
  // Thread-safe: asks the loop to exit after its current iteration.
  void Stop();

  // Counters for INFO (owner thread writes; read via tasks on the owner thread).
  uint64_t tasks_run() const { return tasks_run_; }

 private:
  struct TaskNode : MpscNode {
    explicit TaskNode(Task t) : task(std::move(t)) {}
    Task task;
  };

  void OnEvents(uint32_t events) override;  // The eventfd fired.
  // Runs up to `budget` queued tasks; returns true if more may be waiting.
  bool DrainInbox(size_t budget);
  void ActiveExpireCycle();

  ShardId id_;
  ShardSet* set_;
  EventLoop loop_;
  int wake_fd_;
  MpscQueue inbox_;
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_{false};
  std::vector<std::unique_ptr<storage::Db>> dbs_;
  std::vector<Task> deferred_;
  uint64_t tasks_run_ = 0;
  int expire_db_cursor_ = 0;
};

}  // namespace shoal::shard
