// CommandContext: everything a command's handler sees: its arguments, where to reply, the shard
// it runs on and (on the connection's thread) the client.
//
// Handlers that run on an owner shard must not touch client(): it is null when the command came
// from another thread. Coordinators (see command_table.h) run on the connection's thread and
// reach other shards with FanOut, which never blocks: it returns at once and calls `then` on
// this thread when every shard has run its part.
#pragma once

#include <absl/functional/any_invocable.h>
#include <absl/types/span.h>

#include <functional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "protocol/errors.h"
#include "protocol/reply_builder.h"
#include "server/command_table.h"
#include "shard/shard.h"

namespace shoal::server {

class Client;
struct ServerState;

using ArgSpan = absl::Span<const std::string_view>;

class CommandContext {
 public:
  // Runs on each target shard's thread. Must own (by value) everything it uses.
  using ShardFn = std::function<void(shard::Shard&)>;
  // Runs on the connection's thread once all shards are done.
  using Continuation = absl::AnyInvocable<void(CommandContext&)>;

  CommandContext(const CommandSpec* spec, ArgSpan args, protocol::ReplyBuilder* reply,
                 shard::Shard* shard, int db_index, Client* client)
      : spec_(spec), args_(args), reply_(reply), shard_(shard), db_index_(db_index),
        client_(client) {}

  std::string_view arg(size_t i) const { return args_[i]; }
  size_t argc() const { return args_.size(); }
  ArgSpan args() const { return args_; }
  const CommandSpec& spec() const { return *spec_; }

  protocol::ReplyBuilder& reply() { return *reply_; }
  void ReplyError(const Status& s) { reply_->Error(s, spec_->name); }
  void ReplyError(std::string_view line) { reply_->Error(line); }

  shard::Shard& shard() { return *shard_; }
  storage::Db& db() { return shard_->db(db_index_); }
  int db_index() const { return db_index_; }
  Client* client() { return client_; }
  ServerState& server();

  // The command's clock: one reading per command, as Redis uses one time snapshot per command so
  // that a key cannot expire halfway through it.
  int64_t now_ms() {
    if (now_ms_ == 0) now_ms_ = UnixTimeMs();
    return now_ms_;
  }
  // Commands run by a script see the script's start time: a key cannot expire halfway through
  // a script either (Redis's script time snapshot).
  void set_now_ms(int64_t ms) { now_ms_ = ms; }

  // Coordinator API (connection thread only). Runs `fn` on every shard in `shards` (inline for
  // this thread's own shard), then `then` here. If every shard is this one, all of it happens
  // before FanOut returns.
  void FanOut(const std::vector<shard::ShardId>& shards, ShardFn fn, Continuation then);
  // FanOut to every shard.
  void FanOutAll(ShardFn fn, Continuation then);

  // While one lives on a thread, FanOut runs every shard's part with Shard::CallSync and the
  // continuation before returning: a script spanning shards runs its commands synchronously
  // (it holds the locks of everything they touch).
  class SyncFanOutScope {
   public:
    SyncFanOutScope();
    ~SyncFanOutScope();
    SyncFanOutScope(const SyncFanOutScope&) = delete;
    SyncFanOutScope& operator=(const SyncFanOutScope&) = delete;

   private:
    bool saved_;
  };
  // Connection thread: the command's reply will come later, from whoever takes over (blocking
  // commands: see blocking.h). The connection reads no further commands until then.
  void Suspend() { async_ = true; }
  // True once the command went asynchronous: its reply comes later.
  bool async() const { return async_; }
  // Set when the command runs inside a transaction holding every shard (scripts that may touch
  // undeclared keys; see commands/script_scope.h).
  bool holds_all_shards() const { return holds_all_shards_; }
  void set_holds_all_shards(bool v) { holds_all_shards_ = v; }
  // Set when the command runs for a transaction holding the locks of its keys: whatever it
  // touches beyond them (a script's undeclared keys) must not be checked against those locks.
  bool in_transaction() const { return in_transaction_; }
  void set_in_transaction(bool v) { in_transaction_ = v; }

 private:
  const CommandSpec* spec_;
  ArgSpan args_;
  protocol::ReplyBuilder* reply_;
  shard::Shard* shard_;
  int db_index_;
  Client* client_;
  int64_t now_ms_ = 0;
  bool async_ = false;
  bool holds_all_shards_ = false;
  bool in_transaction_ = false;
};

}  // namespace shoal::server
