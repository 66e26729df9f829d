#include "server/command_context.h"

#include <memory>

#include "server/blocking.h"
#include "server/client.h"
#include "server/server_state.h"

namespace shoal::server {

ServerState& CommandContext::server() { return ServerState::Get(); }

namespace {

// A fan-out in progress. Lives on the connection's thread: only that thread counts replies.
struct PendingFanOut {
  Client* client;
  const CommandSpec* spec;
  int db_index;
  shard::Shard* home;
  size_t remaining;
  CommandContext::Continuation then;
};

// Runs on: the connection's thread, after the last shard answered.
void FinishFanOut(PendingFanOut* p) {
  Client* c = p->client;
  c->in_flight--;
  // The continuation runs even if the client is gone: it may finish a write (the second half of
  // a cross-shard RENAME). Only its reply is wasted.
  CommandContext ctx(p->spec, {}, &c->reply(), p->home, p->db_index, c);
  p->then(ctx);
  bool continues = ctx.async();
  delete p;
  if (!continues) c->AsyncDone();
}

}  // namespace

namespace {
thread_local bool t_sync_fanout = false;
}  // namespace

CommandContext::SyncFanOutScope::SyncFanOutScope() : saved_(t_sync_fanout) {
  t_sync_fanout = true;
}
CommandContext::SyncFanOutScope::~SyncFanOutScope() { t_sync_fanout = saved_; }

void CommandContext::FanOut(const std::vector<shard::ShardId>& shards, ShardFn fn,
                            Continuation then) {
  shard::Shard* home = shard_;
  bool local = false;
  std::vector<shard::Shard*> remote;
  shard::ShardSet& set = home->shard_set();
  for (shard::ShardId s : shards) {
    if (s == home->id()) {
      local = true;
    } else {
      remote.push_back(&set.shard(s));
    }
  }
  if (t_sync_fanout) {
    for (shard::Shard* target : remote) {
      home->CallSync(*target, [&] {
        fn(*target);
        ThisShardBlocking().ServeReady(*target);
      });
    }
    remote.clear();
  }
  if (remote.empty()) {
    if (local) {
      fn(*home);
      ThisShardBlocking().ServeReady(*home);
    }
    then(*this);
    return;
  }
  async_ = true;
  auto* pending = new PendingFanOut{client_, spec_, db_index_, home, remote.size(), std::move(then)};
  client_->in_flight++;
  auto shared_fn = std::make_shared<ShardFn>(std::move(fn));
  for (shard::Shard* target : remote) {
    target->Post([shared_fn, target, home, pending] {
      (*shared_fn)(*target);
      ThisShardBlocking().ServeReady(*target);
      home->Post([pending] {
        if (--pending->remaining == 0) FinishFanOut(pending);
      });
    });
  }
  // The local part runs after the posts so it overlaps with the remote ones.
  if (local) {
    (*shared_fn)(*home);
    ThisShardBlocking().ServeReady(*home);
  }
}

void CommandContext::FanOutAll(ShardFn fn, Continuation then) {
  std::vector<shard::ShardId> all;
  for (size_t i = 0; i < shard_->shard_set().size(); ++i) all.push_back(i);
  FanOut(all, std::move(fn), std::move(then));
}

}  // namespace shoal::server
