#include "aof/aof_writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/logging.h"

namespace shoal::aof {
namespace {

// Redis's AOF_WRITE_LOG_ERROR_RATE: at most one write-error line per this many seconds.
constexpr int64_t kErrorLogIntervalS = 30;
// Under everysec a write waits this long at most for a running background fsync.
constexpr auto kMaxPostpone = std::chrono::seconds(2);
constexpr auto kFsyncInterval = std::chrono::seconds(1);

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::unique_ptr<AofWriter>> AofWriter::Open(const std::string& path, FsyncPolicy policy,
                                                   ProgressFn on_progress, Hooks hooks) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Error("Can't open the append-only file " + path + ": " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status err =
        Status::Error("Can't stat the append-only file " + path + ": " + std::strerror(errno));
    ::close(fd);
    return err;
  }
  if (!hooks.write) hooks.write = [](int f, const char* d, size_t n) { return ::write(f, d, n); };
  if (!hooks.fsync) hooks.fsync = [](int f) { return ::fdatasync(f); };
  return std::unique_ptr<AofWriter>(new AofWriter(fd, static_cast<uint64_t>(st.st_size), policy,
                                                  std::move(on_progress), std::move(hooks)));
}

AofWriter::AofWriter(int fd, uint64_t file_size, FsyncPolicy policy, ProgressFn on_progress,
                     Hooks hooks)
    : policy_(policy),
      fd_(fd),
      file_size_(file_size),
      on_progress_(std::move(on_progress)),
      hooks_(std::move(hooks)) {
  file_bytes_.store(file_size, std::memory_order_relaxed);
  last_fsync_ = Clock::now();
  syncer_ = std::make_unique<AofSyncer>(
      hooks_.fsync, [this](uint64_t ticket, const Status& status) { OnSynced(ticket, status); });
  thread_ = std::thread([this] { Run(); });
}

AofWriter::~AofWriter() { (void)Close(); }

uint64_t AofWriter::Append(std::string bytes) {
  auto* item = new Item;
  queued_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
  item->bytes = std::move(bytes);
  return Push(item);
}

Result<uint64_t> AofWriter::SwitchFile(const std::string& new_path) {
  int fd = ::open(new_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Error("Can't open the append-only file " + new_path + ": " +
                         std::strerror(errno));
  }
  auto* item = new Item;
  item->switch_fd = fd;
  return Push(item);
}

uint64_t AofWriter::Push(Item* item) {
  // Tickets and pushes may land in different orders across producers; the writer reorders.
  item->ticket = next_ticket_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t ticket = item->ticket;
  queue_.Push(item);
  Wake();
  return ticket;
}

// Pairs with Run's "sleeping_ = true; fence; look again": either the writer sees our change,
// or we see it asleep and wake it.
void AofWriter::Wake() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.load(std::memory_order_relaxed) && sleeping_.exchange(false)) {
    std::lock_guard<std::mutex> lock(wake_mu_);
    wake_cv_.notify_one();
  }
}

void AofWriter::SetPolicy(FsyncPolicy policy) {
  policy_.store(policy, std::memory_order_relaxed);
  policy_changed_.store(true, std::memory_order_relaxed);
  Wake();
}

Status AofWriter::last_write_status() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  return last_write_status_;
}

Status AofWriter::last_fsync_status() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  return last_fsync_status_;
}

void AofWriter::SetStatus(Status* slot, Status status) {
  std::lock_guard<std::mutex> lock(status_mu_);
  *slot = std::move(status);
}

Status AofWriter::Close() {
  if (closed_) return close_status_;
  closed_ = true;
  stop_.store(true, std::memory_order_relaxed);
  Wake();
  thread_.join();
  syncer_.reset();  // Runs what is queued (the final close) and stops.
  return close_status_;
}

void AofWriter::Run() {
  pthread_setname_np(pthread_self(), "aof-writer");
  while (true) {
    Clock::time_point deadline = Clock::time_point::max();
    if (Step(&deadline)) continue;
    if (stop_.load(std::memory_order_relaxed) && next_expected_ == next_ticket_.load() &&
        reorder_.empty() && !batch_pending_ && !queue_.MaybeNonEmpty()) {
      break;
    }
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (queue_.MaybeNonEmpty() || policy_changed_.load(std::memory_order_relaxed) ||
        stop_.load(std::memory_order_relaxed)) {
      sleeping_.store(false, std::memory_order_relaxed);
      // A push is half done (exchanged, not yet linked), or stop_ waits on a producer between
      // its fetch_add and its push: both finish in a moment.
      std::this_thread::yield();
      continue;
    }
    std::unique_lock<std::mutex> lock(wake_mu_);
    auto awake = [this] { return !sleeping_.load(std::memory_order_relaxed); };
    if (deadline == Clock::time_point::max()) {
      wake_cv_.wait(lock, awake);
    } else {
      wake_cv_.wait_until(lock, deadline, awake);
    }
    sleeping_.store(false, std::memory_order_relaxed);
  }
  // Everything is written (or the disk refused once more). Make it durable and let go.
  syncer_->Drain();
  if (hooks_.fsync(fd_) != 0 && errno != EINVAL) {
    Status err = Status::Error(std::string("Fail to fsync the AOF file: ") + std::strerror(errno));
    SHOAL_LOG(kWarning, "%s", err.message());
    if (close_status_.ok()) close_status_ = err;
  } else {
    synced_.store(written_.load(), std::memory_order_release);
  }
  ::close(fd_);
  fd_ = -1;
  for (Item* item : reorder_) delete item;
  reorder_.clear();
}

bool AofWriter::Step(Clock::time_point* deadline) {
  const bool stopping = stop_.load(std::memory_order_relaxed);
  const FsyncPolicy policy = policy_.load(std::memory_order_relaxed);
  const Clock::time_point now = Clock::now();
  if (policy_changed_.exchange(false, std::memory_order_relaxed) &&
      policy == FsyncPolicy::kAlways && synced_.load() < written_.load()) {
    SyncInline();  // What was acknowledged under everysec becomes durable before anything more.
    Publish();
    return true;
  }
  TakeQueued();
  if (abandoned_) return DropReady();
  GatherBatch();

  if (batch_pending_) {
    if (write_failing_ && now < next_retry_ && !stopping) {
      *deadline = next_retry_;
      return false;
    }
    if (policy == FsyncPolicy::kEverySec && !stopping && syncer_->fsync_busy()) {
      if (postponed_since_ == Clock::time_point{}) postponed_since_ = now;
      if (now - postponed_since_ < kMaxPostpone) {
        *deadline = postponed_since_ + kMaxPostpone;  // OnSynced wakes us sooner.
        return false;
      }
      delayed_fsyncs_.fetch_add(1, std::memory_order_relaxed);
      SHOAL_LOG(kNotice,
                "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF "
                "buffer without waiting for fsync to complete, this may slow down Redis.");
    }
    postponed_since_ = Clock::time_point{};
    if (!WriteBatch()) {
      if (stopping) {
        // Close tries once. What is left is dropped, and nothing after it is written either:
        // acknowledging a later ticket would claim the dropped ones.
        close_status_ = last_write_status();
        abandoned_ = true;
        queued_bytes_.fetch_sub(batch_.size(), std::memory_order_relaxed);
        batch_.clear();
        batch_done_ = 0;
        batch_pending_ = false;
        return true;
      }
      *deadline = next_retry_;
      return false;
    }
    if (policy == FsyncPolicy::kAlways) SyncInline();
    Publish();
    return true;
  }

  // A SwitchFile marker is next, and everything before it is written.
  if (!reorder_.empty() && reorder_.front()->ticket == next_expected_) {
    Item* marker = reorder_.front();
    std::pop_heap(reorder_.begin(), reorder_.end(), LaterTicketFirst{});
    reorder_.pop_back();
    ++next_expected_;
    SwitchTo(marker);
    delete marker;
    return true;
  }

  // everysec: an fsync at most once a second, in the background, if anything is unsynced.
  if (policy == FsyncPolicy::kEverySec && fsync_requested_ < written_.load()) {
    if (now - last_fsync_ >= kFsyncInterval) {
      if (!syncer_->busy()) {
        fsync_requested_ = written_.load();
        syncer_->Submit(fd_, fsync_requested_, /*close_after=*/false);
      }
      last_fsync_ = now;
    }
    *deadline = std::min(*deadline, last_fsync_ + kFsyncInterval);
  }
  return false;
}

// After Close gave up on a write: discards the items that are next in ticket order.
bool AofWriter::DropReady() {
  bool dropped = false;
  while (!reorder_.empty() && reorder_.front()->ticket == next_expected_) {
    Item* item = reorder_.front();
    std::pop_heap(reorder_.begin(), reorder_.end(), LaterTicketFirst{});
    reorder_.pop_back();
    queued_bytes_.fetch_sub(item->bytes.size(), std::memory_order_relaxed);
    if (item->switch_fd >= 0) ::close(item->switch_fd);
    delete item;
    ++next_expected_;
    dropped = true;
  }
  return dropped;
}

// Moves everything pushed so far into the reorder heap.
void AofWriter::TakeQueued() {
  while (shard::MpscNode* node = queue_.Pop()) {
    reorder_.push_back(static_cast<Item*>(node));
    std::push_heap(reorder_.begin(), reorder_.end(), LaterTicketFirst{});
  }
}

// Appends to batch_ the run of consecutive tickets that carry bytes, stopping at a gap or at a
// SwitchFile marker (bytes after it belong to the next file).
bool AofWriter::GatherBatch() {
  bool gathered = false;
  while (!reorder_.empty() && reorder_.front()->ticket == next_expected_ &&
         reorder_.front()->switch_fd < 0) {
    Item* item = reorder_.front();
    std::pop_heap(reorder_.begin(), reorder_.end(), LaterTicketFirst{});
    reorder_.pop_back();
    batch_.append(item->bytes);
    batch_last_ = item->ticket;
    batch_pending_ = true;
    ++next_expected_;
    delete item;
    gathered = true;
  }
  return gathered;
}

// One write(2) of the batch (more only if the kernel takes part of it).
bool AofWriter::WriteBatch() {
  const size_t start = batch_done_;
  while (batch_done_ < batch_.size()) {
    ssize_t n = hooks_.write(fd_, batch_.data() + batch_done_, batch_.size() - batch_done_);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      OnWriteError(n < 0 ? errno : ENOSPC, batch_.size() - start, batch_done_ - start);
      return false;
    }
    batch_done_ += static_cast<size_t>(n);
  }
  const size_t total = batch_.size();
  file_size_ += batch_done_ - start;
  file_bytes_.store(file_size_, std::memory_order_relaxed);
  queued_bytes_.fetch_sub(total, std::memory_order_relaxed);
  written_.store(batch_last_, std::memory_order_release);
  // Reuse small buffers; give big ones back (a burst should not pin its memory).
  if (batch_.capacity() > (1u << 20)) {
    std::string().swap(batch_);
  } else {
    batch_.clear();
  }
  batch_done_ = 0;
  batch_pending_ = false;
  if (write_failing_) {
    write_failing_ = false;
    SHOAL_LOG(kWarning, "AOF write error looks solved, Redis can write again.");
    SetStatus(&last_write_status_, Status::Ok());
  }
  return true;
}

void AofWriter::OnWriteError(int err, size_t attempted, size_t written_now) {
  const bool can_log = NowSeconds() - last_error_log_s_ > kErrorLogIntervalS || !write_failing_;
  if (can_log) last_error_log_s_ = NowSeconds();
  std::string message;
  if (written_now == 0) {
    message = std::string("Error writing to the AOF file: ") + std::strerror(err);
  } else {
    message =
        "Short write while writing to the AOF file: (nwritten=" + std::to_string(written_now) +
        ", expected=" + std::to_string(attempted) + ")";
    // Cut the partial record off so the file ends on a whole one, as Redis does.
    if (::ftruncate(fd_, static_cast<off_t>(file_size_)) == 0) {
      batch_done_ -= written_now;
    } else {
      if (can_log) {
        SHOAL_LOG(kWarning,
                  "Could not remove short write from the append-only file. Redis may refuse "
                  "to load the AOF the next time it starts. ftruncate: %s",
                  std::strerror(errno));
      }
      // Keep the part that reached the file; only the rest is retried.
      file_size_ += written_now;
      file_bytes_.store(file_size_, std::memory_order_relaxed);
    }
    err = ENOSPC;
    message += std::string(": ") + std::strerror(err);
  }
  if (can_log) SHOAL_LOG(kWarning, "%s", message);
  SetStatus(&last_write_status_, Status::Error(message));
  write_failing_ = true;
  next_retry_ = Clock::now() + hooks_.retry_interval;
}

// appendfsync always: what is written is durable before it is acknowledged.
void AofWriter::SyncInline() {
  // Files switched away from under another policy may still be syncing in the background.
  if (syncer_->busy()) syncer_->Drain();
  const uint64_t written = written_.load();
  if (hooks_.fsync(fd_) != 0 && errno != EINVAL) {
    // Redis exits here too: whether the data reached the disk is unknown and cannot be retried
    // (after a failed fsync the kernel may have dropped the dirty pages and reports success
    // next time), yet clients are waiting to be told it is durable.
    SHOAL_LOG(kWarning,
              "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. "
              "Exiting...",
              std::strerror(errno));
    std::exit(1);
  }
  synced_.store(std::max(synced_.load(), written), std::memory_order_release);
  last_fsync_ = Clock::now();
}

void AofWriter::SwitchTo(Item* marker) {
  // The old file's last bytes are written; the marker has none of its own.
  written_.store(marker->ticket, std::memory_order_release);
  fsync_requested_ = marker->ticket;
  syncer_->Submit(fd_, marker->ticket, /*close_after=*/true);
  fd_ = marker->switch_fd;
  marker->switch_fd = -1;
  file_size_ = 0;
  file_bytes_.store(0, std::memory_order_relaxed);
  if (policy_.load(std::memory_order_relaxed) == FsyncPolicy::kAlways) syncer_->Drain();
  Publish();
}

void AofWriter::Publish() {
  const uint64_t ack = policy_.load(std::memory_order_relaxed) == FsyncPolicy::kAlways
                           ? synced_.load(std::memory_order_acquire)
                           : written_.load(std::memory_order_acquire);
  if (ack <= acknowledged_.load(std::memory_order_relaxed)) return;
  acknowledged_.store(ack, std::memory_order_release);
  if (on_progress_) on_progress_(ack);
}

// Runs on: the syncer thread.
void AofWriter::OnSynced(uint64_t ticket, const Status& status) {
  if (status.ok()) {
    uint64_t cur = synced_.load(std::memory_order_relaxed);
    while (cur < ticket && !synced_.compare_exchange_weak(cur, ticket)) {
    }
  }
  SetStatus(&last_fsync_status_, status);
  Wake();  // A write may be held back for this fsync.
}

}  // namespace shoal::aof
