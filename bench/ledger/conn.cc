#include "conn.h"

#include <fcntl.h>
#include <hiredis/sds.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ledger {
namespace {

int ConnectSocket(const std::string& host, int port, double timeout_s, std::string* err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    *err = "cannot resolve " + host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (poll(&p, 1, static_cast<int>(timeout_s * 1000)) == 1 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0) {
        break;
      }
      *err = soerr ? std::strerror(soerr) : "connect timed out";
    } else {
      *err = std::strerror(errno);
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    *err = "cannot connect to " + host + ":" + service + ": " + *err;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

}  // namespace

std::unique_ptr<Conn> Conn::Open(const std::string& host, int port, double timeout_s,
                                 std::string* err) {
  int fd = ConnectSocket(host, port, timeout_s, err);
  if (fd < 0) return nullptr;
  redisContext* ctx = redisConnectFd(fd);
  if (ctx == nullptr || ctx->err) {
    *err = ctx ? ctx->errstr : "out of memory";
    if (ctx) redisFree(ctx);
    return nullptr;
  }
  // The socket is non-blocking already; this makes hiredis treat EAGAIN as "try later".
  ctx->flags &= ~REDIS_BLOCK;
  return std::unique_ptr<Conn>(new Conn(ctx));
}

Conn::~Conn() { redisFree(ctx_); }

void Conn::Append(const Args& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data());
  unsent_ = true;
}

bool Conn::Flush() {
  // redisBufferWrite makes one write(2) per call: call it until the buffer is empty (done) or
  // the socket takes nothing more (EAGAIN: wait for POLLOUT, then call Flush again).
  int done = 0;
  while (!done) {
    size_t before = sdslen(ctx_->obuf);
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return false;
    if (!done && sdslen(ctx_->obuf) == before) break;
  }
  unsent_ = !done;
  return true;
}

bool Conn::Fill() { return redisBufferRead(ctx_) == REDIS_OK; }

bool Conn::Next(Reply* out) {
  void* r = nullptr;
  if (redisGetReplyFromReader(ctx_, &r) != REDIS_OK) return false;
  out->reset(static_cast<redisReply*>(r));
  return true;
}

bool RoundTrip(Conn& conn, const std::vector<Args>& cmds, std::vector<Reply>* replies,
               double timeout_s, std::string* err) {
  replies->clear();
  for (const Args& c : cmds) conn.Append(c);
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (replies->size() < cmds.size()) {
    Reply r;
    if (!conn.Next(&r)) {
      *err = "protocol error: " + conn.error();
      return false;
    }
    if (r) {
      replies->push_back(std::move(r));
      continue;
    }
    if (conn.wants_write() && !conn.Flush()) {
      *err = conn.error();
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      *err = "no reply within " + Seconds(timeout_s) + " s (got " +
             std::to_string(replies->size()) + " of " + std::to_string(cmds.size()) + ")";
      return false;
    }
    pollfd p{conn.fd(), static_cast<short>(POLLIN | (conn.wants_write() ? POLLOUT : 0)), 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
    if (n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP)) && !conn.Fill()) {
      *err = conn.error();
      return false;
    }
  }
  return true;
}

std::string Describe(const redisReply* r) {
  if (r == nullptr) return "(no reply)";
  switch (r->type) {
    case REDIS_REPLY_NIL:
      return "(nil)";
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_ARRAY:
      return "(array of " + std::to_string(r->elements) + ")";
    default: {
      // Errors as "-ERR ...", other strings quoted; at most 200 bytes of either.
      std::string out(r->type == REDIS_REPLY_ERROR ? "-" : "\"");
      out.append(r->str, std::min<size_t>(r->len, 200));
      if (r->type != REDIS_REPLY_ERROR) out.push_back('"');
      return out;
    }
  }
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

bool IsError(const redisReply* r) { return r != nullptr && r->type == REDIS_REPLY_ERROR; }

bool IsStatus(const redisReply* r, const char* text) {
  return r != nullptr && r->type == REDIS_REPLY_STATUS && std::strcmp(r->str, text) == 0;
}

bool AsInt(const redisReply* r, long long* out) {
  if (r == nullptr) return false;
  if (r->type == REDIS_REPLY_INTEGER) {
    *out = r->integer;
    return true;
  }
  if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(r->str, &end, 10);
  if (errno != 0 || end != r->str + r->len) return false;
  *out = v;
  return true;
}

}  // namespace ledger
