#include "net/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/logging.h"
#include "net/listener.h"
#include "server/blocking.h"
#include "server/dispatcher.h"
#include "server/log_acks.h"
#include "server/multi_exec.h"
#include "server/server_state.h"
#include "server/thread_state.h"
#include "shard/shard.h"

namespace shoal::net {

namespace {
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kKeepInputCapacity = 256 * 1024;  // Idle connections give back more than this.
}  // namespace

Connection::Connection(int fd_arg, shard::Shard* home, uint64_t id, std::string peer,
                       std::string local)
    : Client(id, home) {
  fd = fd_arg;
  peer_addr = std::move(peer);
  local_addr = std::move(local);
  parser_.set_max_bulk_len(server::ServerState::Get().config.proto_max_bulk_len.load());
  authenticated = server::ServerState::Get().config.GetString("requirepass").empty();
}

Connection::~Connection() {
  if (fd >= 0) close(fd);
}

void Connection::Start() {
  server::ThreadState::Get().clients.insert(this);
  server::ThreadState::Get().total_connections++;
  server::ServerState::Get().connected_clients++;
  home().loop().Add(fd, EPOLLIN, this);
}

void Connection::OnEvents(uint32_t events) {
  if (closed_) return;
  if ((events & EPOLLHUP) && !(events & EPOLLIN)) {
    Close();  // Both directions gone and nothing left to read.
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    ReadResult r = ReadSome();
    if (r == ReadResult::kOverLimit) {
      // Like Redis: the offending input never runs.
      SHOAL_LOG(kWarning, "Closing client that reached max query buffer length: id=%d addr=%s",
                id(), peer_addr);
      Close();
      return;
    }
    // Commands that arrived before the peer closed its side still run and get replies, except
    // that a blocked client that hangs up is gone (as in Redis): nothing would end its wait.
    if (r == ReadResult::kEof) {
      peer_closed_ = true;
      if (blocked != nullptr) {
        Close();
        return;
      }
    }
    ProcessInput();
  }
  if (!closed_) WriteReplies();
}

Connection::ReadResult Connection::ReadSome() {
  server::ThreadState& ts = server::ThreadState::Get();
  const size_t limit =
      static_cast<size_t>(server::ServerState::Get().config.client_query_buffer_limit.load());
  for (int rounds = 0; rounds < 16; ++rounds) {
    if (waiting_ && in_.size() > limit) {
      // Complete commands are queued behind a hop, not stuck: stop reading until it returns
      // (the socket's own buffer then pushes back on the client), rather than kill a fast
      // pipeline. UpdateInterest() drops EPOLLIN while this holds.
      reading_paused_ = true;
      return ReadResult::kOk;
    }
    // A large bulk string being received gets room for all of it at once.
    size_t want = kReadChunk;
    if (parser_.expected_size() > in_.size()) {
      want = std::max(want, parser_.expected_size() - in_.size());
    }
    char* dst = in_.PrepareAppend(want);
    ssize_t n = read(fd, dst, want);
    if (n == 0) return ReadResult::kEof;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return ReadResult::kOk;
      return ReadResult::kEof;
    }
    in_.CommitAppend(static_cast<size_t>(n));
    ts.net_input_bytes += static_cast<uint64_t>(n);
    // Only input that is not waiting behind a hop counts: that is the unparsed query buffer.
    if (!waiting_ && in_.size() > limit) return ReadResult::kOverLimit;
    if (static_cast<size_t>(n) < want) return ReadResult::kOk;
  }
  return ReadResult::kOk;
}

void Connection::ProcessInput() {
  struct Processing {
    bool& flag;
    ~Processing() { flag = false; }
  } processing{processing_};
  processing_ = true;
  last_interaction_ms = UnixTimeMs();
  while (!waiting_ && !closed_ && !close_after_reply && !in_.empty()) {
    std::string_view buf = in_.view();
    size_t consumed = 0;
    protocol::ParseState state = parser_.Parse(buf, &args_, &consumed);
    if (state == protocol::ParseState::kNeedMore) break;
    if (state == protocol::ParseState::kEmpty) {
      in_.Consume(consumed);
      continue;
    }
    if (state == protocol::ParseState::kError) {
      // Replies still owed to earlier commands go first.
      if (server::Dispatcher::Flush(*this)) {
        waiting_ = true;
        return;
      }
      reply().Error("ERR " + parser_.error());
      SHOAL_LOG(kVerbose, "Protocol error (%s) from client: id=%d addr=%s", parser_.error(), id(),
                peer_addr);
      close_after_reply = true;
      in_.Consume(in_.size());
      break;
    }
    server::Submitted r = server::Dispatcher::Submit(*this, args_);
    if (r == server::Submitted::kDeferred) {
      waiting_ = server::Dispatcher::Flush(*this);
      continue;  // When nothing was pending, retry now; otherwise the loop ends.
    }
    in_.Consume(consumed);
    if (r == server::Submitted::kAsync) waiting_ = true;
  }
  if (!waiting_ && server::Dispatcher::Flush(*this)) waiting_ = true;
  in_.ShrinkIfIdle(kKeepInputCapacity);
}

void Connection::ResumeAfterAsync() {
  waiting_ = false;
  if (closed_) {
    DestroyWhenIdle();
    return;
  }
  reading_paused_ = false;
  ProcessInput();
  if (!closed_) WriteReplies();
}

bool SendPending(int fd, const std::string& buf, size_t* sent) {
  server::ThreadState& ts = server::ThreadState::Get();
  while (*sent < buf.size()) {
    ssize_t n = send(fd, buf.data() + *sent, buf.size() - *sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return true;
      if (errno == EINTR) continue;
      return false;
    }
    *sent += static_cast<size_t>(n);
    ts.net_output_bytes += static_cast<uint64_t>(n);
  }
  return true;
}

void Connection::WriteReplies() {
  // Replies to writes wait until the append-only file has them (server/log_acks.h).
  if (!server::LogAcks::MaySend(*this)) {
    UpdateInterest();
    return;
  }
  std::string& buf = out();
  if (!SendPending(fd, buf, &out_sent_)) {
    Close();
    return;
  }
  if (out_sent_ == buf.size()) {
    buf.clear();
    out_sent_ = 0;
    if (buf.capacity() > 1024 * 1024) buf.shrink_to_fit();
    if ((close_after_reply || peer_closed_) && !waiting_) {
      Close();
      return;
    }
  }
  UpdateInterest();
}

void Connection::UpdateInterest() {
  uint32_t events = 0;
  if (!peer_closed_ && !reading_paused_) events |= EPOLLIN;
  if (out_sent_ < out().size() && !log_held) events |= EPOLLOUT;
  if (events != interest_) {
    interest_ = events;
    home().loop().Modify(fd, events, this);
  }
}

void Connection::Kill() {
  if (blocked != nullptr) {
    Close();  // Its wait would hold the connection open indefinitely.
    return;
  }
  close_after_reply = true;
  if (!waiting_) WriteReplies();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  server::CancelBlock(*this);
  server::ForgetTransactionState(*this);
  home().loop().Remove(fd);
  ::close(fd);
  fd = -1;
  server::ThreadState::Get().clients.erase(this);
  server::ServerState::Get().connected_clients--;
  DestroyWhenIdle();
}

void Connection::DestroyWhenIdle() {
  // Hops still in flight hold a pointer to us; the last one to return frees us.
  if (in_flight > 0 || destroy_scheduled_) return;
  destroy_scheduled_ = true;
  home().RunAfterEvents([this] { delete this; });
}

void CloseIdleConnections() {
  int64_t timeout_s = server::ServerState::Get().config.timeout.load();
  if (timeout_s <= 0) return;
  int64_t now = UnixTimeMs();
  std::vector<Connection*> idle;
  for (server::Client* c : server::ThreadState::Get().clients) {
    // A client waiting for a hop is busy, not idle.
    if (c->in_flight == 0 && now - c->last_interaction_ms > timeout_s * 1000) {
      idle.push_back(static_cast<Connection*>(c));
    }
  }
  for (Connection* c : idle) {
    SHOAL_LOG(kVerbose, "Closing idle client id=%d addr=%s", c->id(), c->peer_addr);
    c->Close();
  }
}

void Connection::ServeWhileBusy() {
  if (closed_ || waiting_ || processing_ || blocked != nullptr) return;
  OnEvents(EPOLLIN);
}

void ServeConnectionsWhileBusy() {
  Listener::AcceptWhileBusy();
  // A copy: a connection may close (and leave the set) while served; it is freed only later,
  // after the loop's events, so the pointers stay valid here.
  const auto& set = server::ThreadState::Get().clients;
  std::vector<server::Client*> clients(set.begin(), set.end());
  for (server::Client* c : clients) static_cast<Connection*>(c)->ServeWhileBusy();
}

}  // namespace shoal::net
