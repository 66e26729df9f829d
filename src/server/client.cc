#include "server/client.h"

#include "server/log_acks.h"

#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "server/dispatcher.h"
#include "server/multi_exec.h"
#include "server/watch.h"

namespace shoal::server {

Client::Client(uint64_t id, shard::Shard* home) : id_(id), home_(home) {
  created_ms = last_interaction_ms = UnixTimeMs();
}

Client::~Client() {
  if (log_held) LogAcks::Forget(*this);
}

std::string Client::Describe() const {
  int64_t now = UnixTimeMs();
  return absl::StrFormat(
      "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=N db=%d sub=0 psub=0 ssub=0 "
      "multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=%d "
      "tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d",
      id_, peer_addr, local_addr, fd, name, (now - created_ms) / 1000,
      (now - last_interaction_ms) / 1000, db_index, out_.size(), last_command, resp);
}

}  // namespace shoal::server
