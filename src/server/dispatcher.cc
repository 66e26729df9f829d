#include "server/dispatcher.h"

#include "common/clock.h"
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/server_state.h"
#include "server/thread_state.h"

namespace shoal::server {

namespace {

constexpr size_t kMaxBatchCommands = 1024;  // Bounds one hop's latency for others on the shard.

// Where a command runs; see command_table.h.
enum class Site { kConnection, kShard, kCoordinator };

struct Plan {
  const CommandSpec* spec = nullptr;
  Site site = Site::kConnection;
  shard::ShardId shard = 0;
  std::string error;  // Non-empty: reply this error instead of running anything.
};

Plan MakePlan(Client& client, const protocol::ArgList& args) {
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
  if (!spec->has_keys() || (spec->flags & kConnectionOnly)) return plan;

  shard::ShardSet& shards = *ServerState::Get().shards;
  int argc = static_cast<int>(args.size());
  int last = spec->last_key < 0 ? argc + spec->last_key : std::min(spec->last_key, argc - 1);
  bool first = true;
  plan.site = Site::kShard;
  for (int i = spec->first_key; i <= last && i < argc; i += spec->key_step) {
    shard::ShardId owner = shards.size() == 1 ? 0 : shards.OwnerOf(args[i]);
    if (first) {
      plan.shard = owner;
      first = false;
    } else if (owner != plan.shard) {
      plan.site = Site::kCoordinator;
      break;
    }
  }
  if (first) plan.site = Site::kConnection;  // Key positions past the end: no keys given.
  if (plan.site == Site::kCoordinator && spec->coordinator == nullptr) {
    plan.error = "ERR command '" + spec->name + "' cannot span shards";  // A bug: see the table.
  }
  return plan;
}

void CountError(ThreadState& ts, std::string_view reply) {
  size_t end = reply.find_first_of(" \r", 1);
  ts.error_stats[std::string(reply.substr(1, end == std::string_view::npos ? 0 : end - 1))]++;
  ts.error_replies++;
}

void AppendToBatch(RemoteBatch& batch, const CommandSpec* spec, const protocol::ArgList& args) {
  batch.commands.push_back(RemoteBatch::Command{spec, static_cast<uint32_t>(batch.spans.size()),
                                                static_cast<uint32_t>(args.size())});
  for (std::string_view a : args) {
    batch.spans.emplace_back(batch.arena.size(), a.size());
    batch.arena.append(a);
  }
}

// Runs on: the batch's target shard.
void RunBatch(RemoteBatch& batch, shard::Shard& shard) {
  protocol::ReplyBuilder reply(&batch.replies, batch.resp);
  std::vector<std::string_view> argv;
  batch.reply_ends.reserve(batch.commands.size());
  for (const RemoteBatch::Command& cmd : batch.commands) {
    argv.clear();
    for (uint32_t i = 0; i < cmd.argc; ++i) {
      const auto& [off, len] = batch.spans[cmd.first_arg + i];
      argv.emplace_back(batch.arena.data() + off, len);
    }
    CommandContext ctx(cmd.spec, argv, &reply, &shard, batch.db_index, nullptr);
    RunCommandHere(*cmd.spec, ctx, /*coordinator=*/false);
    batch.reply_ends.push_back(batch.replies.size());
  }
}

// The run's batch for `target`, created on first use.
RemoteBatch* BatchFor(PipelineRun& run, Client& client, shard::ShardId target, uint8_t* index) {
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
  *index = static_cast<uint8_t>(run.batches.size());
  run.batches.push_back(std::move(b));
  return run.batches.back().get();
}

}  // namespace

void RunCommandHere(const CommandSpec& spec, CommandContext& ctx, bool coordinator) {
  ThreadState& ts = ThreadState::Get();
  std::string* out = ctx.reply().buffer();
  size_t before = out->size();
  int64_t start = MonotonicUs();
  (coordinator ? spec.coordinator : spec.handler)(ctx);
  CommandStat& stat = ts.command_stats[&spec];
  stat.calls++;
  stat.usec += MonotonicUs() - start;
  ts.total_commands++;
  if (out->size() > before && (*out)[before] == '-') {
    stat.failed_calls++;
    CountError(ts, std::string_view(*out).substr(before));
  }
}

void PipelineRun::StitchInto(std::string* out) const {
  std::vector<size_t> next(batches.size(), 0);  // Next command per batch.
  size_t next_local = 0;
  for (uint8_t src : order) {
    const std::string* text;
    const std::vector<size_t>* ends;
    size_t* i;
    if (src == kLocal) {
      text = &local_replies;
      ends = &local_ends;
      i = &next_local;
    } else {
      text = &batches[src]->replies;
      ends = &batches[src]->reply_ends;
      i = &next[src];
    }
    size_t begin = *i == 0 ? 0 : (*ends)[*i - 1];
    out->append(*text, begin, (*ends)[*i] - begin);
    ++*i;
  }
}

Submitted Dispatcher::Submit(Client& client, const protocol::ArgList& args) {
  std::unique_ptr<PipelineRun>& run = client.pipeline_run();
  Plan plan = MakePlan(client, args);
  ThreadState& ts = ThreadState::Get();
  const bool single_shard = plan.site == Site::kShard && plan.error.empty();
  if (single_shard && plan.shard != client.home().id()) {
    if (run == nullptr) run = std::make_unique<PipelineRun>();
    if (run->order.size() >= kMaxBatchCommands) return Submitted::kDeferred;
    uint8_t index;
    RemoteBatch* batch = BatchFor(*run, client, plan.shard, &index);
    AppendToBatch(*batch, plan.spec, args);
    run->order.push_back(index);
    client.last_command = plan.spec->name;
    return Submitted::kBatched;
  }
  if (single_shard && run != nullptr) {
    // Owned here while other shards work on the run: run now, hold the reply back.
    if (run->order.size() >= kMaxBatchCommands) return Submitted::kDeferred;
    client.last_command = plan.spec->name;
    protocol::ReplyBuilder held(&run->local_replies, client.resp);
    ArgSpan argv(args.data(), args.size());
    CommandContext ctx(plan.spec, argv, &held, &client.home(), client.db_index, &client);
    RunCommandHere(*plan.spec, ctx, /*coordinator=*/false);
    run->local_ends.push_back(run->local_replies.size());
    run->order.push_back(PipelineRun::kLocal);
    return Submitted::kBatched;
  }
  // Everything else runs alone: it waits for the pending run's replies.
  if (run != nullptr) return Submitted::kDeferred;

  if (!plan.error.empty()) {
    if (plan.spec != nullptr) ts.command_stats[plan.spec].rejected_calls++;
    client.reply().Error(plan.error);
    CountError(ts, "-" + plan.error);
    return Submitted::kDone;
  }
  client.last_command = plan.spec->name;
  ArgSpan argv(args.data(), args.size());
  CommandContext ctx(plan.spec, argv, &client.reply(), &client.home(), client.db_index, &client);
  RunCommandHere(*plan.spec, ctx, plan.site == Site::kCoordinator);
  return ctx.async() ? Submitted::kAsync : Submitted::kDone;
}

// Runs on: the client's home thread, when the last batch of its run is back.
static void FinishRun(Client* c) {
  std::unique_ptr<PipelineRun> run = std::move(c->pipeline_run());
  c->in_flight--;
  run->StitchInto(&c->out());
  c->ResumeAfterAsync();
}

bool Dispatcher::Flush(Client& client) {
  std::unique_ptr<PipelineRun>& run = client.pipeline_run();
  if (run == nullptr) return false;
  if (run->batches.empty()) {
    // Everything ran inline after all: no need to wait.
    run->StitchInto(&client.out());
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
    target->Post([batch, target, home, c, r] {
      RunBatch(*batch, *target);
      home->Post([c, r] {
        if (--r->outstanding == 0) FinishRun(c);
      });
    });
  }
  return true;
}

}  // namespace shoal::server
