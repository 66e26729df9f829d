// Dispatcher: takes a connection's parsed commands one by one and gets each executed where its
// keys live, keeping replies in the client's order.
//
// Pipelines are squashed: a run of consecutive single-shard commands is split by owner shard,
// each shard gets ONE message with its share (in the client's order), all shards work in
// parallel, and the replies are stitched back into the client's order when all are back:
//
//   connection thread                              owner shard threads
//   -----------------                              -------------------
//   Submit(SET a) --owner: shard 1--> queued for shard 1
//   Submit(GET b) --owner: here-----> runs inline now; its reply is held back
//   Submit(GET c) --owner: shard 1--> queued for shard 1
//   Submit(MGET d e) --d: shard 2, e: here--> split: "MGET d" queued for shard 2,
//                                             "MGET e" runs inline; replies merged later
//   Submit(KEYS *) --no single owner--> kDeferred: the caller stops and calls Flush()
//   Flush() ---- one message per shard ------->  shard 1: SET a, GET c   shard 2: MGET d
//   ResumeAfterAsync() <--- one message each --  replies stitched in the client's order
//
// What is kept: every key's commands run in the client's order (a key has one owner), and a
// command that cannot be split by shard, or that has no keys (KEYS, SELECT, INFO...), waits for
// everything before it and holds back everything after it. So a client always observes its own
// writes. What is relaxed, as in other multi-threaded Redis servers: within one pipelined run,
// parts on different shards may take effect in either order as seen by *other* clients. Atomic
// multi-key work goes through MULTI and the transaction layer (issue #4).
//
// Thread: the client's home thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocol/resp_parser.h"
#include "server/client.h"
#include "server/command_table.h"
#include "server/write_log.h"
#include "shard/shard.h"

namespace shoal::server {

class CommandContext;

// Commands for one shard, with their arguments owned (the sender's read buffer is reused as
// soon as the batch is posted).
struct RemoteBatch {
  shard::ShardId target = 0;
  int db_index = 0;
  int resp = 2;
  std::string arena;  // All arguments, back to back.
  struct Command {
    const CommandSpec* spec;
    uint32_t first_arg;  // Index into `spans`.
    uint32_t argc;
    bool part;           // One shard's part of a split command: its stats count at the origin.
  };
  std::vector<Command> commands;
  std::vector<std::pair<size_t, size_t>> spans;  // (offset in arena, length) per argument.
  // Sent by a transaction holding every lock its commands need: no lock checks. Otherwise a
  // command on a key some transaction holds waits there for the release.
  bool in_tx = false;
  size_t next = 0;                 // First command not run yet (a batch may wait midway).
  std::string replies;             // Filled on the target shard.
  LogBuffer log;                   // In a transaction: what its commands wrote (write_log.h).
  std::vector<size_t> reply_ends;  // Offset in `replies` just past each command's reply.
};

// A squashed run of pipelined commands being executed (see above).
struct PipelineRun {
  // Where a reply comes from: a batch index (>= 0), kLocal, or a merge (kFirstMerge - i).
  using Source = int16_t;
  static constexpr Source kLocal = -1;
  static constexpr Source kFirstMerge = -2;

  // A split command: where its parts' replies come from, and how to merge them.
  struct Merge {
    SplitMerge kind;
    std::vector<Source> parts;
    std::vector<uint8_t> part_of_key;  // kArrayByKey: which part answers each key, in order.
  };

  std::vector<std::unique_ptr<RemoteBatch>> batches;  // At most one per shard.
  std::string local_replies;       // Replies of commands that ran inline, held back.
  std::vector<size_t> local_ends;
  std::vector<Merge> merges;
  std::vector<Source> order;       // One per command submitted, in the client's order.
  size_t outstanding = 0;          // Batches sent and not back yet.
  LogBuffer local_log;             // In a transaction: what the inline commands wrote.

  // A transaction's run is over: its writes, every shard's, go into the transaction's log.
  void CollectLog(LogBuffer* into) const {
    into->Absorb(local_log);
    for (const auto& b : batches) into->Absorb(b->log);
  }

  // Appends every reply to `out` in the client's order.
  void StitchInto(std::string* out) const;
};

// Merges the replies of a split command's parts (one per part, in part order) into its reply.
void MergeSplitReplies(const PipelineRun::Merge& m, std::vector<std::string_view> replies,
                       std::string* out);

enum class Submitted {
  kDone,      // Ran (or was rejected); its reply is in client.out().
  kBatched,   // Taken into the current run: call Flush() before waiting for input.
  kDeferred,  // Not taken: a run is pending. Flush(), wait, then submit it again.
  kAsync,     // Taken; ResumeAfterAsync() follows when its reply is in client.out().
};

class Dispatcher {
 public:
  static Submitted Submit(Client& client, const protocol::ArgList& args);
  // Sends the pending run, if any. Returns true if the client must now wait for
  // ResumeAfterAsync(); false if there was nothing to send or everything ran inline.
  static bool Flush(Client& client);
};

// Runs `spec` here and now. Records command stats unless `record_stats` is false.
void RunCommandHere(const CommandSpec& spec, CommandContext& ctx, bool coordinator,
                    bool record_stats = true);

}  // namespace shoal::server
