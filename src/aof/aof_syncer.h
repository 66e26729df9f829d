// AofSyncer: the AOF writer's background fsync thread (Redis's BIO_AOF_FSYNC worker), so that a
// slow fsync under appendfsync everysec never holds up write(2)s on the writer thread.
//
// Jobs run one at a time in submission order: "fsync fd, then every ticket <= T is durable", and
// "fsync fd, close it" for a file the writer has switched away from. FIFO order is what keeps
// the durable watermark monotonic across files: the old file's close job finishes before any
// job on the new file.
//
// Thread-safety: every method may be called from any thread; on_done runs on the syncer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace shoal::aof {

class AofSyncer {
 public:
  // fsync(fd) is fdatasync(2) or a test's stand-in. on_done(ticket, status) runs after each
  // job: status is the fsync's outcome.
  AofSyncer(std::function<int(int fd)> fsync,
            std::function<void(uint64_t ticket, const Status& status)> on_done);
  ~AofSyncer();  // Runs the jobs still queued, then stops.
  AofSyncer(const AofSyncer&) = delete;
  AofSyncer& operator=(const AofSyncer&) = delete;

  // `close_after`: the syncer owns fd from now on and closes it after the fsync.
  void Submit(int fd, uint64_t ticket, bool close_after);
  // A job queued or running.
  bool busy() const;
  // An fsync of a file still being written is queued or running (Redis's aofFsyncInProgress:
  // a write to that file would wait behind it). Close jobs of old files do not count.
  bool fsync_busy() const;
  // Waits until no job is queued or running.
  void Drain();

 private:
  struct Job {
    int fd;
    uint64_t ticket;
    bool close_after;
  };
  void Run();

  std::function<int(int)> fsync_;
  std::function<void(uint64_t, const Status&)> on_done_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // Jobs arrive, or stop.
  std::condition_variable idle_cv_;  // The last job finished.
  std::deque<Job> jobs_;             // GUARDED_BY(mu_)
  bool running_job_ = false;         // GUARDED_BY(mu_)
  int open_file_jobs_ = 0;           // GUARDED_BY(mu_): queued or running, !close_after.
  bool stop_ = false;                // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace shoal::aof
