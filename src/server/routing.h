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

// Owner thread: would this plain command touch a key a transaction holds on this shard?
bool BlockedByLocks(const CommandSpec& spec, ArgSpan args, int db);

// Adds a single-shard (kShard) or split (kSplit) command to the client's pipeline run, creating
// it if needed. Parts owned by the home shard run now (replies held back). `in_tx`: the client
// holds the locks of every key involved (AtomicRun); otherwise commands on locked keys wait.
void AddToRun(Client& client, const Plan& plan, ArgSpan args, bool in_tx);

}  // namespace shoal::server
