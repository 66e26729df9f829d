// Routing: where a command runs, and how runs of commands are built and sent. Shared by the
// Dispatcher (plain commands) and AtomicRun (transactions), which differ only in whether key
// locks are checked: a transaction holds its locks, plain commands respect everyone's.
//
// Thread: the client's home thread, except where noted.
#pragma once

#include <string>

#include "server/client.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/dispatcher.h"

namespace shoal::server {

// Where a command runs; see command_table.h.
enum class Site { kConnection, kShard, kSplit, kCoordinator };

struct Plan {
  const CommandSpec* spec = nullptr;
  Site site = Site::kConnection;
  shard::ShardId shard = 0;
  std::string error;  // Non-empty: reply this error instead of running anything.
};

// Looks the command up, checks arity and authentication, and finds its keys' owners.
Plan MakePlan(Client& client, ArgSpan args);

// One shard's part of a split command (MSET, DEL... over keys of several shards): the same
// command over that shard's keys, in the client's order.
struct SplitPart {
  shard::ShardId shard;
  std::vector<std::string_view> args;  // Views into the whole command's arguments.
  std::string reply;                   // For callers that run the parts themselves.
  LogBuffer log;                       // Their writes, when run for a transaction.
};
// Splits `args` by owner shard; `merge` learns which part answers each key.
std::vector<SplitPart> SplitByShard(const CommandSpec& spec, ArgSpan args,
                                    PipelineRun::Merge* merge);

// Owner thread, after a write command ran: marks the WATCHes of the keys it names dirty.
void TouchWatchedKeys(const CommandSpec& spec, CommandContext& ctx);

// Owner thread: would this plain command touch a key a transaction holds on this shard?
bool BlockedByLocks(const CommandSpec& spec, ArgSpan args, int db);

// How a run's commands treat key locks.
enum class RunMode {
  kPlain,       // Commands on keys a transaction holds wait for its release.
  kTx,          // The client holds every lock needed (AtomicRun): no checks.
  kTxDeferred,  // As kTx, and nothing runs now, not even on the home shard: each batch runs as
                // its shard's locks are granted (see AtomicRun).
};

// Adds a single-shard (kShard) or split (kSplit) command to a run (the client's pipeline run,
// created if needed, in the first form). Parts owned by the home shard run now, replies held
// back, except in kTxDeferred.
void AddToRun(Client& client, const Plan& plan, ArgSpan args, RunMode mode);
void AddToRun(Client& client, PipelineRun& run, const Plan& plan, ArgSpan args, RunMode mode);

// Owner thread: runs a batch's commands from where it stopped; false if it stopped at a key a
// transaction holds (never for a transaction's own batches).
bool RunBatchHere(RemoteBatch& batch, shard::Shard& shard);

}  // namespace shoal::server
