// HttpServer: the HTTP front end's listening sockets, one per shard and address on http-port
// with SO_REUSEPORT (as for RESP: the kernel spreads connections over the shards, and each shard
// serves its own on its own loop), plus each shard's timeout timer.
//
// Start-up order (main.cc): OpenSockets() before the shards start, so a taken port is a fatal
// error; CreateListeners() once the shards exist; StartOn(shard) on each shard's thread;
// CloseConnectionsOn(shard) on each shard's thread at shutdown.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/listener.h"
#include "shard/shard_set.h"

namespace shoal::http {

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();

  // Opens http-port (no-op when it is 0) on http-bind, or `default_hosts` when http-bind is
  // empty, once per shard. The error names the address.
  Status OpenSockets(size_t threads, const std::vector<std::string>& default_hosts);
  bool enabled() const { return !fds_.empty(); }
  void CreateListeners(shard::ShardSet& shards);
  // On `s`'s thread.
  void StartOn(shard::Shard& s);
  static void CloseConnectionsOn(shard::Shard& s);

 private:
  std::vector<std::vector<int>> fds_;  // Per shard.
  std::vector<std::vector<std::unique_ptr<net::Listener>>> listeners_;
};

}  // namespace shoal::http
