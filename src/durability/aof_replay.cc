#include "durability/aof_replay.h"

#include <future>

#include "common/logging.h"
#include "protocol/resp_parser.h"
#include "server/client.h"
#include "server/dispatcher.h"
#include "server/server_state.h"

namespace shoal::durability {
namespace {

// A client with no socket: what ProcessInput does for a connection, over a list of commands.
class ReplayClient final : public server::Client {
 public:
  ReplayClient(shard::Shard* home, const std::vector<std::vector<std::string_view>>& commands,
               ReplayStats* stats, std::promise<void>* done)
      : Client(server::ServerState::Get().next_client_id++, home),
        commands_(commands),
        stats_(stats),
        done_(done) {}

  void Run() {
    while (next_ < commands_.size()) {
      args_.assign(commands_[next_].begin(), commands_[next_].end());
      server::Submitted r = server::Dispatcher::Submit(*this, args_);
      if (r == server::Submitted::kDeferred) {
        if (server::Dispatcher::Flush(*this)) return;  // ResumeAfterAsync comes back here.
        continue;
      }
      ++next_;
      ++stats_->commands;
      if (r == server::Submitted::kAsync) return;
      if (out().size() > (1 << 20)) Drain();
    }
    if (server::Dispatcher::Flush(*this)) return;
    Drain();
    done_->set_value();
  }

  void ResumeAfterAsync() override { Run(); }
  void Kill() override {}
  void SendHeldReplies() override {}
  bool closed() const override { return false; }

 private:
  // Counts error replies, and forgets the rest.
  void Drain() {
    std::string& o = out();
    size_t pos = 0;
    while (pos < o.size()) {
      size_t eol = o.find("\r\n", pos);
      if (eol == std::string::npos) break;
      if (o[pos] == '-') {
        if (stats_->errors++ < 5) {
          SHOAL_LOG(kWarning, "AOF replay: a command failed: %s", o.substr(pos + 1, eol - pos - 1));
        }
      }
      pos = eol + 2;
    }
    o.clear();
  }

  const std::vector<std::vector<std::string_view>>& commands_;
  ReplayStats* stats_;
  std::promise<void>* done_;
  size_t next_ = 0;
  protocol::ArgList args_;
};

}  // namespace

Status ReplayCommands(shard::ShardSet& shards,
                      const std::vector<std::vector<std::string_view>>& commands,
                      ReplayStats* stats) {
  if (commands.empty()) return Status::Ok();
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  ReplayClient* client = nullptr;
  shards.shard(0).Post([&] {
    client = new ReplayClient(&shards.shard(0), commands, stats, &done);
    client->Run();
  });
  finished.wait();
  // The client is idle now (its last step set the promise); free it on its own thread.
  std::promise<void> freed;
  shards.shard(0).Post([&] {
    delete client;
    freed.set_value();
  });
  freed.get_future().wait();
  return Status::Ok();
}

}  // namespace shoal::durability
