#include "server/atomic_run.h"

#include "common/clock.h"
#include "common/strings.h"
#include "server/routing.h"
#include "server/server_state.h"
#include "server/thread_state.h"
#include "shard/shard_set.h"

namespace shoal::server {

AtomicRun::AtomicRun(Client& client, std::vector<QueuedCommand> commands,
                     std::unique_ptr<WatchSet> watch, bool exec)
    : client_(&client),
      commands_(std::move(commands)),
      watch_(std::move(watch)),
      exec_(exec),
      db_index_(client.db_index),
      tx_(&client.home()) {}

bool AtomicRun::Start(Client& client, std::vector<QueuedCommand> commands,
                      std::unique_ptr<WatchSet> watch, bool exec) {
  auto* run = new AtomicRun(client, std::move(commands), std::move(watch), exec);
  client.in_flight++;
  client.tx_log = &run->log_;
  client.async_listener = run;
  client.in_exec = exec;
  bool finished = false;
  run->finished_flag_ = &finished;
  run->PlanLocks();
  if (!exec && run->commands_.size() == 1) {
    std::vector<std::string_view> argv = run->commands_[0].views();
    Plan plan = MakePlan(client, argv);
    if (plan.error.empty() && plan.site == Site::kSplit) run->PrepareSplit(plan);
  } else if (exec && run->watch_ == nullptr) {
    run->PrepareFused();
  }
  Transaction::AtGrant at_grant;
  if (run->watch_ != nullptr || !run->split_parts_.empty() || run->fused_ != nullptr) {
    at_grant = [run](shard::Shard& s) { run->OnGranted(s); };
  }
  run->tx_.Acquire(std::move(at_grant), [run] { run->Begin(); });
  if (finished) return false;  // `run` is gone.
  run->finished_flag_ = nullptr;
  return true;
}

static shard::ShardId OwnerOf(std::string_view key) {
  return ServerState::Get().shards->OwnerOf(key);
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
    const bool write = spec.LocksExclusively();
    if (spec.lock_all != nullptr && spec.lock_all(args)) {
      tx_.AddAllShards(write);
      continue;
    }
    if (spec.has_keys()) spec.KeyPositions(args, &keys);
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

void AtomicRun::PrepareSplit(const Plan& plan) {
  split_args_ = commands_[0].views();
  split_parts_ = SplitByShard(*plan.spec, split_args_, &split_merge_);
}

void AtomicRun::PrepareFused() {
  std::vector<Plan> plans;
  for (const QueuedCommand& q : commands_) {
    std::vector<std::string_view> argv = q.views();
    Plan plan = MakePlan(*client_, argv);
    if (!plan.error.empty() || (plan.site != Site::kShard && plan.site != Site::kSplit)) return;
    plans.push_back(std::move(plan));
  }
  fused_ = std::make_unique<PipelineRun>();
  for (size_t i = 0; i < commands_.size(); ++i) {
    std::vector<std::string_view> argv = commands_[i].views();
    AddToRun(*client_, *fused_, plans[i], argv, RunMode::kTxDeferred);
  }
}

void AtomicRun::OnGranted(shard::Shard& shard) {
  if (watch_ != nullptr) CheckWatches(shard);
  if (!split_parts_.empty()) RunSplitPart(shard);
  if (fused_ != nullptr) {
    for (auto& batch : fused_->batches) {
      if (batch->target == shard.id()) RunBatchHere(*batch, shard);
    }
  }
}

void AtomicRun::RunSplitPart(shard::Shard& shard) {
  const CommandSpec* spec = commands_[0].spec;
  for (SplitPart& part : split_parts_) {
    if (part.shard != shard.id()) continue;
    protocol::ReplyBuilder reply(&part.reply, client_->resp);
    CommandContext ctx(spec, part.args, &reply, &shard, db_index_, nullptr);
    ctx.set_in_transaction(true);
    ScopedCapture capture(&part.log);
    RunCommandHere(*spec, ctx, /*coordinator=*/false, /*record_stats=*/false);
  }
}

void AtomicRun::Begin() {
  if (fused_ != nullptr) {
    if (exec_) client_->reply().ArrayHeader(commands_.size());
    fused_->StitchInto(&client_->out());
    fused_->CollectLog(&log_);
    Finish();
    return;
  }
  if (!split_parts_.empty()) {
    // Every part already ran as its shard was locked.
    std::vector<std::string_view> replies;
    for (const SplitPart& part : split_parts_) {
      replies.push_back(part.reply);
      log_.Absorb(part.log);
    }
    MergeSplitReplies(split_merge_, std::move(replies), &client_->out());
    ThreadState::Get().command_stats[commands_[0].spec].calls++;
    client_->last_command = commands_[0].spec->name;
    Finish();
    return;
  }
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
      AddToRun(*client_, plan, args, RunMode::kTx);
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
    ctx.set_holds_all_shards(tx_.all_shards());
    ctx.set_in_transaction(true);
    ScopedCapture capture(&log_);
    RunCommandHere(*plan.spec, ctx, plan.site == Site::kCoordinator);
    if (ctx.async()) return;  // Resume() comes back when its reply is in.
  }
  if (Dispatcher::Flush(*client_)) return;
  Finish();
}

void AtomicRun::Finish() {
  // The whole transaction goes to the AOF before any of its locks is released (write_log.h).
  WriteLog::Commit(log_);
  log_.Clear();
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
  c->tx_log = nullptr;
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
