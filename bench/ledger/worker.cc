#include "worker.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace ledger {
namespace {

std::string Num(long long v) { return std::to_string(v); }

std::string BenchKey(const char* kind, long i) {
  return std::string("bench:") + kind + ":" + std::to_string(i);
}

}  // namespace

Worker::Worker(Shared& shared, int index, std::vector<std::unique_ptr<Conn>> conns)
    : shared_(shared), opts_(shared.opts), rng_(opts_.seed * 1000003 + index) {
  if (opts_.bench.empty()) {
    kind_dist_ = std::discrete_distribution<int>(opts_.mix.begin(), opts_.mix.end());
  }
  for (auto& c : conns) {
    auto s = std::make_unique<Session>();
    s->conn = std::move(c);
    sessions_.push_back(std::move(s));
  }
}

void Worker::Fail(Session& s, const std::string& what) {
  shared_.reporter.Error(what);
  if (shared_.reporter.errors() >= opts_.max_errors) shared_.stop = true;
}

void Worker::Finish(const Op& op, bool moved) {
  KindStats& k = stats_.kind[static_cast<int>(op.kind)];
  (moved ? k.moved : k.refused)++;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now_ - op.start).count();
  stats_.latency_us.push_back(static_cast<uint32_t>(std::min<long long>(us, UINT32_MAX)));
}

void Worker::Retry(Op& op) {
  stats_.kind[static_cast<int>(op.kind)].retries++;
  op.phase = 0;
}

bool Worker::NewOp(Session& s, bool batch_empty, Op* op) {
  if (shared_.stop.load(std::memory_order_relaxed)) return false;
  Kind kind;
  if (!opts_.bench.empty()) {
    kind = opts_.bench == "multi" ? Kind::kMulti : Kind::kEvalsha;
  } else if (s.deferred >= 0) {
    kind = static_cast<Kind>(s.deferred);
  } else {
    kind = static_cast<Kind>(kind_dist_(rng_));
  }
  if ((kind == Kind::kWatch || kind == Kind::kNoWatch) && !batch_empty) {
    s.deferred = static_cast<int>(kind);  // It opens the next batch.
    return false;
  }
  if (shared_.budget.fetch_sub(1, std::memory_order_relaxed) <= 0) return false;
  s.deferred = -1;
  op->kind = kind;
  op->start = now_;
  if (kind == Kind::kMulti || kind == Kind::kEvalsha) {
    op->a = static_cast<long>(rng_() % opts_.keyspace);
    return true;
  }
  op->a = static_cast<long>(rng_() % opts_.accounts);
  op->b = static_cast<long>(rng_() % (opts_.accounts - 1));
  if (op->b >= op->a) op->b++;  // Two different accounts.
  op->amount = 1 + static_cast<long long>(rng_() % opts_.max_amount);
  return true;
}

void Worker::AppendCommands(Session& s, Op& op) {
  Conn& c = *s.conn;
  size_t before = s.expected;
  switch (op.kind) {
    case Kind::kWatch:
    case Kind::kNoWatch:
      if (op.phase == 0) {
        if (op.kind == Kind::kWatch) {
          c.Append({"WATCH", opts_.Balance(op.a), opts_.Balance(op.b)});
          s.expected += 1;
        }
        c.Append({"MGET", opts_.Balance(op.a), opts_.Balance(op.b)});
        s.expected += 1;
      } else {
        c.Append({"MULTI"});
        c.Append({"DECRBY", opts_.Balance(op.a), Num(op.amount)});
        c.Append({"INCRBY", opts_.Balance(op.b), Num(op.amount)});
        c.Append({"EXEC"});
        s.expected += 4;
      }
      break;
    case Kind::kScript:
      c.Append({"EVALSHA", shared_.transfer_sha, "2", opts_.Balance(op.a), opts_.Balance(op.b),
                Num(op.amount)});
      s.expected += 1;
      break;
    case Kind::kLmove:
      c.Append({"LMOVE", opts_.CoinList(op.a), opts_.CoinList(op.b), "LEFT", "RIGHT"});
      s.expected += 1;
      break;
    case Kind::kSmove:
      if (op.phase == 0) {
        c.Append({"SRANDMEMBER", opts_.CoinSet(op.a)});
      } else {
        c.Append({"SMOVE", opts_.CoinSet(op.a), opts_.CoinSet(op.b), op.member});
      }
      s.expected += 1;
      break;
    case Kind::kUnsafe:
      c.Append({op.phase == 0 ? "DECRBY" : "INCRBY", opts_.Balance(op.phase == 0 ? op.a : op.b),
                Num(op.amount)});
      s.expected += 1;
      break;
    case Kind::kMulti: {
      // Five counters on random keys (so on several shards), a dependent-free transaction.
      c.Append({"MULTI"});
      for (int i = 0; i < 5; i++) {
        long key = i == 0 ? op.a : static_cast<long>(rng_() % opts_.keyspace);
        c.Append({"INCR", BenchKey("txn", key)});
      }
      c.Append({"EXEC"});
      s.expected += 7;
      break;
    }
    case Kind::kEvalsha:
      c.Append({"EVALSHA", shared_.rmw_sha, "1", BenchKey("rmw", op.a), "1"});
      s.expected += 1;
      break;
  }
  op.first_reply = before;
  op.replies = s.expected - before;
}

bool Worker::Send(Session& s, std::vector<Op> carry) {
  s.ops.clear();
  s.replies.clear();
  s.expected = 0;
  s.unwatch_in_batch = false;
  // WATCH is per connection, and a nowatch transfer stands in for a WATCH one: both alone.
  bool watch_alone = !carry.empty() &&
                     (carry.front().kind == Kind::kWatch || carry.front().kind == Kind::kNoWatch);
  s.ops = std::move(carry);
  if (!watch_alone) {
    Op op;
    while (static_cast<int>(s.ops.size()) < opts_.pipeline && NewOp(s, s.ops.empty(), &op)) {
      s.ops.push_back(op);
      if (op.kind == Kind::kWatch || op.kind == Kind::kNoWatch) break;
    }
  }
  if (s.ops.empty()) return false;
  if (s.unwatch_pending) {
    s.conn->Append({"UNWATCH"});
    s.expected = 1;
    s.unwatch_in_batch = true;
    s.unwatch_pending = false;
  }
  for (Op& op : s.ops) AppendCommands(s, op);
  s.sent = now_;
  s.active = true;
  if (!s.conn->Flush()) {
    Fail(s, "write failed: " + s.conn->error());
    s.active = false;
    return false;
  }
  return true;
}

std::vector<Op> Worker::Handle(Session& s) {
  std::vector<Op> next;
  if (s.unwatch_in_batch && !IsStatus(s.replies[0].get(), "OK")) {
    Fail(s, "UNWATCH -> " + Describe(s.replies[0].get()));
  }
  for (Op& op : s.ops) {
    std::vector<redisReply*> r(op.replies);
    for (size_t i = 0; i < op.replies; i++) r[i] = s.replies[op.first_reply + i].get();
    if (Step(op, r.data(), s)) next.push_back(std::move(op));
  }
  return next;
}

bool Worker::Step(Op& op, redisReply** r, Session& s) {
  const char* name = kKindNames[static_cast<int>(op.kind)];
  auto error = [&](const std::string& what) {
    stats_.kind[static_cast<int>(op.kind)].errors++;
    Fail(s, std::string(name) + " transfer: " + what);
    return false;
  };
  auto retry = [&]() {
    if (shared_.stop.load(std::memory_order_relaxed)) return false;  // Dropped at the end.
    Retry(op);
    return true;
  };
  long long v = 0;
  switch (op.kind) {
    case Kind::kWatch:
    case Kind::kNoWatch:
      if (op.phase == 0) {
        bool watch = op.kind == Kind::kWatch;
        if (watch && !IsStatus(r[0], "OK")) return error("WATCH -> " + Describe(r[0]));
        redisReply* mget = r[watch ? 1 : 0];
        if (mget->type != REDIS_REPLY_ARRAY || mget->elements != 2) {
          return error("MGET -> " + Describe(mget));
        }
        redisReply* from = mget->element[0];
        if (from->type == REDIS_REPLY_NIL || mget->element[1]->type == REDIS_REPLY_NIL) {
          shared_.reporter.Violation(std::string(name) +
                                     " transfer: MGET found a balance key missing (" +
                                     opts_.Balance(op.a) + ", " + opts_.Balance(op.b) + ")");
          s.unwatch_pending = watch;
          return false;
        }
        if (!AsInt(from, &v)) return error("MGET balance -> " + Describe(from));
        if (v < 0) {
          shared_.reporter.Violation(std::string(name) + " transfer: " + opts_.Balance(op.a) +
                                     " is negative: " + Num(v));
        }
        if (v < op.amount) {
          // Sent at the head of the next batch: no extra round trip.
          s.unwatch_pending = watch;
          Finish(op, false);
          return false;
        }
        op.phase = 1;
        return true;
      }
      if (!IsStatus(r[0], "OK")) return error("MULTI -> " + Describe(r[0]));
      for (int i = 1; i <= 2; i++) {
        if (!IsStatus(r[i], "QUEUED")) return error("queued command -> " + Describe(r[i]));
      }
      if (r[3]->type == REDIS_REPLY_NIL) return retry();  // A watched key changed: again.
      if (r[3]->type != REDIS_REPLY_ARRAY || r[3]->elements != 2 || !AsInt(r[3]->element[0], &v)) {
        return error("EXEC -> " + Describe(r[3]));
      }
      if (v < 0) {
        shared_.reporter.Violation(std::string(name) + " transfer left " + opts_.Balance(op.a) +
                                   " at " + Num(v) + " although its check saw enough");
      }
      Finish(op, true);
      return false;
    case Kind::kScript:
      if (IsError(r[0]) && std::strncmp(r[0]->str, "LEDGER", 6) == 0) {
        shared_.reporter.Violation("script transfer: " + Describe(r[0]));
        return false;
      }
      if (r[0]->type != REDIS_REPLY_INTEGER || (r[0]->integer != 0 && r[0]->integer != 1)) {
        return error("EVALSHA -> " + Describe(r[0]));
      }
      Finish(op, r[0]->integer == 1);
      return false;
    case Kind::kLmove:
      if (r[0]->type == REDIS_REPLY_NIL) {
        Finish(op, false);
      } else if (r[0]->type == REDIS_REPLY_STRING) {
        Finish(op, true);
      } else {
        return error("LMOVE -> " + Describe(r[0]));
      }
      return false;
    case Kind::kSmove:
      if (op.phase == 0) {
        if (r[0]->type == REDIS_REPLY_NIL) {
          Finish(op, false);
          return false;
        }
        if (r[0]->type != REDIS_REPLY_STRING) return error("SRANDMEMBER -> " + Describe(r[0]));
        op.member.assign(r[0]->str, r[0]->len);
        op.phase = 1;
        return true;
      }
      if (r[0]->type != REDIS_REPLY_INTEGER) return error("SMOVE -> " + Describe(r[0]));
      if (r[0]->integer == 0) return retry();  // Another client moved that coin first.
      Finish(op, true);
      return false;
    case Kind::kUnsafe:
      if (r[0]->type != REDIS_REPLY_INTEGER) return error("DECRBY/INCRBY -> " + Describe(r[0]));
      if (op.phase == 0) {
        op.phase = 1;  // The money is nowhere until the INCRBY: what audits must notice.
        return true;
      }
      Finish(op, true);
      return false;
    case Kind::kMulti:
      if (!IsStatus(r[0], "OK")) return error("MULTI -> " + Describe(r[0]));
      for (int i = 1; i <= 5; i++) {
        if (!IsStatus(r[i], "QUEUED")) return error("queued INCR -> " + Describe(r[i]));
      }
      if (r[6]->type != REDIS_REPLY_ARRAY || r[6]->elements != 5) {
        return error("EXEC -> " + Describe(r[6]));
      }
      for (size_t i = 0; i < 5; i++) {
        if (r[6]->element[i]->type != REDIS_REPLY_INTEGER) {
          return error("EXEC INCR -> " + Describe(r[6]->element[i]));
        }
      }
      Finish(op, true);
      return false;
    case Kind::kEvalsha:
      if (r[0]->type != REDIS_REPLY_INTEGER) return error("EVALSHA -> " + Describe(r[0]));
      Finish(op, true);
      return false;
  }
  return false;
}

void Worker::Run() {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  now_ = Clock::now();
  size_t active = 0;
  for (size_t i = 0; i < sessions_.size(); i++) {
    Session& s = *sessions_[i];
    if (!Send(s, {})) continue;
    active++;
    // Level-triggered: POLLOUT is asked for only while a batch is not all written.
    s.polls_out = s.conn->wants_write();
    epoll_event ev{};
    ev.events = s.polls_out ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, s.conn->fd(), &ev);
  }
  auto timeout = std::chrono::duration<double>(opts_.timeout);
  std::vector<epoll_event> events(64);
  Clock::time_point last_check = now_;
  while (active > 0) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 100);
    now_ = Clock::now();
    for (int e = 0; e < n; e++) {
      Session& s = *sessions_[events[e].data.u64];
      if (!s.active) continue;
      bool ok = true;
      if (events[e].events & EPOLLOUT) ok = s.conn->Flush();
      if (ok && (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) ok = s.conn->Fill();
      Reply reply;
      while (ok && s.replies.size() < s.expected) {
        if (!s.conn->Next(&reply)) {
          ok = false;
        } else if (!reply) {
          break;
        } else {
          s.replies.push_back(std::move(reply));
        }
      }
      if (!ok) {
        Fail(s, "connection lost: " + s.conn->error());
        s.active = false;
      } else if (s.replies.size() == s.expected) {
        s.active = Send(s, Handle(s));
      }
      if (!s.active) {
        // Done: an idle socket left in the set would report POLLOUT forever.
        epoll_ctl(ep, EPOLL_CTL_DEL, s.conn->fd(), nullptr);
        active--;
        continue;
      }
      if (s.conn->wants_write() != s.polls_out) {  // A syscall only when the mask changes.
        s.polls_out = !s.polls_out;
        epoll_event ev{};
        ev.events = s.polls_out ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
        ev.data.u64 = events[e].data.u64;
        epoll_ctl(ep, EPOLL_CTL_MOD, s.conn->fd(), &ev);
      }
    }
    if (now_ - last_check > std::chrono::milliseconds(200)) {
      last_check = now_;
      for (auto& sp : sessions_) {
        if (sp->active && now_ - sp->sent > timeout) {
          Fail(*sp, "no reply for " + Seconds(opts_.timeout) + " s (" +
                        std::to_string(sp->replies.size()) + " of " + std::to_string(sp->expected) +
                        " replies of a batch)");
          sp->active = false;
          epoll_ctl(ep, EPOLL_CTL_DEL, sp->conn->fd(), nullptr);
          active--;
        }
      }
    }
  }
  close(ep);
}

}  // namespace ledger
