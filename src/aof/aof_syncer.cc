#include "aof/aof_syncer.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"

namespace shoal::aof {

AofSyncer::AofSyncer(std::function<int(int)> fsync,
                     std::function<void(uint64_t, const Status&)> on_done)
    : fsync_(std::move(fsync)), on_done_(std::move(on_done)) {
  thread_ = std::thread([this] { Run(); });
}

AofSyncer::~AofSyncer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void AofSyncer::Submit(int fd, uint64_t ticket, bool close_after) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back({fd, ticket, close_after});
    if (!close_after) ++open_file_jobs_;
  }
  cv_.notify_one();
}

bool AofSyncer::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_job_ || !jobs_.empty();
}

bool AofSyncer::fsync_busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_file_jobs_ > 0;
}

void AofSyncer::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return !running_job_ && jobs_.empty(); });
}

void AofSyncer::Run() {
  pthread_setname_np(pthread_self(), "aof-fsync");
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stop_, and nothing left to do.
    Job job = jobs_.front();
    jobs_.pop_front();
    running_job_ = true;
    lock.unlock();

    Status status;
    // As Redis's bio worker: EBADF/EINVAL mean the fd cannot be synced (a pipe, a special file),
    // which is no durability failure of a real file.
    if (fsync_(job.fd) != 0 && errno != EBADF && errno != EINVAL) {
      status = Status::Error(std::string("Error syncing the AOF file: ") + std::strerror(errno));
      SHOAL_LOG(kWarning, "%s", status.message());
    }
    if (job.close_after) ::close(job.fd);
    // The fsync is over before the writer hears of it: a writer that postponed its write behind
    // it (fsync_busy) and wakes on on_done_ must find it over, or it would sleep its full 2 s.
    if (!job.close_after) {
      lock.lock();
      --open_file_jobs_;
      lock.unlock();
    }
    on_done_(job.ticket, status);

    lock.lock();
    running_job_ = false;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace shoal::aof
