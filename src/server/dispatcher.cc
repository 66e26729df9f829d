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
  for (const RemoteBatch::Command& cmd : batch.commands) {
    argv.clear();
    for (uint32_t i = 0; i < cmd.argc; ++i) {
      const auto& [off, len] = batch.spans[cmd.first_arg + i];
      argv.emplace_back(batch.arena.data() + off, len);
    }
    CommandContext ctx(cmd.spec, argv, &reply, &shard, batch.db_index, nullptr);
    RunCommandHere(*cmd.spec, ctx, /*coordinator=*/false);
  }
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

Submitted Dispatcher::Submit(Client& client, const protocol::ArgList& args) {
  std::unique_ptr<RemoteBatch>& batch = client.pending_batch();
  Plan plan = MakePlan(client, args);
  if (plan.site == Site::kShard && plan.error.empty() && plan.shard != client.home().id()) {
    if (batch == nullptr) {
      batch = std::make_unique<RemoteBatch>();
      batch->target = plan.shard;
      batch->db_index = client.db_index;
      batch->resp = client.resp;
    } else if (batch->target != plan.shard || batch->db_index != client.db_index ||
               batch->commands.size() >= kMaxBatchCommands) {
      return Submitted::kDeferred;
    }
    AppendToBatch(*batch, plan.spec, args);
    client.last_command = plan.spec->name;
    return Submitted::kBatched;
  }
  // Everything else runs here and now, so it must wait for a pending batch's replies.
  if (batch != nullptr) return Submitted::kDeferred;

  ThreadState& ts = ThreadState::Get();
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

bool Dispatcher::Flush(Client& client) {
  std::unique_ptr<RemoteBatch> batch = std::move(client.pending_batch());
  if (batch == nullptr) return false;
  shard::Shard* home = &client.home();
  shard::Shard* target = &ServerState::Get().shards->shard(batch->target);
  Client* c = &client;
  c->in_flight++;
  target->Post([batch = std::move(batch), home, target, c]() mutable {
    RunBatch(*batch, *target);
    home->Post([batch = std::move(batch), c]() {
      c->in_flight--;
      c->out().append(batch->replies);
      c->ResumeAfterAsync();
    });
  });
  return true;
}

}  // namespace shoal::server
