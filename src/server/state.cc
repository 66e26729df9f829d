#include "server/server_state.h"

#include "protocol/errors.h"
#include "server/thread_state.h"

namespace shoal::server {

ThreadState& ThreadState::Get() {
  thread_local ThreadState state;
  return state;
}

void ServerState::SetAofWriteError(std::string why) {
  std::lock_guard<std::mutex> l(aof_error_mu_);
  aof_write_failed.store(!why.empty(), std::memory_order_relaxed);
  aof_write_error_ = std::move(why);
}

std::string ServerState::WriteRefusal() const {
  if (aof_write_failed.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> l(aof_error_mu_);
    if (!aof_write_error_.empty()) return "MISCONF Errors writing to the AOF file: " + aof_write_error_;
  }
  if (last_bgsave_failed.load(std::memory_order_relaxed) &&
      config.GetString("stop-writes-on-bgsave-error") == "yes" &&
      !config.GetString("save").empty()) {
    return std::string(protocol::kErrMisconfSave);
  }
  return "";
}

ServerState& ServerState::Get() {
  static ServerState* state = new ServerState();
  return *state;
}

}  // namespace shoal::server
