// Connection: one client socket on its home shard's event loop. Reads bytes, feeds the parser,
// hands commands to the Dispatcher, writes replies back in order.
//
// Pipelining: all complete commands in a read are run before anything is written, and their
// replies leave in one write. While a command is asynchronous (a hop to another shard), later
// commands wait in the read buffer; the socket is still drained so a pipelining client never
// stalls on a full send buffer.
//
// Thread: the home shard's thread only.
#pragma once

#include <string>

#include "net/input_buffer.h"
#include "protocol/resp_parser.h"
#include "server/client.h"
#include "shard/event_loop.h"

namespace shoal::net {

class Connection final : public server::Client, private shard::Watcher {
 public:
  Connection(int fd, shard::Shard* home, uint64_t id, std::string peer, std::string local);
  ~Connection() override;

  // Registers with the home loop and starts serving.
  void Start();

  void ResumeAfterAsync() override;
  void Kill() override;
  void SendHeldReplies() override { WriteReplies(); }
  bool closed() const override { return closed_; }

  // Called while a busy script runs on this thread (see ServeConnectionsWhileBusy): reads and
  // answers what the client sent, unless the connection is mid-command (it may be the one that
  // runs the script), waiting for a hop, or blocked.
  void ServeWhileBusy();

  // Closes immediately (server shutdown).
  void Close();

  // Shutdown only, once no shard runs tasks any more: closes and frees the connection even if
  // hops are still counted in flight (their tasks will never run).
  void DestroyAtShutdown() {
    Close();
    in_flight = 0;
    DestroyWhenIdle();
  }

 private:
  void OnEvents(uint32_t events) override;
  enum class ReadResult { kOk, kEof, kOverLimit };
  // Reads what the socket has.
  ReadResult ReadSome();
  // Runs as many buffered commands as possible.
  void ProcessInput();
  // Writes pending replies; arms EPOLLOUT if the socket is full. Closes if asked to.
  void WriteReplies();
  void UpdateInterest();
  void DestroyWhenIdle();

  protocol::RespParser parser_;
  protocol::ArgList args_;
  InputBuffer in_;
  size_t out_sent_ = 0;    // Bytes of out() already written.
  bool waiting_ = false;   // A hop or fan-out for this client is in flight.
  bool closed_ = false;
  bool peer_closed_ = false;     // Read EOF: finish what was sent, reply, then close.
  bool reading_paused_ = false;  // Input over the limit while waiting on a hop.
  uint32_t interest_ = 0x001;    // The epoll events registered (EPOLLIN at start).
  bool destroy_scheduled_ = false;
  bool processing_ = false;  // Inside ProcessInput: not to be re-entered while a script is busy.
};

// Closes this thread's connections idle for longer than the `timeout` config (seconds; 0 means
// never), as Redis's clientsCron does. Runs on a shard thread, from that shard's timer.
void CloseIdleConnections();

// Writes buf[*sent..] to the non-blocking socket `fd` until all is sent or the socket is full,
// advancing *sent and this thread's net_output_bytes. False on a socket error (the caller
// closes). Shared by RESP and HTTP connections.
bool SendPending(int fd, const std::string& buf, size_t* sent);

// The busy-script poller (script/busy.h) for this thread's connections: each idle one reads and
// runs what it was sent. The dispatcher answers BUSY to all but SCRIPT KILL and Redis's other
// allow-busy commands, so no command reaches the data while the script runs. Connections on
// other threads need none of this: their own threads serve them.
void ServeConnectionsWhileBusy();

}  // namespace shoal::net
