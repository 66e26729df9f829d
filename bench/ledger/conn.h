// A connection to a Redis-protocol server: hiredis' protocol codec over our own non-blocking
// socket, so one thread can drive many connections with epoll and pipeline on each.
//
// hiredis (Debian 12 ships 0.14.1) formats commands and parses replies; its context is put in
// non-blocking mode, so redisBufferWrite/redisBufferRead never wait and replies are taken out of
// its reader one by one. RoundTrip() adds a blocking request/reply helper with a deadline for the
// setup, preflight and audit connections: nothing in this client waits without a time limit.

#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ledger {

using Clock = std::chrono::steady_clock;

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
using Args = std::vector<std::string>;

class Conn {
 public:
  // Connects (blocking, with `timeout_s`), then switches the socket to non-blocking mode.
  // Returns nullptr and sets `err` on failure.
  static std::unique_ptr<Conn> Open(const std::string& host, int port, double timeout_s,
                                    std::string* err);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  int fd() const { return ctx_->fd; }
  void Append(const Args& args);
  // Writes what the socket takes now. False on a socket error (see error()).
  bool Flush();
  bool wants_write() const { return unsent_; }
  // Reads what the socket has now. False on a socket error or when the server closed.
  bool Fill();
  // The next complete reply, or an empty Reply if none is buffered. False on a protocol error.
  bool Next(Reply* out);
  std::string error() const { return ctx_->errstr[0] ? ctx_->errstr : "connection error"; }

 private:
  explicit Conn(redisContext* ctx) : ctx_(ctx) {}
  redisContext* ctx_;
  bool unsent_ = false;  // Appended bytes not yet all written.
};

// Sends `cmds` pipelined and waits for one reply each, at most `timeout_s` in all.
// False (with `err` set) on a socket error or a timeout; error replies are returned as replies.
bool RoundTrip(Conn& conn, const std::vector<Args>& cmds, std::vector<Reply>* replies,
               double timeout_s, std::string* err);

// Short printable description of a reply, for messages: "ERR unknown command...", "(nil)", "3".
std::string Describe(const redisReply* r);
bool IsError(const redisReply* r);
// "2", "0.5": seconds for messages.
std::string Seconds(double s);
bool IsStatus(const redisReply* r, const char* text);
// An integer reply, or a bulk string holding an integer; false otherwise.
bool AsInt(const redisReply* r, long long* out);

}  // namespace ledger
