// Listener: a listening socket on one shard's loop. Every shard opens its own socket on the same
// address with SO_REUSEPORT, so the kernel spreads new connections over the shards and no thread
// hands sockets to another.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "shard/event_loop.h"
#include "shard/shard.h"

namespace shoal::net {

// Opens a non-blocking listening socket on host:port with SO_REUSEPORT. Returns the fd or an
// error naming the address.
Result<int> OpenListenSocket(const std::string& host, int port);

class Listener final : private shard::Watcher {
 public:
  // Takes ownership of `fd`. Call Start() on the shard's thread.
  Listener(int fd, shard::Shard* shard);
  ~Listener() override;

  void Start();

  // Accepts waiting connections on this thread's listeners now: a busy script's thread lets
  // new clients in (to be answered BUSY, or to send SCRIPT KILL), as Redis does.
  static void AcceptWhileBusy();

 private:
  void OnEvents(uint32_t events) override;

  int fd_;
  shard::Shard* shard_;
};

}  // namespace shoal::net
