// Listener: a listening socket on one shard's loop. Every shard opens its own socket on the same
// address with SO_REUSEPORT, so the kernel spreads new connections over the shards and no thread
// hands sockets to another.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "shard/event_loop.h"
#include "shard/shard.h"

namespace shoal::net {

// Opens a non-blocking listening socket on host:port with SO_REUSEPORT. Returns the fd or an
// error naming the address.
Result<int> OpenListenSocket(const std::string& host, int port);

// Fails when any socket is bound to host:port. Every shard opens its own SO_REUSEPORT socket, and
// SO_REUSEPORT would as happily let a second server process (of the same user) share the port and
// take half its connections; so before opening them, a probe binds without SO_REUSEPORT, which
// any listener already there refuses (EADDRINUSE), as Redis's single socket would be refused.
Status CheckPortFree(const std::string& host, int port);

class Listener final : private shard::Watcher {
 public:
  // Serves an accepted socket (non-blocking, TCP_NODELAY set) on `shard`'s thread. Another
  // front end (HTTP) passes its own; the default serves RESP with a net::Connection.
  using AcceptFn = std::function<void(int fd, shard::Shard* shard, std::string peer,
                                      std::string local)>;

  // Takes ownership of `fd`. Call Start() on the shard's thread.
  Listener(int fd, shard::Shard* shard, AcceptFn on_accept = nullptr);
  ~Listener() override;

  void Start();

  // Accepts waiting connections on this thread's listeners now: a busy script's thread lets
  // new clients in (to be answered BUSY, or to send SCRIPT KILL), as Redis does.
  static void AcceptWhileBusy();

 private:
  void OnEvents(uint32_t events) override;

  int fd_;
  shard::Shard* shard_;
  AcceptFn on_accept_;
};

}  // namespace shoal::net
