#include "http/http_server.h"

#include <unistd.h>

#include "common/logging.h"
#include "http/http_connection.h"
#include "http/response.h"
#include "protocol/resp_parser.h"
#include "server/server_state.h"

namespace shoal::http {

namespace {

constexpr int64_t kTimeoutTickMs = 250;

void Accept(int fd, shard::Shard* shard, std::string peer, std::string local) {
  server::ServerState& state = server::ServerState::Get();
  if (HttpConnectionCount() >= state.config.maxclients.load()) {
    std::string out;
    Response r = ErrorResponse(503, "max number of clients reached");
    r.close = true;
    SerializeResponse(r, nullptr, &out);
    ssize_t ignored = write(fd, out.data(), out.size());
    (void)ignored;
    close(fd);
    return;
  }
  auto* conn = new HttpConnection(fd, shard, state.next_client_id.fetch_add(1), std::move(peer),
                                  std::move(local));
  conn->Start();
}

}  // namespace

HttpServer::HttpServer() = default;

HttpServer::~HttpServer() {
  for (auto& per_shard : fds_) {
    for (int fd : per_shard) {
      if (fd >= 0 && listeners_.empty()) close(fd);  // Listeners own them once created.
    }
  }
}

Status HttpServer::OpenSockets(size_t threads, const std::vector<std::string>& default_hosts) {
  server::Config& config = server::ServerState::Get().config;
  int port = static_cast<int>(config.http_port.load());
  if (port == 0) return Status::Ok();
  std::vector<std::string> hosts;
  protocol::SplitInlineArgs(config.GetString("http-bind"), &hosts);
  if (hosts.empty()) hosts = default_hosts;
  for (const std::string& host : hosts) {
    Status free = net::CheckPortFree(host, port);
    if (!free.ok()) return Status::Error("HTTP: " + free.message());
  }
  fds_.assign(threads, {});
  for (size_t i = 0; i < threads; ++i) {
    for (const std::string& host : hosts) {
      Result<int> fd = net::OpenListenSocket(host, port);
      if (!fd.ok()) return Status::Error("HTTP: " + fd.status().message());
      fds_[i].push_back(*fd);
    }
  }
  return Status::Ok();
}

void HttpServer::CreateListeners(shard::ShardSet& shards) {
  listeners_.resize(fds_.size());
  for (size_t i = 0; i < fds_.size(); ++i) {
    for (int fd : fds_[i]) {
      listeners_[i].push_back(std::make_unique<net::Listener>(fd, &shards.shard(i), Accept));
    }
  }
}

void HttpServer::StartOn(shard::Shard& s) {
  if (s.id() < listeners_.size()) {
    for (auto& l : listeners_[s.id()]) l->Start();
  }
  if (enabled()) s.loop().AddTimer(kTimeoutTickMs, CheckHttpTimeouts);
}

void HttpServer::CloseConnectionsOn(shard::Shard&) { CloseHttpConnections(); }

}  // namespace shoal::http
