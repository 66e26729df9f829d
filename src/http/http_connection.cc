#include "http/http_connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/logging.h"
#include "http/handler.h"
#include "http/http_stats.h"
#include "net/connection.h"
#include "server/dispatcher.h"
#include "server/log_acks.h"
#include "server/multi_exec.h"
#include "server/server_state.h"
#include "server/thread_state.h"
#include "shard/shard.h"
#include "shard/shard_set.h"

namespace shoal::http {

namespace {

constexpr size_t kReadChunk = 16 * 1024;
// Pipelined requests waiting behind the one being answered: past this, stop reading (the
// socket buffer then pushes back on the client).
constexpr size_t kMaxBufferedInput = 256 * 1024;
constexpr int64_t kLingerMs = 2000;

thread_local absl::flat_hash_set<HttpConnection*> thread_connections;
std::atomic<int64_t> open_connections{0};

}  // namespace

HttpThreadStats& ThisThreadHttpStats() {
  thread_local HttpThreadStats stats;
  return stats;
}

int64_t HttpConnectionCount() { return open_connections.load(std::memory_order_relaxed); }

HttpConnection::HttpConnection(int fd_arg, shard::Shard* home, uint64_t id, std::string peer,
                               std::string local)
    : Client(id, home) {
  fd = fd_arg;
  peer_addr = std::move(peer);
  local_addr = std::move(local);
  // JSON answers are built from RESP3 replies: maps stay maps, doubles stay numbers.
  resp = 3;
  reply_.set_resp_version(3);
  authenticated = server::ServerState::Get().config.GetString("requirepass").empty();
  last_activity_ms_ = UnixTimeMs();
}

HttpConnection::~HttpConnection() {
  if (fd >= 0) ::close(fd);
}

void HttpConnection::Start() {
  thread_connections.insert(this);
  open_connections++;
  ThisThreadHttpStats().connections_accepted++;
  interest_ = EPOLLIN;
  home().loop().Add(fd, EPOLLIN, this);
}

std::string HttpConnection::Describe() const { return Client::Describe() + " http=1"; }

void HttpConnection::OnEvents(uint32_t events) {
  if (closed_) return;
  if ((events & EPOLLHUP) && !(events & EPOLLIN)) {
    Close();
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    if (ReadSome() == ReadResult::kEof) {
      peer_closed_ = true;
      // Nothing left to answer (or already closing): done. Otherwise answer first.
      if (lingering_ ||
          (!busy_ && !parser_.in_request() && in_.empty() && out_sent_ == http_out_.size())) {
        Close();
        return;
      }
    }
    if (lingering_) return;
    ProcessInput();
  }
  if (!closed_) WriteOut();
}

HttpConnection::ReadResult HttpConnection::ReadSome() {
  for (int rounds = 0; rounds < 16; ++rounds) {
    if (!lingering_ && busy_ && in_.size() > kMaxBufferedInput) return ReadResult::kOk;
    char* dst = in_.PrepareAppend(kReadChunk);
    ssize_t n = read(fd, dst, kReadChunk);
    if (n == 0) return ReadResult::kEof;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return ReadResult::kOk;
      return ReadResult::kEof;
    }
    server::ThreadState::Get().net_input_bytes += static_cast<uint64_t>(n);
    if (lingering_) continue;  // Discarded: the connection is closing.
    in_.CommitAppend(static_cast<size_t>(n));
    last_activity_ms_ = UnixTimeMs();
    if (static_cast<size_t>(n) < kReadChunk) return ReadResult::kOk;
  }
  return ReadResult::kOk;
}

void HttpConnection::ProcessInput() {
  server::Config& config = server::ServerState::Get().config;
  while (!busy_ && !closed_ && !close_after_write_ && !in_.empty()) {
    parser_.set_limits(static_cast<size_t>(config.http_max_header_bytes.load()),
                       static_cast<size_t>(config.http_max_body_bytes.load()));
    size_t consumed = 0;
    RequestParser::State state = parser_.Feed(in_.view(), &consumed);
    in_.Consume(consumed);
    if (parser_.in_request() && request_start_ms_ == 0) request_start_ms_ = UnixTimeMs();
    if (parser_.wants_continue() && state == RequestParser::State::kNeedMore) {
      // The client waits for this before sending a large body (curl does above 1 MiB).
      http_out_.append("HTTP/1.1 100 Continue\r\n\r\n");
      parser_.ContinueSent();
    }
    if (state == RequestParser::State::kNeedMore) break;
    if (state == RequestParser::State::kError) {
      FailRequest(parser_.error_status(), parser_.error_message());
      break;
    }
    busy_ = true;
    request_start_ms_ = 0;
    last_interaction_ms = UnixTimeMs();
    HandleRequest(*this, parser_.request());
  }
  if (!busy_ && in_.empty()) in_.ShrinkIfIdle(64 * 1024);
}

void HttpConnection::FailRequest(int status, const std::string& message) {
  Response r = ErrorResponse(status, message);
  r.close = true;
  ThisThreadHttpStats().CountStatus(status);
  SerializeResponse(r, nullptr, &http_out_);
  close_after_write_ = true;
  in_.Consume(in_.size());
}

void HttpConnection::Respond(Response r) {
  if (!busy_) return;  // A timeout already answered (and is closing the connection).
  busy_ = false;
  ThisThreadHttpStats().CountStatus(r.status);
  if (SerializeResponse(r, &parser_.request(), &http_out_)) close_after_write_ = true;
  parser_.Next();
  last_activity_ms_ = UnixTimeMs();
}

void HttpConnection::RunCommands(std::vector<std::vector<std::string>> commands, RepliesFn done) {
  commands_ = std::move(commands);
  next_command_ = 0;
  commands_done_ = std::move(done);
  out().clear();
  PumpCommands();
}

void HttpConnection::PumpCommands() {
  // The same protocol as Connection::ProcessInput: a deferred command waits for the pending run.
  protocol::ArgList args;
  while (next_command_ < commands_.size()) {
    args.clear();
    for (const std::string& a : commands_[next_command_]) args.push_back(a);
    server::Submitted r = server::Dispatcher::Submit(*this, args);
    if (r == server::Submitted::kDeferred) {
      if (server::Dispatcher::Flush(*this)) {
        waiting_ = true;
        return;
      }
      continue;
    }
    ++next_command_;
    if (r == server::Submitted::kAsync) {
      waiting_ = true;
      return;
    }
  }
  if (server::Dispatcher::Flush(*this)) {
    waiting_ = true;
    return;
  }
  Replies replies;
  bool ok = ParseAllResp3(out(), &replies);
  out().clear();
  RepliesFn done = std::move(commands_done_);
  size_t expected = commands_.size();
  commands_.clear();
  if (!ok || replies.size() != expected) {
    SHOAL_LOG(kWarning, "HTTP: %d replies for %d commands (unparsable: %d)", replies.size(),
              expected, !ok);
    Respond(ErrorResponse(500, "internal error: unexpected command replies"));
    return;
  }
  done(replies);
}

void HttpConnection::ResumeAfterAsync() {
  waiting_ = false;
  if (closed_) {
    DestroyWhenIdle();
    return;
  }
  PumpCommands();
  Continue();
}

void HttpConnection::Continue() {
  if (closed_) return;
  if (!busy_) ProcessInput();
  if (!closed_) WriteOut();
}

void HttpConnection::PollShards(std::function<std::string(shard::Shard&)> fn, int64_t timeout_ms,
                                PollFn done) {
  struct Poll {
    PollResults results;
    size_t pending;
    bool finished = false;
    bool in_setup = true;  // Finishing inside PollShards: the caller's loop goes on by itself.
    uint64_t timer = 0;
    PollFn done;
  };
  shard::ShardSet& shards = *server::ServerState::Get().shards;
  auto poll = std::make_shared<Poll>();
  poll->results.resize(shards.size());
  poll->pending = shards.size();
  poll->done = std::move(done);
  shard::Shard* home_shard = &home();
  HttpConnection* self = this;
  in_flight++;  // Until every shard answered, even after the timeout: tasks point to us.
  auto finish = [self, poll] {
    if (poll->finished) return;
    poll->finished = true;
    if (!self->closed_) {
      poll->done(poll->results);
      if (!poll->in_setup) self->Continue();
    }
  };
  auto answer = [self, poll, finish, home_shard](size_t i, std::string r) {
    poll->results[i] = std::move(r);
    if (--poll->pending > 0) return;
    self->in_flight--;
    if (!poll->finished) {
      home_shard->loop().CancelOnce(poll->timer);
      finish();
    }
    if (self->closed_) self->DestroyWhenIdle();
  };
  poll->timer = home_shard->loop().RunOnceAfter(timeout_ms, finish);
  auto shared_fn = std::make_shared<std::function<std::string(shard::Shard&)>>(std::move(fn));
  for (size_t i = 0; i < shards.size(); ++i) {
    shard::Shard* target = &shards.shard(i);
    if (target == home_shard) continue;
    target->Post([target, home_shard, shared_fn, answer, i] {
      std::string r = (*shared_fn)(*target);
      home_shard->Post([answer, i, r = std::move(r)]() mutable { answer(i, std::move(r)); });
    });
  }
  answer(home_shard->id(), (*shared_fn)(*home_shard));  // Last: may complete the poll.
  poll->in_setup = false;
}

void HttpConnection::WriteOut() {
  if (!server::LogAcks::MaySend(*this)) {
    UpdateInterest();
    return;
  }
  size_t sent_before = out_sent_;
  if (!net::SendPending(fd, http_out_, &out_sent_)) {
    Close();
    return;
  }
  if (out_sent_ != sent_before) last_activity_ms_ = UnixTimeMs();
  if (out_sent_ == http_out_.size()) {
    http_out_.clear();
    out_sent_ = 0;
    if (http_out_.capacity() > 1024 * 1024) http_out_.shrink_to_fit();
    if (close_after_write_ && !busy_ && !lingering_) {
      StartLingeringClose();
      return;
    }
    if (peer_closed_ && !busy_ && !lingering_) {
      Close();
      return;
    }
  }
  UpdateInterest();
}

void HttpConnection::StartLingeringClose() {
  lingering_ = true;
  ::shutdown(fd, SHUT_WR);
  in_.Consume(in_.size());
  linger_deadline_ms_ = UnixTimeMs() + kLingerMs;
  UpdateInterest();
}

void HttpConnection::UpdateInterest() {
  uint32_t events = 0;
  bool reading = lingering_ || (!peer_closed_ && !(busy_ && in_.size() > kMaxBufferedInput));
  if (reading) events |= EPOLLIN;
  if (!lingering_ && out_sent_ < http_out_.size() && !log_held) events |= EPOLLOUT;
  if (events != interest_) {
    interest_ = events;
    home().loop().Modify(fd, events, this);
  }
}

void HttpConnection::CheckTimeouts(int64_t now_ms) {
  if (closed_) return;
  if (lingering_) {
    if (now_ms >= linger_deadline_ms_) Close();
    return;
  }
  server::Config& config = server::ServerState::Get().config;
  if (close_after_write_) {  // A final answer the peer does not read: give up on it.
    if (now_ms - last_activity_ms_ > config.http_keepalive_timeout.load() * 1000) Close();
    return;
  }
  if (!busy_ && request_start_ms_ != 0 &&
      now_ms - request_start_ms_ > config.http_timeout.load() * 1000) {
    SHOAL_LOG(kVerbose, "HTTP: request from %s not complete after %ds", peer_addr,
              config.http_timeout.load());
    FailRequest(408, "request not received completely within " +
                         std::to_string(config.http_timeout.load()) + " seconds");
    WriteOut();
    return;
  }
  bool idle = !busy_ && request_start_ms_ == 0 && in_flight == 0;
  if (idle && now_ms - last_activity_ms_ > config.http_keepalive_timeout.load() * 1000) {
    Close();
  }
}

void HttpConnection::Kill() { Close(); }

void HttpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  server::ForgetTransactionState(*this);
  home().loop().Remove(fd);
  ::close(fd);
  fd = -1;
  thread_connections.erase(this);
  open_connections--;
  DestroyWhenIdle();
}

void HttpConnection::DestroyAtShutdown() {
  Close();
  in_flight = 0;
  DestroyWhenIdle();
}

void HttpConnection::DestroyWhenIdle() {
  if (in_flight > 0 || destroy_scheduled_) return;
  destroy_scheduled_ = true;
  home().RunAfterEvents([this] { delete this; });
}

void CheckHttpTimeouts() {
  int64_t now = UnixTimeMs();
  // A copy: a connection closing leaves the set.
  std::vector<HttpConnection*> all(thread_connections.begin(), thread_connections.end());
  for (HttpConnection* c : all) c->CheckTimeouts(now);
}

void CloseHttpConnections() {
  std::vector<HttpConnection*> all(thread_connections.begin(), thread_connections.end());
  for (HttpConnection* c : all) c->DestroyAtShutdown();
}

}  // namespace shoal::http
