// LogAcks: replies that wait for the append-only file. Under appendfsync always a write is
// acknowledged only once it is on disk; under everysec and no, once it is written to the file
// (as Redis, which writes the AOF before it replies, whatever the fsync policy). So a client
// that ran a write keeps its replies until the AOF writer has passed a ticket taken after that
// write was pushed:
//
//   connection about to send   MaySend: no -> held (replies keep accumulating, in order)
//   end of the shard's turn    this shard's log is pushed first; each newly held client gets
//                              ticket = the newest ticket pushed by anyone (covers writes its
//                              commands made on other shards: those were pushed before their
//                              replies left their shards)
//   writer: batch done         Post to shards with held clients -> Release(acknowledged):
//                              clients whose ticket is covered send (group commit: one fsync
//                              releases every client of the batch, on every shard)
//
// Thread: everything but the sink functions runs on the clients' own shard thread.
#pragma once

#include <cstdint>
#include <string>

#include "server/client.h"

namespace shoal::shard {
class Shard;
}

namespace shoal::server {

// What the AOF provides (set by src/aof when the log opens; all thread-safe).
struct LogSink {
  uint64_t (*push)(std::string&& bytes) = nullptr;  // Returns the push's ticket.
  uint64_t (*last_ticket)() = nullptr;              // The newest ticket handed out.
  uint64_t (*acknowledged)() = nullptr;             // Every ticket up to this one is done.
};

class LogAcks {
 public:
  static void SetSink(const LogSink& sink);
  static const LogSink& sink();

  // Before sending `c`'s replies: false if they must wait (the client is then held).
  static bool MaySend(Client& c) {
    if (!c.log_pending) return true;
    return MaySendSlow(c);
  }
  // End of a loop turn on this shard: pushes the thread's log, tickets the newly held clients.
  static void EndOfTurn(shard::Shard& shard);
  // This shard's thread, when the writer reports progress.
  static void Release(uint64_t acknowledged);
  // The writer thread: every shard with held clients is told (a Post each).
  static void NotifyShards(uint64_t acknowledged);
  // Shutdown, the shards stopped: the writer's last reports go nowhere (no Post to a dead loop).
  static void StopNotifying();
  // A held client is going away.
  static void Forget(Client& c);
  // Pushes this thread's log buffer now (a shard granting a transaction's lock).
  static void PushThreadLog();

 private:
  static bool MaySendSlow(Client& c);
};

}  // namespace shoal::server
