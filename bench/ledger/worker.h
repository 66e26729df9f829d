// One client thread: drives its share of the connections with epoll. Each connection sends a
// batch (up to --pipeline operations, or one WATCH transfer alone, since WATCH is per
// connection), waits for all its replies, then sends the next batch with whatever the last one
// left unfinished (a WATCH transfer's MULTI/EXEC, a retry, an SMOVE after its SRANDMEMBER).

#pragma once

#include <memory>
#include <random>
#include <vector>

#include "conn.h"
#include "ledger.h"

namespace ledger {

struct Op {
  Kind kind;
  int phase = 0;
  long a = 0, b = 0;     // Accounts (or --bench keys).
  long long amount = 0;  // Money to move, or 1 for a coin.
  std::string member;    // The coin an SMOVE moves.
  Clock::time_point start;
  size_t first_reply = 0;  // Index of its first reply in the batch, and how many it has.
  size_t replies = 0;
};

class Worker {
 public:
  Worker(Shared& shared, int index, std::vector<std::unique_ptr<Conn>> conns);
  void Run();
  const Stats& stats() const { return stats_; }

 private:
  struct Session {
    std::unique_ptr<Conn> conn;
    std::vector<Op> ops;  // The batch in flight.
    std::vector<Reply> replies;
    size_t expected = 0;
    bool unwatch_in_batch = false;  // The batch starts with an UNWATCH.
    bool unwatch_pending = false;   // A refused WATCH transfer left keys watched.
    int deferred = -1;       // Kind of a WATCH-style transfer drawn but left for the next batch.
    bool active = false;     // Waiting for replies.
    bool polls_out = false;  // Registered for EPOLLOUT too.
    Clock::time_point sent;
  };

  // Fills and sends the session's next batch from `carry` (unfinished operations) and new
  // ones. False when there is nothing left to do.
  bool Send(Session& s, std::vector<Op> carry);
  // Handles a complete batch; returns the operations that go on.
  std::vector<Op> Handle(Session& s);
  // One operation's replies: true (and `next`) when it goes on, false when done or failed.
  bool Step(Op& op, redisReply** r, Session& s);
  bool NewOp(Session& s, bool batch_empty, Op* op);
  void AppendCommands(Session& s, Op& op);
  void Finish(const Op& op, bool moved);
  void Fail(Session& s, const std::string& what);
  void Retry(Op& op);

  Shared& shared_;
  const Options& opts_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::mt19937_64 rng_;
  std::discrete_distribution<int> kind_dist_;
  Stats stats_;
  Clock::time_point now_;
};

}  // namespace ledger
