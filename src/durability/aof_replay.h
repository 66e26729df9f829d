// Replaying an append-only file's commands at start-up, through the same dispatcher as any
// client: one replay client on shard 0 submits them in file order, pipelined, so single-shard
// commands run on their owners in order, MULTI/EXEC blocks run as transactions (all or nothing),
// and SELECT is followed. Runs after the shards start and before any listener opens; while it
// runs nothing is logged and no key expires (a key that expired later than a record was alive
// when the record was made).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "shard/shard_set.h"

namespace shoal::durability {

struct ReplayStats {
  int64_t commands = 0;
  int64_t errors = 0;  // Commands that answered an error (logged, as Redis ignores them too).
};

// `commands`: each command's arguments, in file order (views stay valid until it returns).
// Called from the main thread; waits until shard 0 has run everything.
Status ReplayCommands(shard::ShardSet& shards,
                      const std::vector<std::vector<std::string_view>>& commands,
                      ReplayStats* stats);

}  // namespace shoal::durability
