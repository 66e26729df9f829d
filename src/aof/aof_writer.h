// AofWriter: appends byte strings to the append-only file from a thread of its own, with group
// commit, and tells how far the file is written (and durable).
//
// Producers (shard threads, any number at once) call Append(bytes): it never waits for the disk
// and returns a ticket, 1, 2, 3... The file holds the appended strings in ticket order, each
// exactly once. Tickets come from one counter, so a thread's successive appends are in the file
// in the order it made them.
//
//   Append: ticket = counter++ (fetch_add); push (one exchange on an MPSC queue); wake writer
//                    |
//   writer thread:   pop everything; reorder by ticket (a push can land after a later ticket's:
//                    the gap is a producer between its fetch_add and its push, and its push
//                    wakes the writer); take the run of consecutive tickets; ONE write(2);
//                    then, per appendfsync:
//                      always   fdatasync here, then acknowledge
//                      everysec acknowledge; fdatasync on the AofSyncer thread at most once a
//                               second; while that fsync runs, hold writes back up to 2 s (a
//                               write would block behind it anyway: Redis's flushAppendOnlyFile)
//                      no       acknowledge
//                    on_progress(acknowledged)
//
// acknowledged(): the highest ticket T such that every ticket <= T is written (everysec, no) or
// written and fsynced (always). The caller holds a client's reply until its ticket is
// acknowledged.
//
// Write failures (disk full, EIO, read-only file system): the error is kept in
// last_write_status(), acknowledged stops advancing, and the writer retries the unwritten bytes
// about once a second (plus whatever was appended since). A short write is cut back with
// ftruncate so no half record stays in the file; if even that fails, the written part is kept
// and only the rest retried, so the file never holds a record twice. Redis exits on a write error
// under appendfsync always because its replies may already be out; here replies wait for the
// acknowledgement, so retrying is safe under every policy. An fsync error under always is fatal,
// as in Redis (it logs and exits): the data may or may not be on disk, and nothing can tell which.
//
// Thread-safety: Append, the accessors, SetPolicy and SwitchFile may be called from any thread.
// Close (or the destructor) must come after every Append has returned.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aof/aof_syncer.h"
#include "aof/fsync_policy.h"
#include "common/status.h"
#include "shard/mpsc_queue.h"

namespace shoal::aof {

// For tests: stand-ins for the system calls that fail on a sick disk.
struct AofWriterHooks {
  // Replaces write(2): same contract (bytes written, or -1 with errno set).
  std::function<ssize_t(int fd, const char* data, size_t len)> write;
  // Replaces fdatasync(2) (0, or -1 with errno set).
  std::function<int(int fd)> fsync;
  // How long after a failed write the writer tries again (Redis: about a second).
  std::chrono::milliseconds retry_interval{1000};
};

class AofWriter {
 public:
  using ProgressFn = std::function<void(uint64_t acknowledged)>;

  using Hooks = AofWriterHooks;

  // Opens (creating it if needed) `path` for appending and starts the writer. on_progress may be
  // empty; it runs on the writer thread and must not call Close.
  static Result<std::unique_ptr<AofWriter>> Open(const std::string& path, FsyncPolicy policy,
                                                 ProgressFn on_progress, Hooks hooks = {});
  ~AofWriter();  // Close().
  AofWriter(const AofWriter&) = delete;
  AofWriter& operator=(const AofWriter&) = delete;

  // Queues `bytes` for the file; returns its ticket. Never blocks on I/O.
  uint64_t Append(std::string bytes);

  // From ticket T on, the log continues in a new file (AOF rewrite: the caller cuts the log at a
  // point every shard agrees on). Opens `new_path` now (created or truncated, as Redis opens a
  // new INCR file) and queues a marker; returns T, the marker's ticket: every ticket < T is in
  // the old file, every ticket > T in the new one (the marker itself has no bytes). The old file
  // is fsynced and closed in the background once everything before T is written to it.
  Result<uint64_t> SwitchFile(const std::string& new_path);

  // CONFIG SET appendfsync. Switching to always first makes everything written durable.
  void SetPolicy(FsyncPolicy policy);
  FsyncPolicy policy() const { return policy_.load(std::memory_order_relaxed); }

  uint64_t acknowledged() const { return acknowledged_.load(std::memory_order_acquire); }
  uint64_t written() const { return written_.load(std::memory_order_acquire); }
  uint64_t synced() const { return synced_.load(std::memory_order_acquire); }
  // Bytes appended and not yet written.
  uint64_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  // Size of the file now being appended to (INFO aof_current_size counts from this).
  uint64_t file_bytes() const { return file_bytes_.load(std::memory_order_relaxed); }
  // Writes made while an fsync was still running after 2 s (INFO aof_delayed_fsync).
  uint64_t delayed_fsyncs() const { return delayed_fsyncs_.load(std::memory_order_relaxed); }
  // The last write's outcome (INFO aof_last_write_status), and the last background fsync's.
  Status last_write_status() const;
  Status last_fsync_status() const;

  // Writes everything appended, fsyncs, closes the file and stops the threads; tries once (as
  // Redis at shutdown): returns the error if the disk still fails.
  Status Close();

 private:
  struct Item : shard::MpscNode {
    uint64_t ticket = 0;
    std::string bytes;
    int switch_fd = -1;  // >= 0: a SwitchFile marker.
  };
  struct LaterTicketFirst {
    bool operator()(const Item* a, const Item* b) const { return a->ticket > b->ticket; }
  };
  using Clock = std::chrono::steady_clock;

  AofWriter(int fd, uint64_t file_size, FsyncPolicy policy, ProgressFn on_progress, Hooks hooks);
  uint64_t Push(Item* item);
  void Wake();
  void Run();
  // One round of work; false if there was nothing to do before `*deadline` (or a wake-up).
  bool Step(Clock::time_point* deadline);
  void TakeQueued();
  bool GatherBatch();
  bool DropReady();
  bool WriteBatch();
  void OnWriteError(int err, size_t attempted, size_t written_now);
  void SyncInline();
  void SwitchTo(Item* marker);
  void Publish();
  void OnSynced(uint64_t ticket, const Status& status);
  void SetStatus(Status* slot, Status status);

  // Shared with producers and readers.
  std::atomic<uint64_t> next_ticket_{1};
  shard::MpscQueue queue_;
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> policy_changed_{false};
  std::atomic<FsyncPolicy> policy_;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> synced_{0};
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> queued_bytes_{0};
  std::atomic<uint64_t> file_bytes_{0};
  std::atomic<uint64_t> delayed_fsyncs_{0};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  mutable std::mutex status_mu_;
  Status last_write_status_;  // GUARDED_BY(status_mu_)
  Status last_fsync_status_;  // GUARDED_BY(status_mu_)
  Status close_status_;       // Set by the writer thread before it exits.

  // Writer thread only.
  int fd_;
  uint64_t file_size_;  // Bytes of fd_'s file known good: where a short write is cut back to.
  ProgressFn on_progress_;
  Hooks hooks_;
  std::vector<Item*> reorder_;  // A min-heap on ticket of items popped ahead of a gap.
  uint64_t next_expected_ = 1;  // The next ticket to go to the file.
  std::string batch_;           // Bytes of tickets (written_, batch_last_], not yet written...
  size_t batch_done_ = 0;       // ...except this prefix (a partial write that could not be cut).
  uint64_t batch_last_ = 0;
  bool batch_pending_ = false;  // Tickets gathered and not yet written (their bytes may be none).
  bool abandoned_ = false;      // Close's last write failed: the rest is dropped.
  bool write_failing_ = false;
  Clock::time_point next_retry_{};
  Clock::time_point postponed_since_{};  // Zero: no write held back for a running fsync.
  Clock::time_point last_fsync_{};
  uint64_t fsync_requested_ = 0;  // The highest ticket a background fsync was asked to cover.
  int64_t last_error_log_s_ = 0;

  std::unique_ptr<AofSyncer> syncer_;
  std::thread thread_;
  bool closed_ = false;
};

}  // namespace shoal::aof
