#include "server/atomic_run.h"

#include "common/clock.h"
#include "common/strings.h"
#include "server/routing.h"
#include "server/server_state.h"
#include "shard/shard_set.h"

namespace shoal::server {

AtomicRun::AtomicRun(Client& client, std::vector<QueuedCommand> commands,
                     std::unique_ptr<WatchSet> watch, bool exec)
    : client_(&client),
      commands_(std::move(commands)),
      watch_(std::move(watch)),
      exec_(exec),
      tx_(&client.home()) {}

bool AtomicRun::Start(Client& client, std::vector<QueuedCommand> commands,
                      std::unique_ptr<WatchSet> watch, bool exec) {
  auto* run = new AtomicRun(client, std::move(commands), std::move(watch), exec);
  client.in_flight++;
  client.async_listener = run;
  client.in_exec = exec;
  bool finished = false;
  run->finished_flag_ = &finished;
  run->PlanLocks();
  Transaction::AtGrant at_grant;
  if (run->watch_ != nullptr) at_grant = [run](shard::Shard& s) { run->CheckWatches(s); };
  run->tx_.Acquire(std::move(at_grant), [run] { run->Begin(); });
  if (finished) return false;  // `run` is gone.
  run->finished_flag_ = nullptr;
  return true;
}

static shard::ShardId OwnerOf(std::string_view key) {
  shard::ShardSet& set = *ServerState::Get().shards;
  return set.size() == 1 ? 0 : set.OwnerOf(key);
}

void AtomicRun::PlanLocks() {
  int db = client_->db_index;
  std::vector<int> keys;
  for (const QueuedCommand& q : commands_) {
    const CommandSpec& spec = *q.spec;
    std::vector<std::string_view> args = q.views();
    if (spec.name == "select") {
      // Later commands use the database SELECT picks (a bad index fails and changes nothing).
      std::optional<int64_t> n = args.size() == 2 ? ParseInt64(args[1]) : std::nullopt;
      if (n && *n >= 0 && *n < client_->home().num_dbs()) db = static_cast<int>(*n);
      continue;
    }
    keys.clear();
    if (spec.has_keys()) spec.KeyPositions(args, &keys);
    const bool write = (spec.flags & kWrite) != 0;
    if (keys.empty()) {
      // Commands over the whole keyspace (KEYS, DBSIZE, FLUSHDB...) hold every shard.
      if ((spec.flags & (kWrite | kReadOnly)) != 0) tx_.AddAllShards(write);
      continue;
    }
    for (int i : keys) tx_.AddKey(OwnerOf(args[i]), db, args[i], write);
  }
  if (watch_ != nullptr) {
    for (const auto& [wdb, key] : watch_->keys) tx_.AddKey(OwnerOf(key), wdb, key, false);
  }
}

void AtomicRun::CheckWatches(shard::Shard& shard) {
  WatchRegistry& registry = ThisShardWatches();
  int64_t now = UnixTimeMs();
  for (const auto& [db, key] : watch_->keys) {
    if (OwnerOf(key) != shard.id()) continue;
    if (registry.Changed(db, key, *watch_->state, shard.db(db), now)) watch_failed_ = true;
  }
}

void AtomicRun::Begin() {
  if (watch_ != nullptr &&
      (watch_failed_ || watch_->state->dirty.load(std::memory_order_relaxed))) {
    client_->reply().NullArray();
    Finish();
    return;
  }
  if (exec_) client_->reply().ArrayHeader(commands_.size());
  Continue();
}

void AtomicRun::Continue() {
  while (next_ < commands_.size()) {
    argv_ = commands_[next_].views();
    ArgSpan args(argv_);
    Plan plan = MakePlan(*client_, args);
    if (plan.error.empty() && (plan.site == Site::kShard || plan.site == Site::kSplit)) {
      AddToRun(*client_, plan, args, /*in_tx=*/true);
      ++next_;
      continue;
    }
    // This one runs alone: the replies of the run before it come first.
    if (Dispatcher::Flush(*client_)) return;  // Resume() comes back here.
    ++next_;
    if (!plan.error.empty()) {
      client_->reply().Error(plan.error);
      continue;
    }
    client_->last_command = plan.spec->name;
    if (plan.site == Site::kCoordinator && (plan.spec->flags & kWrite) != 0) {
      ran_coordinator_ = true;
    }
    CommandContext ctx(plan.spec, args, &client_->reply(), &client_->home(), client_->db_index,
                       client_);
    RunCommandHere(*plan.spec, ctx, plan.site == Site::kCoordinator);
    if (ctx.async()) return;  // Resume() comes back when its reply is in.
  }
  if (Dispatcher::Flush(*client_)) return;
  Finish();
}

void AtomicRun::Finish() {
  // Writes by single-shard and split commands touched their keys' watches as they ran; a
  // coordinator's did not (see Transaction::ReleaseTouching).
  if (ran_coordinator_ && WatchRegistry::AnyWatched()) {
    tx_.ReleaseTouching([this] { Done(); });
    return;
  }
  tx_.Release();
  Done();
}

void AtomicRun::Done() {
  Client* c = client_;
  if (watch_ != nullptr) {
    c->watch = std::move(watch_);
    ClearWatches(*c);
  }
  c->in_exec = false;
  c->async_listener = nullptr;
  c->in_flight--;
  bool* finished = finished_flag_;
  delete this;
  if (finished != nullptr) {
    *finished = true;
  } else {
    c->AsyncDone();
  }
}

}  // namespace shoal::server
