// The runners of a script's redis.call commands (see script/command_runner.h).
//
// LocalRunner: the script's declared keys all live on the shard it runs on (the dispatcher sent
// EVAL there), so its calls run inline on that shard; nothing else runs there meanwhile, which is
// what makes the script atomic. A call for a key of another shard (an undeclared key, since the
// declared ones are here) fails with kErrUndeclaredKey and the script loses its proof of scope
// (script_scope.h): its next run holds every shard.
//
// TxRunner: the script runs on the client's thread inside a transaction (server/atomic_run.h)
// that holds either its declared keys on every shard they live on, or every shard. Each call goes
// where its keys are: inline for the home shard, Shard::CallSync for another shard, parts on each
// shard for split commands (MSET...), coordinators and fan-outs synchronously.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "protocol/reply_builder.h"
#include "script/command_runner.h"
#include "shard/shard.h"

namespace shoal::cmd {

inline constexpr std::string_view kErrCrossShard =
    "ERR Shoal: this script command needs every shard (KEYS, DBSIZE...): its first run holds "
    "them all; run it again";

// What every runner does first with a checked call. Handles SELECT (the script's own database)
// and turns BLMPOP/BZMPOP into LMPOP/ZMPOP (nothing waits in a script). Returns false when the
// call's reply is already written to `out`; else `*spec`/`*argv` are what to run (`storage`
// keeps rewritten arguments alive).
bool PrepareScriptCall(const server::CommandSpec** spec, absl::Span<const std::string_view>* argv,
                       std::vector<std::string_view>* storage, int num_dbs, int* db_index,
                       protocol::ReplyBuilder& out);

class LocalRunner : public script::CommandRunner {
 public:
  // `in_transaction`: the script runs for a transaction (EXEC) that holds its declared keys and
  // maybe more; locks are not checked (undeclared keys are then this shard's, or an error).
  LocalRunner(shard::Shard& shard, int db_index, std::string sha, bool in_transaction)
      : shard_(shard), db_index_(db_index), sha_(std::move(sha)), in_transaction_(in_transaction) {}
  void Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) override;

 private:
  // True if the command can run here: its keys are this shard's and no transaction holds them,
  // or it has none and touches no other shard.
  bool RunsHere(const server::CommandSpec& spec, absl::Span<const std::string_view> argv) const;

  shard::Shard& shard_;
  int db_index_;  // SELECT inside a script changes it for the script's later calls only.
  std::string sha_;
  bool in_transaction_;
};

class TxRunner : public script::CommandRunner {
 public:
  // `all_shards`: the transaction holds every shard; else only `declared` keys.
  TxRunner(shard::Shard& home, int db_index, bool all_shards,
           absl::Span<const std::string_view> declared, std::string sha)
      : home_(home),
        db_index_(db_index),
        all_shards_(all_shards),
        declared_(declared.begin(), declared.end()),
        sha_(std::move(sha)) {}
  void Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) override;
  bool touched_undeclared() const { return touched_undeclared_; }

 private:
  // Runs `argv` on shard `owner` (inline when it is home), appending its reply.
  void RunOn(shard::ShardId owner, const server::CommandSpec& spec,
             absl::Span<const std::string_view> argv, int resp, std::string* reply,
             bool coordinator);

  shard::Shard& home_;
  int db_index_;
  bool all_shards_;
  std::vector<std::string> declared_;
  std::string sha_;
  bool touched_undeclared_ = false;
};

}  // namespace shoal::cmd
