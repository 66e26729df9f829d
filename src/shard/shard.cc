#include "shard/shard.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/logging.h"
#include "shard/shard_set.h"

namespace shoal::shard {

namespace {
thread_local Shard* t_current_shard = nullptr;

// Active expiry, as Redis's cycle: sample keys with a deadline, delete the expired ones, and go
// on while more than a quarter of a sample had expired, within a time budget per call.
constexpr size_t kExpireSampleSize = 20;
constexpr int64_t kExpireBudgetUs = 2500;  // 25% of a 10 ms tick at hz 10, spread over ticks.
constexpr int64_t kCronIntervalMs = 100;   // hz 10
}  // namespace

Shard::Shard(ShardId id, ShardSet* set, int num_dbs) : id_(id), set_(set) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop_.Add(wake_fd_, EPOLLIN, this);
  for (int i = 0; i < num_dbs; ++i) dbs_.push_back(std::make_unique<storage::Db>());
  loop_.AddTimer(kCronIntervalMs, [this] { ActiveExpireCycle(); });
}

Shard::~Shard() {
  // Tasks still queued at shutdown are dropped; their senders are gone too.
  while (MpscNode* n = inbox_.Pop()) delete static_cast<TaskNode*>(n);
  close(wake_fd_);
}

Shard* Shard::Current() { return t_current_shard; }

void Shard::Post(Task task) {
  Shard* sender = Current();
  if (sender != nullptr && sender != this) {
    if (sender->outbox_.size() <= id_) sender->outbox_.resize(id_ + 1);
    std::vector<Task>& box = sender->outbox_[id_];
    if (box.empty()) sender->outbox_dirty_.push_back(id_);
    box.push_back(std::move(task));
    return;
  }
  Enqueue(new TaskNode(std::move(task)));
}

void Shard::FlushOutboxes() {
  if (outbox_dirty_.empty()) return;
  std::vector<ShardId> dirty;
  dirty.swap(outbox_dirty_);
  for (ShardId target : dirty) {
    std::vector<Task> batch;
    batch.swap(outbox_[target]);
    Shard& peer = set_->shard(target);
    if (batch.size() == 1) {
      peer.Enqueue(new TaskNode(std::move(batch[0])));
    } else {
      peer.Enqueue(new TaskNode(std::move(batch)));
    }
  }
}

void Shard::Enqueue(TaskNode* node) {
  inbox_.Push(node);
  // Pairs with the fence in Run(): either we see the consumer's `sleeping_`, or it sees our push.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // Only the producer that flips `sleeping_` pays for the system call.
  if (sleeping_.load(std::memory_order_seq_cst) && sleeping_.exchange(false)) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
}

void Shard::OnEvents(uint32_t) {
  uint64_t value;
  while (read(wake_fd_, &value, sizeof(value)) > 0) {
  }
}

bool Shard::DrainInbox(size_t budget) {
  while (budget-- > 0) {
    MpscNode* n = inbox_.Pop();
    if (n == nullptr) return inbox_.MaybeNonEmpty();
    auto* node = static_cast<TaskNode*>(n);
    if (node->task) {
      node->task();
      ++tasks_run_;
    } else {
      for (Task& t : node->tasks) t();
      tasks_run_ += node->tasks.size();
    }
    delete node;
  }
  return true;
}

void Shard::Run() {
  t_current_shard = this;
  while (!stop_.load(std::memory_order_acquire)) {
    bool more = DrainInbox(1024);
    EndTurn();
    FlushOutboxes();  // Replies produced by the tasks just run.
    int wait = 0;
    if (!more && deferred_.empty()) {
      // Announce the sleep, then look once more: a producer either sees the flag and wakes
      // us, or pushed before we looked and we see its task.
      sleeping_.store(true, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (inbox_.MaybeNonEmpty()) {
        sleeping_.store(false, std::memory_order_relaxed);
      } else {
        wait = -1;
      }
    }
    loop_.RunOnce(wait);
    sleeping_.store(false, std::memory_order_relaxed);
    RunDeferredOnce();
    EndTurn();
    FlushOutboxes();  // Work this iteration's events sent to other shards.
  }
  EndTurn();
  FlushOutboxes();
  DrainInbox(SIZE_MAX);
  EndTurn();
  t_current_shard = nullptr;
}

void Shard::CallSync(Shard& target, absl::FunctionRef<void()> fn) {
  SyncCall call(fn, this);
  target.sync_calls_.Push(&call);
  target.sync_seq_.fetch_add(1, std::memory_order_acq_rel);
  target.sync_seq_.notify_all();  // The target may itself be waiting in CallSync...
  target.Enqueue(new TaskNode([&target] { target.RunSyncCalls(); }));  // ...or in its loop.
  for (;;) {
    uint32_t seq = sync_seq_.load(std::memory_order_acquire);
    RunSyncCalls();
    if (call.done.load(std::memory_order_acquire)) return;
    sync_seq_.wait(seq, std::memory_order_acquire);
  }
}

void Shard::RunSyncCalls() {
  while (MpscNode* n = sync_calls_.Pop()) {
    auto* call = static_cast<SyncCall*>(n);
    call->fn();
    Shard* caller = call->caller;
    call->done.store(true, std::memory_order_release);  // `call` may be gone after this.
    caller->sync_seq_.fetch_add(1, std::memory_order_acq_rel);
    caller->sync_seq_.notify_all();
  }
}

void Shard::RunDeferredOnce() {
  // Only what was queued before this call: a task that queues another (a snapshot's next slice)
  // lets the loop serve its events first. The loop does not sleep while some are queued.
  std::vector<Task> run;
  run.swap(deferred_);
  for (Task& t : run) t();
}

void Shard::RunDeferred() {
  while (!deferred_.empty()) RunDeferredOnce();
}

void Shard::Stop() {
  stop_.store(true, std::memory_order_release);
  Post([] {});  // Wakes the loop.
}

void Shard::ActiveExpireCycle() {
  int64_t start = MonotonicUs();
  int64_t now_ms = UnixTimeMs();
  for (int i = 0; i < num_dbs(); ++i) {
    storage::Db& db = *dbs_[(expire_db_cursor_ + i) % num_dbs()];
    db.RehashSome(100);
    if (db.expires_size() == 0) continue;
    while (db.ExpireSample(now_ms, kExpireSampleSize) > kExpireSampleSize / 4) {
      if (MonotonicUs() - start > kExpireBudgetUs) {
        expire_db_cursor_ = (expire_db_cursor_ + i) % num_dbs();
        return;
      }
    }
  }
}

}  // namespace shoal::shard
