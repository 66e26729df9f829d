// LocalRunner: runs a script's redis.call commands inline on the shard the script runs on.
//
// The script's declared keys all live on this shard (the dispatcher sent EVAL here), and with a
// single shard every key does. A command whose keys live on another shard, or that would need
// other shards (KEYS, DBSIZE, FLUSHALL... with several shards), cannot run inline; it gets an
// error until the transaction layer gives scripts a way to reach other shards atomically
// (see kErrCrossShard and ARCHITECTURE.md, "Scripting").
#pragma once

#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "script/command_runner.h"
#include "shard/shard.h"

namespace shoal::cmd {

inline constexpr std::string_view kErrCrossShard =
    "ERR Shoal: this script command needs keys owned by another shard; scripts whose keys span "
    "shards are not supported yet";

class LocalRunner : public script::CommandRunner {
 public:
  LocalRunner(shard::Shard& shard, int db_index) : shard_(shard), db_index_(db_index) {}
  void Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) override;

 private:
  // True if the command can run here: its keys are this shard's, or it has none and touches no
  // other shard.
  bool RunsHere(const server::CommandSpec& spec, absl::Span<const std::string_view> argv) const;

  shard::Shard& shard_;
  int db_index_;  // SELECT inside a script changes it for the script's later calls only.
};

}  // namespace shoal::cmd
