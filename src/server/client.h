// Client: the state of one connection that commands may read or change (selected database,
// protocol version, name...). net::Connection implements the I/O half.
//
// Thread: a client lives on the shard thread that accepted its connection (its home). Only that
// thread touches it; other threads (CLIENT LIST, CLIENT KILL) ask the home shard by message.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocol/reply_builder.h"

namespace shoal::shard {
class Shard;
}

namespace shoal::server {

struct PipelineRun;
class BlockedWait;
struct MultiState;
struct WatchSet;

// Takes over a client's asynchronous completions while it runs a transaction (see atomic_run.h).
class AsyncListener {
 public:
  virtual ~AsyncListener() = default;
  virtual void Resume() = 0;
};

struct LogBuffer;

class Client {
 public:
  Client(uint64_t id, shard::Shard* home);
  virtual ~Client();

  uint64_t id() const { return id_; }
  shard::Shard& home() { return *home_; }

  int db_index = 0;
  int resp = 2;
  // The append-only file (server/log_acks.h): a write ran since the last send, so replies wait
  // until the AOF acknowledges everything logged up to `log_ticket`.
  bool log_pending = false;
  bool log_held = false;
  bool log_retick = false;  // Held, and it ran another write since its ticket.
  // While a transaction (AtomicRun) runs for this client: where its runs' writes are collected.
  LogBuffer* tx_log = nullptr;
  uint64_t log_ticket = 0;
  std::string name;
  std::string lib_name;
  std::string lib_ver;
  std::string peer_addr;   // "127.0.0.1:51234"
  std::string local_addr;  // "127.0.0.1:6379"
  int fd = -1;
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  // Full name of the last command run, for CLIENT LIST (points into the command table).
  std::string_view last_command = "NULL";
  bool close_after_reply = false;     // QUIT, CLIENT KILL of self, protocol errors.
  bool authenticated = true;          // False until AUTH when requirepass is set.
  // Hops and fan-outs in flight for this client; the connection may not be freed before 0.
  int in_flight = 0;
  // Set while a blocking command (BLPOP...) waits; see blocking.h.
  std::shared_ptr<BlockedWait> blocked;
  // Between MULTI and EXEC/DISCARD: the queued commands (multi_exec.h).
  std::unique_ptr<MultiState> multi;
  // Keys under WATCH (watch.h); null when none.
  std::unique_ptr<WatchSet> watch;
  // True while EXEC runs the queued commands: blocking commands must not block.
  bool in_exec = false;
  // Set while a transaction drives this client's commands: it gets the completions instead.
  AsyncListener* async_listener = nullptr;

  // Replies appended here are sent in order.
  std::string& out() { return out_; }
  protocol::ReplyBuilder& reply() { return reply_; }

  // The squashed pipeline run being assembled or executed (see Dispatcher).
  std::unique_ptr<PipelineRun>& pipeline_run() { return run_; }

  // An asynchronous command (a hop or a fan-out) finished and its reply is in out(): resume
  // reading the pipeline. Called on the home thread.
  virtual void ResumeAfterAsync() = 0;
  // An asynchronous step (hop, fan-out, blocked wait) finished: resumes whoever drives the
  // client (a transaction in progress, or the connection).
  void AsyncDone() {
    if (async_listener != nullptr) {
      async_listener->Resume();
    } else {
      ResumeAfterAsync();
    }
  }
  // Closes the connection once pending replies are written (CLIENT KILL).
  virtual void Kill() = 0;
  // The AOF acknowledged this client's writes: send what was held back.
  virtual void SendHeldReplies() = 0;
  // One line of CLIENT LIST / CLIENT INFO (without the trailing newline).
  virtual std::string Describe() const;
  // True once the connection is gone: async completions skip their reply.
  virtual bool closed() const = 0;

 protected:
  std::string out_;
  protocol::ReplyBuilder reply_{&out_, 2};

 private:
  uint64_t id_;
  shard::Shard* home_;
  std::unique_ptr<PipelineRun> run_;
};

}  // namespace shoal::server
