#include "server/multi_exec.h"

#include "server/atomic_run.h"
#include "server/server_state.h"
#include "server/thread_state.h"
#include "server/watch.h"
#include "shard/shard_set.h"

namespace shoal::server {

QueuedCommand QueuedCommand::Of(const CommandSpec* spec, ArgSpan args) {
  QueuedCommand q;
  q.spec = spec;
  q.args.assign(args.begin(), args.end());
  return q;
}

void QueueCommand(Client& client, const Plan& plan, ArgSpan args) {
  std::string error = plan.error;
  if (error.empty() && (plan.spec->flags & kNoMulti) != 0) {
    error = "ERR Command not allowed inside a transaction";
  }
  if (!error.empty()) {
    ThreadState& ts = ThreadState::Get();
    if (plan.spec != nullptr) ts.command_stats[plan.spec].rejected_calls++;
    ts.error_replies++;
    client.reply().Error(error);
    client.multi->aborted = true;
    return;
  }
  client.multi->commands.push_back(QueuedCommand::Of(plan.spec, args));
  client.reply().SimpleString("QUEUED");
}

namespace {

shard::ShardId OwnerOf(std::string_view key) { return ServerState::Get().shards->OwnerOf(key); }

// Tells the owners of the watched keys to forget them.
void Unwatch(const WatchSet& watch) {
  shard::ShardSet& set = *ServerState::Get().shards;
  for (const auto& [db, key] : watch.keys) {
    shard::Shard* owner = &set.shard(OwnerOf(key));
    auto forget = [state = watch.state, db = db, key = key] {
      ThisShardWatches().Unwatch(db, key, state.get());
    };
    if (owner == shard::Shard::Current()) {
      forget();
    } else {
      owner->Post(std::move(forget));
    }
  }
}

}  // namespace

void ClearWatches(Client& client) {
  if (client.watch == nullptr) return;
  Unwatch(*client.watch);
  client.watch.reset();
}

void ForgetTransactionState(Client& client) {
  client.multi.reset();
  ClearWatches(client);
}

void MultiCommand(CommandContext& ctx) {
  Client& c = *ctx.client();
  if (c.multi != nullptr) return ctx.ReplyError("ERR MULTI calls can not be nested");
  c.multi = std::make_unique<MultiState>();
  ctx.reply().Ok();
}

void DiscardCommand(CommandContext& ctx) {
  Client& c = *ctx.client();
  if (c.multi == nullptr) return ctx.ReplyError("ERR DISCARD without MULTI");
  ForgetTransactionState(c);
  ctx.reply().Ok();
}

void ExecCommand(CommandContext& ctx) {
  Client& c = *ctx.client();
  if (c.multi == nullptr) return ctx.ReplyError("ERR EXEC without MULTI");
  std::unique_ptr<MultiState> multi = std::move(c.multi);
  if (multi->aborted) {
    ClearWatches(c);
    return ctx.ReplyError("EXECABORT Transaction discarded because of previous errors.");
  }
  // The watch goes with the run: it is checked under the locks, then forgotten.
  if (AtomicRun::Start(c, std::move(multi->commands), std::move(c.watch), /*exec=*/true)) {
    ctx.Suspend();
  }
}

void WatchCommand(CommandContext& ctx) {
  Client& c = *ctx.client();
  if (c.multi != nullptr) return ctx.ReplyError("ERR WATCH inside MULTI is not allowed");
  if (c.watch == nullptr) c.watch = std::make_unique<WatchSet>();
  WatchSet& watch = *c.watch;
  int db = ctx.db_index();
  std::vector<std::string> added;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::pair<int, std::string> entry(db, std::string(ctx.arg(i)));
    bool known = false;
    for (const auto& k : watch.keys) known = known || k == entry;
    if (known) continue;
    watch.keys.push_back(entry);
    added.push_back(std::move(entry.second));
  }
  std::vector<shard::ShardId> owners;
  for (const std::string& k : added) {
    shard::ShardId id = OwnerOf(k);
    if (std::find(owners.begin(), owners.end(), id) == owners.end()) owners.push_back(id);
  }
  // Each owner files the watch and notes whether the key exists now (for expiry, see watch.h).
  ctx.FanOut(
      owners,
      [state = watch.state, db, added](shard::Shard& s) {
        int64_t now = UnixTimeMs();
        for (const std::string& k : added) {
          if (OwnerOf(k) != s.id()) continue;
          bool exists = s.db(db).Find(k, now, storage::kLookupNoTouch) != nullptr;
          ThisShardWatches().Watch(db, k, state, exists);
        }
      },
      [](CommandContext& c2) { c2.reply().Ok(); });
}

void UnwatchCommand(CommandContext& ctx) {
  ClearWatches(*ctx.client());
  ctx.reply().Ok();
}

}  // namespace shoal::server
