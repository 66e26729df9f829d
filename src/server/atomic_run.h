// AtomicRun: runs commands atomically under a Transaction: the body of EXEC, and every command
// whose keys live on several shards (MSET, RENAME, SUNIONSTORE... across shards).
//
//   Start: lock every key the commands name (exclusive for writes, shared for reads; the whole
//          shard for KEYS, FLUSHDB...; shared for WATCHed keys), shards in ascending order
//   granted: EXEC checks its watches on each owner while holding the locks
//   run:  the commands in order, through the same machinery as a pipelined run (consecutive
//         single-shard commands go one batch per shard, all shards in parallel; commands that
//         need the connection or a coordinator run alone), with no lock checks: we hold them
//   Finish: release every lock, reply, resume the connection
//
// Other clients' commands on the locked keys wait on their shards; everything else proceeds.
//
// Thread: the client's home thread.
#pragma once

#include <memory>
#include <vector>

#include "server/client.h"
#include "server/dispatcher.h"
#include "server/routing.h"
#include "server/multi_exec.h"
#include "server/transaction.h"
#include "server/watch.h"

namespace shoal::server {

class AtomicRun final : public AsyncListener {
 public:
  // Runs `commands` for `client` atomically. `exec`: reply as EXEC does (an array of the replies,
  // or a null array when a watched key changed); else the single command's reply as is. Returns
  // true if the work went asynchronous (the client then waits for AsyncDone()), false if it all
  // finished before returning.
  static bool Start(Client& client, std::vector<QueuedCommand> commands,
                    std::unique_ptr<WatchSet> watch, bool exec);

  void Resume() override { Continue(); }

 private:
  AtomicRun(Client& client, std::vector<QueuedCommand> commands, std::unique_ptr<WatchSet> watch,
            bool exec);
  void PlanLocks();
  // A lone split command (MSET, DEL... across shards) runs each shard's part the moment that
  // shard's locks are granted, and merges the replies once all are: one trip per shard.
  void PrepareSplit(const Plan& plan);
  void RunSplitPart(shard::Shard& shard);
  void PrepareFused();
  void OnGranted(shard::Shard& shard);
  void CheckWatches(shard::Shard& shard);
  void Begin();     // All locks held.
  void Continue();  // Runs commands until one must wait, or all are done.
  void Finish();
  void Done();  // After the locks are released.

  Client* client_;
  std::vector<QueuedCommand> commands_;
  std::unique_ptr<WatchSet> watch_;
  bool exec_;
  bool watch_failed_ = false;  // Written by owner shards in turn during Acquire.
  bool ran_coordinator_ = false;  // Wrote through tasks that do not touch watches themselves.
  size_t next_ = 0;
  std::vector<std::string_view> argv_;  // Views of commands_[next_] while it runs.
  std::vector<std::string_view> split_args_;  // Views into commands_[0].
  std::vector<SplitPart> split_parts_;        // Replies written on each part's shard.
  // EXEC without WATCH whose commands all run on shards (no connection commands,
  // coordinators): each shard's batch runs as that shard's locks are granted.
  std::unique_ptr<PipelineRun> fused_;
  LogBuffer log_;  // What the transaction wrote, every shard's part: logged whole at Finish.
  PipelineRun::Merge split_merge_;
  int db_index_;
  Transaction tx_;
  bool* finished_flag_ = nullptr;  // Set while Start() runs: finishing then is synchronous.
};

}  // namespace shoal::server
