// Shard: one thread, its event loop, its inbox, and the slice of the keyspace it owns.
//
// Shared-nothing: only the owning thread touches a shard's databases. Other threads reach them
// by posting a task to the shard's inbox (Post), which the shard runs on its own thread, in
// order of arrival. A task that wants an answer posts another task back to its sender; no
// thread ever waits for another.
//
// Wake-up: a shard about to sleep in epoll_wait sets `sleeping_`; a producer that finds it set
// writes the shard's eventfd. A busy shard takes tasks without any system call.
//
// Coalescing: a task posted from one shard thread to another does not leave at once. It waits in
// the sender's outbox for that target until the sender finishes its current loop iteration, and
// then all of them travel as one message with at most one wake-up. Without this, a sender that
// wakes a sleeping peer is often preempted by it on the spot (the scheduler favours the sleeper),
// and two shards ping-pong one message per context switch.
#pragma once

#include <absl/functional/any_invocable.h>
#include <absl/functional/function_ref.h>

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

  // Thread-safe: runs `task` on this shard's thread. Tasks from one thread to one shard run in
  // the order they were posted.
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
  // Runs what RunAfterEvents() queued, until nothing is; for the shutdown path, after the loop
  // has stopped.
  void RunDeferred();
  // Thread-safe: asks the loop to exit after its current iteration.
  void Stop();

  // Runs `fn` on `target`'s thread and returns once it has run: the one exception to "never wait
  // for another thread", for scripts that span shards and hold transaction locks on everything
  // `fn` touches (see server/transaction.h). While waiting, this thread runs the calls other
  // threads make to it the same way, so threads calling each other cannot deadlock; it runs
  // nothing else. Call from a shard thread; `target` is another shard.
  void CallSync(Shard& target, absl::FunctionRef<void()> fn);
  // Runs the sync calls waiting for this shard; for the shutdown path, after the loop stopped.
  void ServeSyncCalls() { RunSyncCalls(); }

  // Runs on every shard thread at the end of each loop turn, before the turn's messages leave
  // (the append-only file pushes the writes of the turn first: server/log_acks.h). Set before
  // the shards start, or while they run (a relaxed store; the next turn sees it).
  using TurnHook = void (*)(Shard&);
  static void SetTurnHook(TurnHook hook) { turn_hook_.store(hook, std::memory_order_release); }

  // Counters for INFO (owner thread writes; read via tasks on the owner thread).
  uint64_t tasks_run() const { return tasks_run_; }

 private:
  struct TaskNode : MpscNode {
    explicit TaskNode(Task t) : task(std::move(t)) {}
    explicit TaskNode(std::vector<Task> ts) : tasks(std::move(ts)) {}
    Task task;                // A single task...
    std::vector<Task> tasks;  // ...or a coalesced batch (when `task` is empty).
  };

  struct SyncCall : MpscNode {
    SyncCall(absl::FunctionRef<void()> f, Shard* c) : fn(f), caller(c) {}
    absl::FunctionRef<void()> fn;
    Shard* caller;
    std::atomic<bool> done{false};
  };
  void RunSyncCalls();
  // One pass: what was queued before the call (the loop runs this once per turn).
  void RunDeferredOnce();

  void Enqueue(TaskNode* node);
  // Sends every outbox's tasks to its shard, one message each.
  void FlushOutboxes();

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
  MpscQueue sync_calls_;
  // Bumped (and waited on) when a sync call arrives for this shard or one it made is done.
  std::atomic<uint32_t> sync_seq_{0};
  std::vector<std::unique_ptr<storage::Db>> dbs_;
  std::vector<Task> deferred_;
  std::vector<std::vector<Task>> outbox_;  // Per target shard id; owner thread only.
  std::vector<ShardId> outbox_dirty_;
  uint64_t tasks_run_ = 0;
  static inline std::atomic<TurnHook> turn_hook_{nullptr};
  void EndTurn() {
    if (TurnHook h = turn_hook_.load(std::memory_order_acquire)) h(*this);
  }
  int expire_db_cursor_ = 0;
};

}  // namespace shoal::shard
