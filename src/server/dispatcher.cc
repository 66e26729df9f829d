#include "server/dispatcher.h"

#include <optional>

#include "common/clock.h"
#include "protocol/errors.h"
#include "script/busy.h"
#include "server/atomic_run.h"
#include "server/blocking.h"
#include "server/command_context.h"
#include "server/key_locks.h"
#include "server/multi_exec.h"
#include "server/routing.h"
#include "server/server_state.h"
#include "server/thread_state.h"
#include "server/watch.h"
#include "server/write_log.h"

namespace shoal::server {

namespace {

constexpr size_t kMaxBatchCommands = 1024;  // Bounds one hop's latency for others on the shard.

}  // namespace

Plan MakePlan(Client& client, ArgSpan args) {
  Plan plan;
  const CommandSpec* spec = GlobalCommandTable().Find(args[0]);
  if (spec == nullptr) {
    plan.error = protocol::UnknownCommandError(args[0], args.data() + 1, args.size() - 1);
    return plan;
  }
  if (spec->is_container()) {
    if (args.size() < 2) {
      plan.spec = spec;
      // A container may run alone (COMMAND); most need a subcommand.
      if (spec->handler == nullptr || !spec->ArityOk(args.size())) {
        plan.error = protocol::WrongArityError(spec->name);
      }
      return plan;
    }
    const CommandSpec* sub = CommandTable::FindSub(*spec, args[1]);
    if (sub == nullptr) {
      plan.error = protocol::UnknownSubcommandError(args[1], spec->name);
      return plan;
    }
    spec = sub;
  }
  plan.spec = spec;
  if (!spec->ArityOk(args.size())) {
    plan.error = protocol::WrongArityError(spec->name);
    return plan;
  }
  if (!client.authenticated && !(spec->flags & kNoAuth)) {
    plan.error = "NOAUTH Authentication required.";
    return plan;
  }
  if (spec->lock_all != nullptr && spec->lock_all(args)) {
    plan.site = Site::kCoordinator;  // Runs under a transaction holding every shard.
    return plan;
  }
  if (!spec->has_keys() || (spec->flags & kConnectionOnly)) return plan;

  shard::ShardSet& shards = *ServerState::Get().shards;
  int argc = static_cast<int>(args.size());
  if (spec->last_key < 0 && spec->key_step > 1 && (argc - spec->first_key) % spec->key_step != 0) {
    plan.error = protocol::WrongArityError(spec->name);  // MSET k v k: pairs are incomplete.
    return plan;
  }
  bool first = true;
  plan.site = Site::kShard;
  auto visit = [&](int i) {
    shard::ShardId owner = shards.OwnerOf(args[i]);
    if (first) {
      plan.shard = owner;
      first = false;
    } else if (owner != plan.shard) {
      plan.site = Site::kCoordinator;
      return false;
    }
    return true;
  };
  if (spec->get_keys != nullptr) {
    std::vector<int> keys;
    if (!spec->get_keys(args, &keys)) {
      plan.site = Site::kConnection;  // The handler replies the malformed count's error.
      return plan;
    }
    for (int i : keys) {
      if (!visit(i)) break;
    }
  } else {
    int last = spec->last_key < 0 ? argc + spec->last_key : std::min(spec->last_key, argc - 1);
    for (int i = spec->first_key; i <= last && i < argc; i += spec->key_step) {
      if (!visit(i)) break;
    }
  }
  if (first) plan.site = Site::kConnection;  // Key positions past the end: no keys given.
  if (plan.site == Site::kCoordinator && spec->split != SplitMerge::kNone) plan.site = Site::kSplit;
  if (plan.site == Site::kCoordinator && spec->coordinator == nullptr) {
    plan.error = "ERR command '" + spec->name + "' cannot span shards";  // A bug: see the table.
  }
  return plan;
}

std::vector<SplitPart> SplitByShard(const CommandSpec& spec, ArgSpan args,
                                    PipelineRun::Merge* merge) {
  shard::ShardSet& shards = *ServerState::Get().shards;
  const size_t step = static_cast<size_t>(spec.key_step);
  *merge = PipelineRun::Merge{spec.split, {}, {}};
  std::vector<SplitPart> parts;
  for (size_t i = static_cast<size_t>(spec.first_key); i < args.size(); i += step) {
    shard::ShardId owner = shards.OwnerOf(args[i]);
    size_t p = 0;
    while (p < parts.size() && parts[p].shard != owner) ++p;
    if (p == parts.size()) {
      parts.push_back(SplitPart{owner, {args.begin(), args.begin() + spec.first_key}, {}});
    }
    for (size_t j = 0; j < step; ++j) parts[p].args.push_back(args[i + j]);
    merge->part_of_key.push_back(static_cast<uint8_t>(p));
  }
  return parts;
}

bool BlockedByLocks(const CommandSpec& spec, ArgSpan args, int db) {
  KeyLocks& locks = ThisShardLocks();
  if (locks.idle()) return false;
  std::vector<int> keys;
  if (!spec.KeyPositions(args, &keys)) return false;
  bool write = spec.LocksExclusively();
  for (int i : keys) {
    if (locks.Conflicts(db, args[i], write)) return true;
  }
  return false;
}

namespace {

void CountError(ThreadState& ts, std::string_view reply) {
  size_t end = reply.find_first_of(" \r", 1);
  ts.error_stats[std::string(reply.substr(1, end == std::string_view::npos ? 0 : end - 1))]++;
  ts.error_replies++;
}

template <typename Args>
void AppendToBatch(RemoteBatch& batch, const CommandSpec* spec, const Args& args, bool part) {
  batch.commands.push_back(RemoteBatch::Command{spec, static_cast<uint32_t>(batch.spans.size()),
                                                static_cast<uint32_t>(args.size()), part});
  for (std::string_view a : args) {
    batch.spans.emplace_back(batch.arena.size(), a.size());
    batch.arena.append(a);
  }
}

// Runs on: the batch's target shard. Runs the batch's commands from `batch.next` on; returns
// false if it stopped at a command whose keys a transaction holds (resume after a release).
bool RunBatch(RemoteBatch& batch, shard::Shard& shard) {
  protocol::ReplyBuilder reply(&batch.replies, batch.resp);
  std::vector<std::string_view> argv;
  batch.reply_ends.reserve(batch.commands.size());
  for (; batch.next < batch.commands.size(); ++batch.next) {
    const RemoteBatch::Command& cmd = batch.commands[batch.next];
    argv.clear();
    for (uint32_t i = 0; i < cmd.argc; ++i) {
      const auto& [off, len] = batch.spans[cmd.first_arg + i];
      argv.emplace_back(batch.arena.data() + off, len);
    }
    if (!batch.in_tx && BlockedByLocks(*cmd.spec, argv, batch.db_index)) return false;
    CommandContext ctx(cmd.spec, argv, &reply, &shard, batch.db_index, nullptr);
    ctx.set_in_transaction(batch.in_tx);
    // A transaction's writes travel back with the batch and are logged whole by its home.
    std::optional<ScopedCapture> capture;
    if (batch.in_tx) capture.emplace(&batch.log);
    RunCommandHere(*cmd.spec, ctx, /*coordinator=*/false, /*record_stats=*/!cmd.part);
    batch.reply_ends.push_back(batch.replies.size());
  }
  return true;
}

// The run's batch for `target`, created on first use.
RemoteBatch* BatchFor(PipelineRun& run, Client& client, shard::ShardId target, bool in_tx,
                      uint8_t* index) {
  for (size_t i = 0; i < run.batches.size(); ++i) {
    if (run.batches[i]->target == target) {
      *index = static_cast<uint8_t>(i);
      return run.batches[i].get();
    }
  }
  auto b = std::make_unique<RemoteBatch>();
  b->target = target;
  b->db_index = client.db_index;
  b->resp = client.resp;
  b->in_tx = in_tx;
  *index = static_cast<uint8_t>(run.batches.size());
  run.batches.push_back(std::move(b));
  return run.batches.back().get();
}

}  // namespace

// After a command ran on a shard: the watches of the keys it wrote are dirty (WATCH), and
// clients blocked on keys it filled are served.
void TouchWatchedKeys(const CommandSpec& spec, CommandContext& ctx) {
  if ((spec.flags & kWrite) == 0) return;
  WatchRegistry& watches = ThisShardWatches();
  std::vector<int> keys;
  if (!watches.empty() && spec.KeyPositions(ctx.args(), &keys)) {
    for (int i : keys) watches.Touch(ctx.db_index(), ctx.arg(i));
  }
}

static void AfterCommand(const CommandSpec& spec, CommandContext& ctx, bool coordinator,
                         size_t reply_start) {
  WriteLog::AfterWrite(spec, ctx, reply_start);
  if (!coordinator) TouchWatchedKeys(spec, ctx);
  if (spec.flags & kWrite) ServerState::Get().changes.Count(ctx.shard().id());
  ThisShardBlocking().ServeReady(ctx.shard());
}

void RunCommandHere(const CommandSpec& spec, CommandContext& ctx, bool coordinator,
                    bool record_stats) {
  std::string* out = ctx.reply().buffer();
  size_t before = out->size();
  if (!record_stats) {
    (coordinator ? spec.coordinator : spec.handler)(ctx);
    AfterCommand(spec, ctx, coordinator, before);
    return;
  }
  ThreadState& ts = ThreadState::Get();
  int64_t start = MonotonicNs();
  (coordinator ? spec.coordinator : spec.handler)(ctx);
  AfterCommand(spec, ctx, coordinator, before);
  CommandStat& stat = ts.command_stats[&spec];
  stat.RecordCall(MonotonicNs() - start);
  ts.total_commands++;
  if (out->size() > before && (*out)[before] == '-') {
    stat.failed_calls++;
    CountError(ts, std::string_view(*out).substr(before));
  }
}

namespace {

// Commands whose reply must wait for the AOF (server/log_acks.h): writes, and what runs writes.
bool WritesSomething(const CommandSpec& spec) {
  if (spec.flags & kWrite) return true;
  const std::string& n = spec.name;
  return n == "exec" || n == "eval" || n == "evalsha";
}

// Runs a command owned by the home shard while a run is pending; its reply is held back.
void RunHeldBack(Client& client, PipelineRun& run, const CommandSpec& spec, ArgSpan argv,
                 bool part, bool in_tx) {
  protocol::ReplyBuilder held(&run.local_replies, client.resp);
  CommandContext ctx(&spec, argv, &held, &client.home(), client.db_index, &client);
  ctx.set_in_transaction(in_tx);
  std::optional<ScopedCapture> capture;
  if (in_tx) capture.emplace(&run.local_log);
  RunCommandHere(spec, ctx, /*coordinator=*/false, /*record_stats=*/!part);
  run.local_ends.push_back(run.local_replies.size());
}

// Adds `args` for shard `target` to the run: inline on the home shard (reply held back), or
// into the target's batch. A plain command on a key a transaction holds here goes into a batch
// for the home shard itself, which waits for the release like any batch.
PipelineRun::Source AddPart(Client& client, PipelineRun& run, const CommandSpec& spec,
                            shard::ShardId target, ArgSpan args, bool part, RunMode mode) {
  const bool in_tx = mode != RunMode::kPlain;
  if (target == client.home().id() && mode != RunMode::kTxDeferred &&
      (in_tx || !BlockedByLocks(spec, args, client.db_index))) {
    RunHeldBack(client, run, spec, args, part, in_tx);
    return PipelineRun::kLocal;
  }
  uint8_t index;
  RemoteBatch* batch = BatchFor(run, client, target, in_tx, &index);
  AppendToBatch(*batch, &spec, args, part);
  return static_cast<PipelineRun::Source>(index);
}

// Splits a multi-key command into one part per owner shard: the same command over that
// shard's keys (with their values, for MSET), keys kept in the client's order.
void SubmitSplit(Client& client, PipelineRun& run, const CommandSpec& spec, ArgSpan args,
                 RunMode mode) {
  PipelineRun::Merge merge;
  std::vector<SplitPart> parts = SplitByShard(spec, args, &merge);
  ThreadState::Get().command_stats[&spec].calls++;  // One call, however many parts.
  for (SplitPart& part : parts) {
    merge.parts.push_back(AddPart(client, run, spec, part.shard, part.args, /*part=*/true, mode));
  }
  run.order.push_back(static_cast<PipelineRun::Source>(PipelineRun::kFirstMerge -
                                                       static_cast<int>(run.merges.size())));
  run.merges.push_back(std::move(merge));
}

// Commands that act on MULTI itself rather than being queued by it.
bool ControlsTransaction(const CommandSpec* spec) {
  if (spec == nullptr) return false;
  const std::string& n = spec->name;
  return n == "exec" || n == "discard" || n == "multi" || n == "watch" || n == "quit" ||
         n == "reset";
}

}  // namespace

void AddToRun(Client& client, PipelineRun& run, const Plan& plan, ArgSpan args, RunMode mode) {
  client.last_command = plan.spec->name;
  if (plan.site == Site::kSplit) {
    SubmitSplit(client, run, *plan.spec, args, mode);
    return;
  }
  run.order.push_back(AddPart(client, run, *plan.spec, plan.shard, args, /*part=*/false, mode));
}

void AddToRun(Client& client, const Plan& plan, ArgSpan args, RunMode mode) {
  std::unique_ptr<PipelineRun>& run = client.pipeline_run();
  if (run == nullptr) run = std::make_unique<PipelineRun>();
  AddToRun(client, *run, plan, args, mode);
}

Submitted Dispatcher::Submit(Client& client, const protocol::ArgList& args) {
  std::unique_ptr<PipelineRun>& run = client.pipeline_run();
  ArgSpan argv(args.data(), args.size());
  Plan plan = MakePlan(client, argv);
  // A script past busy-reply-threshold: Redis answers BUSY to all but a few commands (inside
  // MULTI too, where the rejection then aborts the transaction).
  if (plan.error.empty() && plan.spec != nullptr) script::RejectWhileBusy(*plan.spec, &plan.error);
  // The last background save failed: refuse writes (and PING), as Redis does, until one works.
  if (plan.error.empty() && plan.spec != nullptr &&
      ((plan.spec->flags & kWrite) || plan.spec->name == "ping")) {
    plan.error = ServerState::Get().WriteRefusal();
  }
  ThreadState& ts = ThreadState::Get();
  if (plan.spec != nullptr && WriteLog::enabled() && WritesSomething(*plan.spec)) {
    client.log_pending = true;
    if (client.log_held) client.log_retick = true;
  }
  // Inside MULTI commands are queued; a malformed one (even EXEC or WATCH) aborts the
  // transaction, as Redis checks name and arity before anything else.
  if (client.multi != nullptr && (!ControlsTransaction(plan.spec) || !plan.error.empty())) {
    if (run != nullptr) return Submitted::kDeferred;  // Replies go out in order.
    QueueCommand(client, plan, argv);
    return Submitted::kDone;
  }
  const bool ok = plan.error.empty();
  const bool home = plan.shard == client.home().id();
  if (ok && (plan.site == Site::kShard || plan.site == Site::kSplit)) {
    if (run != nullptr && run->order.size() >= kMaxBatchCommands) return Submitted::kDeferred;
    // A command owned here with nothing pending and no lock in the way runs at once.
    if (run == nullptr && plan.site == Site::kShard && home &&
        !BlockedByLocks(*plan.spec, argv, client.db_index)) {
      client.last_command = plan.spec->name;
      CommandContext ctx(plan.spec, argv, &client.reply(), &client.home(), client.db_index,
                         &client);
      RunCommandHere(*plan.spec, ctx, /*coordinator=*/false);
      return Submitted::kDone;
    }
    if (plan.site == Site::kShard) {
      AddToRun(client, plan, argv, RunMode::kPlain);
      return Submitted::kBatched;
    }
  }
  // Everything else runs alone: it waits for the pending run's replies.
  if (run != nullptr) return Submitted::kDeferred;

  if (!ok) {
    if (plan.spec != nullptr) ts.command_stats[plan.spec].rejected_calls++;
    client.reply().Error(plan.error);
    CountError(ts, "-" + plan.error);
    return Submitted::kDone;
  }
  client.last_command = plan.spec->name;
  if (plan.site == Site::kSplit || plan.site == Site::kCoordinator) {
    // Keys on several shards: atomically, under their locks.
    std::vector<QueuedCommand> one;
    one.push_back(QueuedCommand::Of(plan.spec, argv));
    return AtomicRun::Start(client, std::move(one), nullptr, /*exec=*/false) ? Submitted::kAsync
                                                                            : Submitted::kDone;
  }
  CommandContext ctx(plan.spec, argv, &client.reply(), &client.home(), client.db_index, &client);
  RunCommandHere(*plan.spec, ctx, /*coordinator=*/false);
  return ctx.async() ? Submitted::kAsync : Submitted::kDone;
}

bool RunBatchHere(RemoteBatch& batch, shard::Shard& shard) { return RunBatch(batch, shard); }

// Runs on: the client's home thread, when the last batch of its run is back.
static void FinishRun(Client* c) {
  std::unique_ptr<PipelineRun> run = std::move(c->pipeline_run());
  c->in_flight--;
  if (c->tx_log != nullptr) run->CollectLog(c->tx_log);
  run->StitchInto(&c->out());
  c->AsyncDone();
}

// Runs on: the batch's target shard; posts the replies home once every command ran.
static void RunBatchAndReturn(RemoteBatch* batch, shard::Shard* target, shard::Shard* home,
                              Client* c, PipelineRun* r) {
  if (!RunBatch(*batch, *target)) {
    ThisShardLocks().WaitForRelease([=] { RunBatchAndReturn(batch, target, home, c, r); });
    return;
  }
  auto back = [c, r] {
    if (--r->outstanding == 0) FinishRun(c);
  };
  if (target == home) {
    back();
  } else {
    home->Post(back);
  }
}

bool Dispatcher::Flush(Client& client) {
  std::unique_ptr<PipelineRun>& run = client.pipeline_run();
  if (run == nullptr) return false;
  if (run->batches.empty()) {
    // Everything ran inline after all: no need to wait.
    run->StitchInto(&client.out());
    if (client.tx_log != nullptr) run->CollectLog(client.tx_log);
    run.reset();
    return false;
  }
  shard::Shard* home = &client.home();
  shard::ShardSet& shards = *ServerState::Get().shards;
  Client* c = &client;
  c->in_flight++;
  run->outstanding = run->batches.size();
  PipelineRun* r = run.get();  // Stays with the client until FinishRun; batches point into it.
  for (auto& b : r->batches) {
    RemoteBatch* batch = b.get();
    shard::Shard* target = &shards.shard(batch->target);
    target->Post([batch, target, home, c, r] { RunBatchAndReturn(batch, target, home, c, r); });
  }
  return true;
}

}  // namespace shoal::server
