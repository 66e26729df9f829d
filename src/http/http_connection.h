// HttpConnection: one HTTP/1.x client socket on its home shard's event loop, served by that
// shard's thread like a RESP connection (net/connection.h), and a server::Client in RESP3 mode
// so that every request becomes ordinary commands through the same Dispatcher: routing,
// cross-shard transactions, MULTI/EXEC and Lua behave exactly as for a RESP client.
//
//   read(2) -> InputBuffer -> RequestParser (one request at a time) -> HandleRequest (handler.h)
//     handler: RunCommands({...}) -> Dispatcher::Submit/Flush, as Connection::ProcessInput does
//              <- replies (RESP3 bytes in Client::out()) parsed into RespValues -> continuation
//     handler: Respond(Response) -> HTTP bytes in http_out_ -> write(2)
//
// Pipelining: the next request is parsed only once the current one is answered, so responses
// leave in request order. Keep-alive: HTTP/1.1 by default, HTTP/1.0 only when asked.
// Timeouts (checked by a per-shard timer, CheckHttpTimeouts): a request must arrive completely
// within http-timeout seconds of its first byte (slowloris: 408 and close); a connection idle
// for http-keepalive-timeout seconds is closed. After a response that ends the connection, the
// write side is shut and the input drained for a moment before closing, so the client reads the
// answer instead of a reset (nginx's "lingering close").
//
// Thread: the home shard's thread only.
#pragma once

#include <absl/functional/any_invocable.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "http/request_parser.h"
#include "http/resp3_to_json.h"
#include "http/response.h"
#include "net/input_buffer.h"
#include "server/client.h"
#include "shard/event_loop.h"

namespace shoal::http {

class HttpConnection final : public server::Client, private shard::Watcher {
 public:
  using Replies = std::vector<RespValue>;
  using RepliesFn = absl::AnyInvocable<void(Replies&)>;
  // Per-shard results of PollShards: nullopt for a shard that did not answer in time.
  using PollResults = std::vector<std::optional<std::string>>;
  using PollFn = absl::AnyInvocable<void(PollResults&)>;

  HttpConnection(int fd, shard::Shard* home, uint64_t id, std::string peer, std::string local);
  ~HttpConnection() override;

  void Start();

  // The request being answered.
  HttpRequest& request() { return parser_.request(); }

  // Runs `commands` in order through the Dispatcher, as a RESP client pipelining them would,
  // then calls `done` with one reply per command. `done` may run commands again or Respond().
  void RunCommands(std::vector<std::vector<std::string>> commands, RepliesFn done);
  // Runs `fn` on every shard's thread (each returns a string) and calls `done` here with the
  // results once all answered, or after `timeout_ms` with the ones that did.
  void PollShards(std::function<std::string(shard::Shard&)> fn, int64_t timeout_ms, PollFn done);
  // Answers the current request; the next pipelined one is read after it.
  void Respond(Response r);

  // server::Client.
  void ResumeAfterAsync() override;
  void Kill() override;
  void SendHeldReplies() override { WriteOut(); }
  bool closed() const override { return closed_; }
  std::string Describe() const override;

  // Applies the timeouts (see above). Runs from the shard's timer.
  void CheckTimeouts(int64_t now_ms);
  void Close();
  // Shutdown only: closes and frees even with work in flight (those tasks will never run).
  void DestroyAtShutdown();

 private:
  void OnEvents(uint32_t events) override;
  enum class ReadResult { kOk, kEof };
  ReadResult ReadSome();
  // Parses and starts the buffered requests while none is being answered.
  void ProcessInput();
  // Runs (or resumes) the command list of RunCommands.
  void PumpCommands();
  void WriteOut();
  void UpdateInterest();
  // After an asynchronous step ended here: next requests, then writes.
  void Continue();
  void FailRequest(int status, const std::string& message);
  void StartLingeringClose();
  void DestroyWhenIdle();

  net::InputBuffer in_;
  RequestParser parser_;
  std::string http_out_;
  size_t out_sent_ = 0;

  // RunCommands state.
  std::vector<std::vector<std::string>> commands_;
  size_t next_command_ = 0;
  RepliesFn commands_done_;
  bool waiting_ = false;  // The Dispatcher owes us a ResumeAfterAsync.

  bool busy_ = false;  // A request is being answered.
  bool close_after_write_ = false;
  bool lingering_ = false;  // Write side shut; discarding input until EOF or a deadline.
  bool peer_closed_ = false;
  bool closed_ = false;
  bool destroy_scheduled_ = false;
  uint32_t interest_ = 0;
  int64_t request_start_ms_ = 0;  // First byte of the request being received; 0 when none.
  int64_t last_activity_ms_ = 0;
  int64_t linger_deadline_ms_ = 0;
};

// This thread's HTTP connections: timeouts (from a shard timer) and shutdown.
void CheckHttpTimeouts();
void CloseHttpConnections();
// HTTP connections open on every thread.
int64_t HttpConnectionCount();

}  // namespace shoal::http
