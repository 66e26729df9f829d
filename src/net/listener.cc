#include "net/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/logging.h"
#include "net/connection.h"
#include "server/server_state.h"

namespace shoal::net {

namespace {

std::string FormatAddress(const sockaddr_storage& sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (sa.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

namespace {

// Resolves host:port for a passive socket; "*" or "" means every local address.
Result<addrinfo*> ResolvePassive(const std::string& host, const std::string& port_str) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const char* node = (host == "*" || host.empty()) ? nullptr : host.c_str();
  int rc = getaddrinfo(node, port_str.c_str(), &hints, &res);
  if (rc != 0) return Status::Error("Could not resolve " + host + ": " + gai_strerror(rc));
  return res;
}

// A socket bound to `ai` (SO_REUSEADDR: TIME_WAIT is no owner; IPv6 sockets IPv6 only), or -1
// with errno set. `reuse_port` shares the port with our other shards' sockets.
int BindSocket(const addrinfo* ai, int extra_type_flags, bool reuse_port) {
  int fd = socket(ai->ai_family, ai->ai_socktype | extra_type_flags | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

std::string ListenError(const std::string& host, const std::string& port_str,
                        const std::string& why) {
  return "Could not create server TCP listening socket " + host + ":" + port_str + ": " + why;
}

}  // namespace

Status CheckPortFree(const std::string& host, int port) {
  std::string port_str = std::to_string(port);
  Result<addrinfo*> res = ResolvePassive(host, port_str);
  if (!res.ok()) return res.status();
  Status status = Status::Ok();
  for (addrinfo* ai = *res; ai != nullptr && status.ok(); ai = ai->ai_next) {
    int fd = BindSocket(ai, 0, /*reuse_port=*/false);
    if (fd >= 0) {
      close(fd);
    } else if (errno == EADDRINUSE) {
      status = Status::Error(ListenError(host, port_str, "bind: Address already in use"));
    }
    // Other failures (an address family this host lacks): OpenListenSocket reports or skips them.
  }
  freeaddrinfo(*res);
  return status;
}

Result<int> OpenListenSocket(const std::string& host, int port) {
  std::string port_str = std::to_string(port);
  Result<addrinfo*> res = ResolvePassive(host, port_str);
  if (!res.ok()) return res.status();
  std::string last_error = "no address";
  for (addrinfo* ai = *res; ai != nullptr; ai = ai->ai_next) {
    int fd = BindSocket(ai, SOCK_NONBLOCK, /*reuse_port=*/true);
    if (fd >= 0 && listen(fd, 511) == 0) {
      freeaddrinfo(*res);
      return fd;
    }
    last_error = strerror(errno);
    if (fd >= 0) close(fd);
  }
  freeaddrinfo(*res);
  return Status::Error(ListenError(host, port_str, last_error));
}

Listener::Listener(int fd, shard::Shard* shard, AcceptFn on_accept)
    : fd_(fd), shard_(shard), on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
  if (fd_ >= 0) close(fd_);
}

namespace {
thread_local std::vector<Listener*> thread_listeners;  // Started on this thread.
}  // namespace

void Listener::Start() {
  shard_->loop().Add(fd_, EPOLLIN, this);
  thread_listeners.push_back(this);
}

void Listener::AcceptWhileBusy() {
  for (Listener* l : thread_listeners) l->OnEvents(EPOLLIN);
}

void Listener::OnEvents(uint32_t) {
  server::ServerState& state = server::ServerState::Get();
  for (int i = 0; i < 64; ++i) {  // Bounded: accepting must not starve this shard's clients.
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR) {
        SHOAL_LOG(kWarning, "Accepting client connection: %s", strerror(errno));
      }
      return;
    }
    if (!on_accept_ && state.connected_clients.load() >= state.config.maxclients.load()) {
      static constexpr char kMsg[] = "-ERR max number of clients reached\r\n";
      ssize_t ignored = write(fd, kMsg, sizeof(kMsg) - 1);
      (void)ignored;
      close(fd);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int keepalive = static_cast<int>(state.config.tcp_keepalive.load());
    if (keepalive > 0) {
      setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive, sizeof(keepalive));
    }
    sockaddr_storage local{};
    socklen_t local_len = sizeof(local);
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
    if (on_accept_) {
      on_accept_(fd, shard_, FormatAddress(peer), FormatAddress(local));
      continue;
    }
    auto* conn = new Connection(fd, shard_, state.next_client_id.fetch_add(1),
                                FormatAddress(peer), FormatAddress(local));
    conn->Start();
  }
}

}  // namespace shoal::net
