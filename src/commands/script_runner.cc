#include "commands/script_runner.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

#include "commands/script_scope.h"
#include "common/clock.h"
#include "common/strings.h"
#include "protocol/errors.h"
#include "server/command_context.h"
#include "server/server_state.h"
#include "server/command_table.h"
#include "server/dispatcher.h"
#include "server/key_locks.h"
#include "server/routing.h"
#include "server/server_state.h"
#include "server/thread_state.h"
#include "server/watch.h"
#include "shard/shard_set.h"

namespace shoal::cmd {

namespace {

void AppendError(std::string* reply, std::string_view line) {
  reply->push_back('-');
  reply->append(line);
  reply->append("\r\n");
}

// Keyless commands that never leave the shard they run on (no fan-out, no client state).
bool KeylessLocal(const server::CommandSpec& spec) {
  static constexpr std::string_view kLocal[] = {
      "ping",          "echo",         "time",         "lastsave",     "command",
      "command|count", "command|info", "command|docs", "command|list", "command|getkeys",
      "object|help",   "config|help"};
  for (std::string_view name : kLocal) {
    if (spec.name == name) return true;
  }
  return false;
}

// Keyless commands over the whole keyspace: they fan out to every shard.
bool KeylessEveryShard(const server::CommandSpec& spec) {
  static constexpr std::string_view kAll[] = {"dbsize", "keys",  "randomkey",
                                              "scan",   "flushdb", "flushall"};
  for (std::string_view name : kAll) {
    if (spec.name == name) return true;
  }
  return false;
}

// Runs a script's call where it stands (this thread owns its keys), with stats, and marks the
// watches of the keys it writes. Clients blocked on keys it fills are served when the script is
// over (the EVAL's own command end, or the transaction's release), as in Redis.
void RunCall(const server::CommandSpec& spec, server::CommandContext& ctx, bool coordinator) {
  server::ThreadState& ts = server::ThreadState::Get();
  std::string* out = ctx.reply().buffer();
  size_t before = out->size();
  int64_t start = MonotonicNs();
  (coordinator ? spec.coordinator : spec.handler)(ctx);
  if (!coordinator) server::TouchWatchedKeys(spec, ctx);
  if (spec.flags & server::kWrite) server::ServerState::Get().changes.Count(ctx.shard().id());
  server::CommandStat& stat = ts.command_stats[&spec];
  stat.RecordCall(MonotonicNs() - start);
  if (out->size() > before && (*out)[before] == '-') stat.failed_calls++;
}

}  // namespace

bool PrepareScriptCall(const server::CommandSpec** spec, absl::Span<const std::string_view>* argv,
                       std::vector<std::string_view>* storage, int num_dbs, int* db_index,
                       protocol::ReplyBuilder& out) {
  const std::string& name = (*spec)->name;
  if (name == "select") {
    // The script's own database: Redis 7 leaves the caller's selection alone.
    std::optional<int64_t> id = ParseInt64((*argv)[1]);
    if (!id || *id < INT_MIN || *id > INT_MAX) {
      out.Error(protocol::kErrNotInteger);
    } else if (*id < 0 || *id >= num_dbs) {
      out.Error(protocol::kErrDbIndex);
    } else {
      *db_index = static_cast<int>(*id);
      out.Ok();
    }
    return false;
  }
  if (name == "blmpop" || name == "bzmpop") {
    // Nothing may wait inside a script: Redis runs these as if they timed out at once, so they
    // are LMPOP / ZMPOP once the timeout is checked.
    std::optional<long double> timeout = ParseLongDouble((*argv)[1]);
    if (!timeout) {
      out.Error("ERR timeout is not a float or out of range");
      return false;
    }
    if (*timeout < 0) {
      out.Error("ERR timeout is negative");
      return false;
    }
    storage->push_back(name == "blmpop" ? "lmpop" : "zmpop");
    storage->insert(storage->end(), argv->begin() + 2, argv->end());
    *argv = *storage;
    *spec = server::GlobalCommandTable().Find((*storage)[0]);
  }
  return true;
}

bool LocalRunner::RunsHere(const server::CommandSpec& spec,
                           absl::Span<const std::string_view> argv) const {
  shard::ShardSet& shards = shard_.shard_set();
  if (shards.size() == 1) return true;
  std::vector<int> keys;
  if (!spec.has_keys() || !spec.KeyPositions(argv, &keys)) {
    // No keys, or a malformed key count that the handler rejects before touching data.
    return !spec.has_keys() ? KeylessLocal(spec) : true;
  }
  for (int i : keys) {
    if (shards.OwnerOf(argv[i]) != shard_.id()) return false;
  }
  // An undeclared key of this shard that a transaction holds is not ours to touch either.
  return in_transaction_ || !server::BlockedByLocks(spec, argv, db_index_);
}

void LocalRunner::Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) {
  std::string error;
  const server::CommandSpec* spec = script::CheckScriptCall(*this, argv, &error);
  if (spec == nullptr) return AppendError(reply, error);
  protocol::ReplyBuilder out(reply, resp);
  std::vector<std::string_view> storage;
  if (!PrepareScriptCall(&spec, &argv, &storage, shard_.num_dbs(), &db_index_, out)) return;
  if (!RunsHere(*spec, argv)) {
    if (!spec->has_keys()) return out.Error(kErrCrossShard);
    UnproveScript(sha_);
    return out.Error(kErrUndeclaredKey);
  }
  server::CommandContext ctx(spec, argv, &out, &shard_, db_index_, nullptr);
  if (now_ms != 0) ctx.set_now_ms(now_ms);
  RunCall(*spec, ctx, /*coordinator=*/false);
}

void TxRunner::RunOn(shard::ShardId owner, const server::CommandSpec& spec,
                     absl::Span<const std::string_view> argv, int resp, std::string* reply,
                     bool coordinator) {
  shard::Shard& target = home_.shard_set().shard(owner);
  auto run = [&] {
    protocol::ReplyBuilder out(reply, resp);
    server::CommandContext ctx(&spec, argv, &out, &target, db_index_, nullptr);
    if (now_ms != 0) ctx.set_now_ms(now_ms);
    RunCall(spec, ctx, coordinator);
  };
  if (&target == &home_) {
    run();
  } else {
    home_.CallSync(target, run);  // The transaction holds the keys: this cannot wait long.
  }
}

void TxRunner::Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) {
  std::string error;
  const server::CommandSpec* spec = script::CheckScriptCall(*this, argv, &error);
  if (spec == nullptr) return AppendError(reply, error);
  std::vector<std::string_view> storage;
  {
    protocol::ReplyBuilder out(reply, resp);
    if (!PrepareScriptCall(&spec, &argv, &storage, home_.num_dbs(), &db_index_, out)) return;
  }
  const shard::ShardSet& set = home_.shard_set();
  std::vector<int> keys;
  if (spec->has_keys() && !spec->KeyPositions(argv, &keys)) keys.clear();
  std::vector<shard::ShardId> owners;
  for (int i : keys) {
    std::string_view key = argv[i];
    if (std::find(declared_.begin(), declared_.end(), key) == declared_.end()) {
      touched_undeclared_ = true;
      if (!all_shards_) {
        UnproveScript(sha_);
        return protocol::ReplyBuilder(reply, resp).Error(kErrUndeclaredKey);
      }
    }
    shard::ShardId owner = set.OwnerOf(key);
    if (std::find(owners.begin(), owners.end(), owner) == owners.end()) owners.push_back(owner);
  }
  // Fan-outs (KEYS, DBSIZE, coordinators) run synchronously: we hold what they touch.
  server::CommandContext::SyncFanOutScope sync;
  if (owners.empty()) {
    if (spec->has_keys() || KeylessLocal(*spec) || (all_shards_ && KeylessEveryShard(*spec))) {
      return RunOn(home_.id(), *spec, argv, resp, reply, /*coordinator=*/false);
    }
    touched_undeclared_ = true;
    UnproveScript(sha_);
    return protocol::ReplyBuilder(reply, resp).Error(kErrCrossShard);
  }
  if (owners.size() == 1) return RunOn(owners[0], *spec, argv, resp, reply, false);
  if (spec->split == server::SplitMerge::kNone) {
    return RunOn(home_.id(), *spec, argv, resp, reply, /*coordinator=*/true);
  }
  // A split command (MSET, DEL...): its part on each owner, replies merged as a pipeline would.
  server::PipelineRun::Merge merge;
  std::vector<server::SplitPart> parts = server::SplitByShard(*spec, argv, &merge);
  std::vector<std::string_view> replies;
  for (server::SplitPart& part : parts) {
    RunOn(part.shard, *spec, part.args, resp, &part.reply, false);
    replies.push_back(part.reply);
  }
  server::MergeSplitReplies(merge, std::move(replies), reply);
}

}  // namespace shoal::cmd
