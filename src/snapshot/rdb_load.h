// Loading an RDB file at start-up (ours, or one Redis 7.0 or older wrote) into the shards.
//
// Runs on the main thread before the shard threads start, so it may fill every shard's databases
// directly; each key goes to the shard that owns it. The whole file is checked: a bad byte, a
// truncation, a wrong checksum, a duplicate key or a type this server lacks stops start-up with a
// message saying what and where, and nothing is served from a partial load.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "shard/shard_set.h"

namespace shoal::snapshot {

struct LoadStats {
  bool found = false;    // False: there was no file (a first start), nothing loaded.
  int64_t loaded = 0;    // Keys inserted.
  int64_t expired = 0;   // Keys skipped because their deadline had passed.
};

Status LoadRdbFile(const std::string& path, shard::ShardSet& shards, LoadStats* stats);

}  // namespace shoal::snapshot
