#include "server/log_acks.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "server/server_state.h"
#include "server/write_log.h"
#include "shard/shard.h"
#include "shard/shard_set.h"

namespace shoal::server {
namespace {

LogSink g_sink;
// Per shard: it has held clients and wants to hear of the writer's progress.
std::unique_ptr<std::atomic<bool>[]> g_interest;
std::atomic<bool> g_notify{true};
size_t g_shards = 0;

struct ThreadAcks {
  std::vector<Client*> fresh;    // Held this turn, no ticket yet.
  std::vector<Client*> waiting;  // Ticketed.
};
thread_local ThreadAcks t_acks;

void WantProgress(shard::Shard& shard) {
  if (shard.id() < g_shards) g_interest[shard.id()].store(true, std::memory_order_seq_cst);
}

}  // namespace

void LogAcks::SetSink(const LogSink& sink) {
  size_t n = ServerState::Get().shards->size();
  if (g_shards != n) {
    g_interest = std::make_unique<std::atomic<bool>[]>(n);
    g_shards = n;
  }
  g_sink = sink;
}

const LogSink& LogAcks::sink() { return g_sink; }

bool LogAcks::MaySendSlow(Client& c) {
  if (!WriteLog::enabled() || g_sink.push == nullptr) {
    c.log_pending = false;
    return true;
  }
  if (!c.log_held) {
    c.log_held = true;
    t_acks.fresh.push_back(&c);
  } else {
    // New replies since the ticket was taken (an EXEC that was still running then, say): they
    // may stand on writes pushed later, so the client takes a newer ticket this turn.
    c.log_retick = true;
  }
  return false;
}

void LogAcks::PushThreadLog() {
  LogBuffer& buf = WriteLog::ThreadBuffer();
  if (buf.empty() || g_sink.push == nullptr) return;
  g_sink.push(std::move(buf.bytes));
  buf.Clear();  // The next push opens with its own SELECT: pushes of shards interleave.
}

void LogAcks::EndOfTurn(shard::Shard& shard) {
  PushThreadLog();
  ThreadAcks& t = t_acks;
  if (t.fresh.empty() && t.waiting.empty()) return;
  uint64_t latest = g_sink.last_ticket != nullptr ? g_sink.last_ticket() : 0;
  for (Client* c : t.fresh) {
    c->log_ticket = latest;
    c->log_retick = false;
    t.waiting.push_back(c);
  }
  t.fresh.clear();
  for (Client* c : t.waiting) {
    if (c->log_retick) {
      c->log_ticket = latest;
      c->log_retick = false;
    }
  }
  // Ask for news first, then look: progress made in between is seen here or reported later.
  WantProgress(shard);
  Release(g_sink.acknowledged != nullptr ? g_sink.acknowledged() : 0);
}

void LogAcks::Release(uint64_t acknowledged) {
  ThreadAcks& t = t_acks;
  for (;;) {
    if (t.waiting.empty()) return;
    std::vector<Client*> go;
    auto keep = std::partition(t.waiting.begin(), t.waiting.end(), [&](Client* c) {
      return c->log_retick || c->log_ticket > acknowledged;
    });
    go.assign(keep, t.waiting.end());
    t.waiting.erase(keep, t.waiting.end());
    for (Client* c : go) {
      c->log_held = false;
      // Work still running for it (an EXEC, a hop) may write: its replies must wait again.
      c->log_pending = c->in_flight > 0;
      c->log_ticket = 0;
      c->SendHeldReplies();
    }
    if (t.waiting.empty()) return;
    // Ask for news, then look again: the writer may have passed them meanwhile, and gone idle.
    WantProgress(*shard::Shard::Current());
    uint64_t now = g_sink.acknowledged != nullptr ? g_sink.acknowledged() : 0;
    if (now <= acknowledged) return;
    acknowledged = now;
  }
}

void LogAcks::StopNotifying() { g_notify.store(false, std::memory_order_release); }

void LogAcks::NotifyShards(uint64_t acknowledged) {
  if (!g_notify.load(std::memory_order_acquire)) return;
  shard::ShardSet* shards = ServerState::Get().shards;
  for (size_t i = 0; i < g_shards; ++i) {
    if (!g_interest[i].exchange(false, std::memory_order_seq_cst)) continue;
    shards->shard(i).Post([acknowledged] { LogAcks::Release(acknowledged); });
  }
}

void LogAcks::Forget(Client& c) {
  ThreadAcks& t = t_acks;
  t.fresh.erase(std::remove(t.fresh.begin(), t.fresh.end(), &c), t.fresh.end());
  t.waiting.erase(std::remove(t.waiting.begin(), t.waiting.end(), &c), t.waiting.end());
  c.log_held = false;
}

}  // namespace shoal::server
