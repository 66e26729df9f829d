#include "server/server_state.h"
#include "server/thread_state.h"

namespace shoal::server {

ThreadState& ThreadState::Get() {
  thread_local ThreadState state;
  return state;
}

ServerState& ServerState::Get() {
  static ServerState* state = new ServerState();
  return *state;
}

}  // namespace shoal::server
