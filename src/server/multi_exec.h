// MULTI / EXEC / DISCARD / WATCH / UNWATCH: the client-side state of a transaction.
//
// Between MULTI and EXEC a client's commands are checked (name, arity, authentication: errors
// abort the transaction with EXECABORT, as in Redis) and queued with their arguments owned.
// EXEC hands them to AtomicRun (atomic_run.h), which locks every key they name (and the watched
// ones), checks the watches, and runs them in order with nothing interleaved.
//
// Thread: the client's home thread.
#pragma once

#include <string>
#include <vector>

#include "server/command_context.h"
#include "server/routing.h"

namespace shoal::server {

struct QueuedCommand {
  const CommandSpec* spec = nullptr;
  std::vector<std::string> args;  // args[0] is the command name.

  static QueuedCommand Of(const CommandSpec* spec, ArgSpan args);
  std::vector<std::string_view> views() const { return {args.begin(), args.end()}; }
};

struct MultiState {
  std::vector<QueuedCommand> commands;
  bool aborted = false;  // A command was rejected while queueing: EXEC answers EXECABORT.
};

// Queues a command sent inside MULTI (or rejects it, aborting the transaction).
void QueueCommand(Client& client, const Plan& plan, ArgSpan args);

// The commands (handlers run on the connection's thread).
void MultiCommand(CommandContext& ctx);
void ExecCommand(CommandContext& ctx);
void DiscardCommand(CommandContext& ctx);
void WatchCommand(CommandContext& ctx);
void UnwatchCommand(CommandContext& ctx);

// Forgets the client's watches (their owners are told) and any open MULTI: UNWATCH, EXEC,
// DISCARD, RESET, disconnect.
void ClearWatches(Client& client);
void ForgetTransactionState(Client& client);

}  // namespace shoal::server
