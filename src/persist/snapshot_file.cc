#include "persist/snapshot_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/logging.h"
#include "persist/crc64.h"
#include "persist/rdb_encoder.h"
#include "persist/rdb_format.h"

namespace shoal::persist {
namespace {

constexpr size_t kWriteBuffer = 1 << 20;

std::string ErrnoText(const char* what, const std::string& path) {
  return std::string(what) + " " + path + ": " + strerror(errno);
}

void AuxField(RdbEncoder& enc, std::string_view key, std::string_view value) {
  enc.Byte(rdb_opcode::kAux);
  enc.String(key);
  enc.String(value);
}

std::string Header(const SnapshotFileOptions& o) {
  std::string out = "REDIS0010";
  RdbEncoder enc(&out);
  AuxField(enc, "redis-ver", o.redis_version);
  AuxField(enc, "redis-bits", "64");
  AuxField(enc, "ctime", std::to_string(time(nullptr)));
  AuxField(enc, "used-mem", std::to_string(o.used_memory));
  AuxField(enc, "aof-base", "0");
  return out;
}

}  // namespace

void RemoveStaleTempFiles(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    int pid = 0, seq = 0;
    char tail[8] = {0};
    // Our names only: temp-<pid>-<n>.rdb, of a pid that is gone.
    if (sscanf(e->d_name, "temp-%d-%d.%4s", &pid, &seq, tail) != 3 || strcmp(tail, "rdb") != 0) {
      continue;
    }
    if (pid == getpid() || kill(pid, 0) == 0) continue;
    unlink((dir + "/" + e->d_name).c_str());
  }
  closedir(d);
}

Result<std::unique_ptr<SnapshotFile>> SnapshotFile::Create(const SnapshotFileOptions& options,
                                                           Done done) {
  static std::atomic<uint32_t> sequence{0};
  std::string temp = options.dir + "/temp-" + std::to_string(getpid()) + "-" +
                     std::to_string(sequence.fetch_add(1)) + ".rdb";
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Error(ErrnoText("Failed opening the temp RDB file", temp));
  std::unique_ptr<SnapshotFile> f(new SnapshotFile(options, std::move(done), fd, temp));
  f->Write(Header(options));
  f->writer_ = std::thread([p = f.get()] { p->WriterLoop(); });
  return f;
}

SnapshotFile::SnapshotFile(const SnapshotFileOptions& options, Done done, int fd,
                           std::string temp_path)
    : options_(options), done_(std::move(done)), fd_(fd), temp_path_(std::move(temp_path)) {
  buffer_.reserve(kWriteBuffer);
}

SnapshotFile::~SnapshotFile() {
  if (writer_.joinable()) writer_.join();
}

void SnapshotFile::Push(Node* node) {
  // The last producer's node lets the writer finish, and `done` may destroy this object: the
  // writer waits until no Push is still between its first and last touch of it.
  pushers_.fetch_add(1, std::memory_order_acq_rel);
  queue_.Push(node);
  pushes_.fetch_add(1, std::memory_order_release);
  pushes_.notify_one();
  pushers_.fetch_sub(1, std::memory_order_release);
}

void SnapshotFile::Append(std::string chunk) {
  if (chunk.empty()) return;
  queued_bytes_.fetch_add(chunk.size(), std::memory_order_relaxed);
  auto* n = new Node;
  n->bytes = std::move(chunk);
  Push(n);
}

void SnapshotFile::ProducerDone() {
  auto* n = new Node;
  n->producer_done = true;
  Push(n);
}

void SnapshotFile::Abort() {
  aborted_.store(true, std::memory_order_release);
  Push(new Node);  // Wakes the writer.
}

void SnapshotFile::WriterLoop() {
  int remaining = options_.producers;
  while (remaining > 0 && !aborted_.load(std::memory_order_acquire)) {
    uint32_t seen = pushes_.load(std::memory_order_acquire);
    bool got = false;
    while (shard::MpscNode* raw = queue_.Pop()) {
      got = true;
      std::unique_ptr<Node> n(static_cast<Node*>(raw));
      if (n->producer_done) {
        --remaining;
        continue;
      }
      Write(n->bytes);
      queued_bytes_.fetch_sub(n->bytes.size(), std::memory_order_relaxed);
    }
    if (!got && remaining > 0) pushes_.wait(seen, std::memory_order_acquire);
  }
  while (pushers_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  while (shard::MpscNode* raw = queue_.Pop()) delete static_cast<Node*>(raw);
  SnapshotResult result;
  if (aborted_.load(std::memory_order_acquire)) {
    close(fd_);
    fd_ = -1;
    error_ = Status::Error("Snapshot abandoned at shutdown");
    result.status = error_;
  } else {
    result.status = Finish();
  }
  result.bytes = written_;
  if (!result.status.ok()) unlink(temp_path_.c_str());
  done_(result);
}

void SnapshotFile::Write(std::string_view bytes) {
  crc_ = Crc64(crc_, bytes.data(), bytes.size());
  if (buffer_.size() + bytes.size() > kWriteBuffer) FlushBuffer();
  if (bytes.size() >= kWriteBuffer) {
    buffer_.append(bytes);  // One big record: written through at once below.
    FlushBuffer();
    return;
  }
  buffer_.append(bytes);
}

void SnapshotFile::FlushBuffer() {
  size_t off = 0;
  while (error_.ok() && off < buffer_.size()) {
    ssize_t n = write(fd_, buffer_.data() + off, buffer_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error_ = Status::Error(ErrnoText("Write error saving DB on disk,", temp_path_));
      break;
    }
    off += static_cast<size_t>(n);
  }
  written_ += off;
  buffer_.clear();
}

Status SnapshotFile::Finish() {
  std::string tail(1, static_cast<char>(rdb_opcode::kEof));
  uint64_t crc = Crc64(crc_, tail.data(), tail.size());
  for (int i = 0; i < 8; ++i) tail.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  if (buffer_.size() + tail.size() > kWriteBuffer) FlushBuffer();
  buffer_.append(tail);
  FlushBuffer();
  if (error_.ok() && fsync(fd_) != 0) {
    error_ = Status::Error(ErrnoText("Failed to fsync", temp_path_));
  }
  if (close(fd_) != 0 && error_.ok()) {
    error_ = Status::Error(ErrnoText("Failed to close", temp_path_));
  }
  fd_ = -1;
  if (!error_.ok()) return error_;
  std::string final_path = options_.dir + "/" + options_.filename;
  if (rename(temp_path_.c_str(), final_path.c_str()) != 0) {
    return Status::Error(ErrnoText("Error moving temp DB file on the final destination",
                                   final_path));
  }
  // The rename itself must reach the disk, or a power loss may bring back the old name.
  int dir_fd = open(options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace shoal::persist
