// Dispatcher: takes a connection's parsed commands one by one and gets each executed where its
// keys live, keeping replies in the client's order.
//
//   connection thread                         owner shard thread
//   -----------------                         ------------------
//   Submit(args) --local key--> handler runs inline, reply appended to client.out()
//   Submit(args) --remote key--> appended to client's RemoteBatch (no message yet)
//   Submit(args) --same remote shard--> appended to the same batch
//   Submit(args) --anything else--> kDeferred: caller stops and calls Flush()
//   Flush() ----------- one message ------->  runs every command of the batch, in order,
//                                             replies into the batch's buffer
//   ResumeAfterAsync() <---- one message ---  batch comes back; replies appended to client.out()
//
// So a pipeline bound for one other shard costs one hop per batch, not per command, and a
// command never overtakes an earlier one from the same client. Commands whose keys span shards
// go through their coordinator (see command_table.h), also asynchronous.
//
// Thread: the client's home thread.
#pragma once

#include <string>
#include <vector>

#include "protocol/resp_parser.h"
#include "server/client.h"
#include "server/command_table.h"
#include "shard/shard.h"

namespace shoal::server {

// Commands for one remote shard, with their arguments owned (the sender's read buffer is reused
// as soon as the batch is posted).
struct RemoteBatch {
  shard::ShardId target = 0;
  int db_index = 0;
  int resp = 2;
  std::string arena;  // All arguments, back to back.
  struct Command {
    const CommandSpec* spec;
    uint32_t first_arg;  // Index into `spans`.
    uint32_t argc;
  };
  std::vector<Command> commands;
  std::vector<std::pair<size_t, size_t>> spans;  // (offset in arena, length) per argument.
  std::string replies;  // Filled on the target shard.
};

enum class Submitted {
  kDone,      // Ran (or was rejected); its reply is in client.out().
  kBatched,   // Queued for a remote shard: call Flush() before waiting for input.
  kDeferred,  // Not taken: a batch is pending. Flush(), wait, then submit it again.
  kAsync,     // Taken; ResumeAfterAsync() follows when its reply is in client.out().
};

class Dispatcher {
 public:
  static Submitted Submit(Client& client, const protocol::ArgList& args);
  // Sends the pending batch, if any. Returns true if the client must now wait for
  // ResumeAfterAsync().
  static bool Flush(Client& client);
};

// Runs `spec` with `args` here and now (used by Dispatcher and by tests). Records command stats.
void RunCommandHere(const CommandSpec& spec, CommandContext& ctx, bool coordinator);

}  // namespace shoal::server
