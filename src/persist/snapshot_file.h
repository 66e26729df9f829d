// SnapshotFile: one RDB file being written from chunks that shard threads produce, by a thread
// of its own, so no shard thread ever waits for the disk.
//
//   shard threads: Append(chunk) ...  ProducerDone()        writer thread
//        chunks (whole records, each chunk opens with SELECTDB) --> temp-<pid>-<n>.rdb
//                                                                  CRC64 over every byte
//   last ProducerDone() -------------------------------------->   EOF + CRC, fsync, rename to
//                                                                  dir/dbfilename, fsync dir,
//                                                                  then `done(status)`
//
// Chunks from different shards interleave in the file; each names its database first, which
// RDB allows (SELECTDB may repeat). The file only takes the final name once it is complete and on
// disk, so a crash at any moment leaves the previous snapshot intact.
//
// Thread: Append/ProducerDone from any thread; `done` runs on the writer thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "shard/mpsc_queue.h"

namespace shoal::persist {

struct SnapshotFileOptions {
  std::string dir;
  std::string filename;
  std::string redis_version;  // The "redis-ver" aux field.
  int producers = 1;          // ProducerDone() calls that complete the file.
  int64_t used_memory = 0;    // The "used-mem" aux field.
};

struct SnapshotResult {
  Status status;
  uint64_t bytes = 0;  // File size.
};

// Removes temp files that snapshots of processes no longer running left in `dir` (a crash
// mid-save); start-up calls it for dir and the AOF directory.
void RemoveStaleTempFiles(const std::string& dir);

class SnapshotFile {
 public:
  using Done = std::function<void(const SnapshotResult&)>;

  // Creates the temp file, writes the header and starts the writer thread.
  static Result<std::unique_ptr<SnapshotFile>> Create(const SnapshotFileOptions& options,
                                                      Done done);
  ~SnapshotFile();  // Joins the writer thread (after `done` ran).

  // Thread-safe. `chunk` holds whole records.
  void Append(std::string chunk);
  // Thread-safe. After the last producer's call, the file is finished.
  void ProducerDone();
  // Thread-safe: gives up (shutdown with a snapshot running): the temp file is removed and
  // `done` gets an error.
  void Abort();
  // Bytes appended but not yet written: producers hold back their own pace past a bound.
  size_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }

 private:
  struct Node : shard::MpscNode {
    std::string bytes;
    bool producer_done = false;
  };

  SnapshotFile(const SnapshotFileOptions& options, Done done, int fd, std::string temp_path);
  void Push(Node* node);
  void WriterLoop();
  // Buffers `bytes` and writes full buffers; remembers the first error.
  void Write(std::string_view bytes);
  void FlushBuffer();
  Status Finish();

  SnapshotFileOptions options_;
  Done done_;
  int fd_;
  std::string temp_path_;
  shard::MpscQueue queue_;
  std::atomic<uint32_t> pushes_{0};  // Bumped and notified on every push: the writer's wake-up.
  std::atomic<size_t> queued_bytes_{0};
  std::atomic<bool> aborted_{false};
  std::atomic<int> pushers_{0};  // Producers inside Push() right now.
  std::string buffer_;
  uint64_t crc_ = 0;
  uint64_t written_ = 0;
  Status error_;
  std::thread writer_;
};

}  // namespace shoal::persist
