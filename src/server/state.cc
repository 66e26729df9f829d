#include "server/server_state.h"
#include "server/thread_state.h"

namespace shoal::server {

ThreadState& ThreadState::Get() {
  thread_local ThreadState state;
  return state;
}

bool ServerState::RefuseWritesAfterSaveError() const {
  if (!last_bgsave_failed.load(std::memory_order_relaxed)) return false;
  return config.GetString("stop-writes-on-bgsave-error") == "yes" &&
         !config.GetString("save").empty();
}

ServerState& ServerState::Get() {
  static ServerState* state = new ServerState();
  return *state;
}

}  // namespace shoal::server
