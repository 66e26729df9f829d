// WriteLog: what the append-only file records (src/aof/): every change, as Redis commands, in an
// order whose replay rebuilds exactly the acknowledged state.
//
//   a write on shard S ----> S's thread buffer (SELECT when the database changes)
//   end of S's loop turn --> the buffer goes to the AOF writer (a ticket per push), BEFORE S's
//                            outbox flushes: whoever learns of the write through a message from
//                            S finds it already pushed
//   a transaction's parts --> captured (on whatever shard they run) and logged whole, wrapped in
//   (EXEC, multi-shard       MULTI/EXEC, by its home thread before it releases its locks; a shard
//   commands, scripts)       pushes its own buffer when it grants a transaction's lock, so its
//                            earlier writes precede the transaction in the file
//
// A key lives on one shard, so its records keep their order; records of different shards touch
// different keys and commute. Non-deterministic commands are logged by their effect: relative
// deadlines become absolute (PEXPIREAT, SET .. PXAT), SPOP becomes SREM, a blocked pop its plain
// pop, a script its write calls, an expired key a DEL.
//
// Thread: each shard thread logs into its own buffer; nothing is shared but the sink.
#pragma once

#include <absl/types/span.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::server {

struct CommandSpec;
class CommandContext;

// Records in RESP, and the database they last selected (-1: none yet, the next record selects).
struct LogBuffer {
  std::string bytes;
  int db = -1;
  bool empty() const { return bytes.empty(); }
  void Clear() {
    bytes.clear();
    db = -1;
  }
  void Append(int db_index, absl::Span<const std::string_view> argv);
  // Appends another buffer's records as they are.
  void Absorb(const LogBuffer& other);
};

class WriteLog {
 public:
  // Whether writes are being logged (appendonly yes, and the log is open).
  static bool enabled() { return enabled_.load(std::memory_order_relaxed); }
  static void set_enabled(bool on) { enabled_.store(on, std::memory_order_release); }

  // Logs `argv` for database `db` into the current capture, else this thread's buffer.
  static void Command(int db, absl::Span<const std::string_view> argv);
  // After a write command ran here (its reply starts at `reply_start` in the reply buffer): logs
  // it, or what it did when replaying the command itself would not give the same result.
  static void AfterWrite(const CommandSpec& spec, CommandContext& ctx, size_t reply_start);
  // A finished transaction or script: its records go whole into the current capture, or, at the
  // top level, into this thread's buffer wrapped in MULTI/EXEC (replayed all or nothing).
  static void Commit(const LogBuffer& captured);

  // This thread's records not yet handed to the AOF.
  static LogBuffer& ThreadBuffer();
  // Db's expired-key hook (storage/db.h); `db_index` is the database's number, as a pointer.
  static void ExpiredKey(void* db_index, std::string_view key);

 private:
  static inline std::atomic<bool> enabled_{false};
};

// While one lives on a thread, records go to `buffer` instead of the thread buffer (a
// transaction's parts, a script's calls). Nested captures restore the outer one.
class ScopedCapture {
 public:
  explicit ScopedCapture(LogBuffer* buffer);
  ~ScopedCapture();
  ScopedCapture(const ScopedCapture&) = delete;
  ScopedCapture& operator=(const ScopedCapture&) = delete;

 private:
  LogBuffer* saved_;
};

// The capture active on this thread, or nullptr: handed to another thread that runs part of the
// same work synchronously (a script's call through Shard::CallSync).
LogBuffer* CurrentCapture();

}  // namespace shoal::server
