// RENAME RENAMENX COPY MOVE: commands that move or duplicate a value between keys (and, for
// COPY and MOVE, between databases). When both keys live on one shard the handler runs there,
// whole. Across shards a coordinator takes the value from the source shard and places it on the
// destination shard in a second hop; until the transaction layer lands, another client may
// observe the moment in between.
#include <climits>

#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;

constexpr std::string_view kSameObject = "ERR source and destination objects are the same";

// ---- RENAME / RENAMENX ----

void RenameHere(CommandContext& ctx, bool nx) {
  storage::Db& db = ctx.db();
  Entry* src = db.Find(ctx.arg(1), ctx.now_ms());
  if (src == nullptr) return ctx.ReplyError(Status::NoSuchKey());
  if (ctx.arg(1) == ctx.arg(2)) return nx ? ctx.reply().Integer(0) : ctx.reply().Ok();
  Entry* dst = db.Find(ctx.arg(2), ctx.now_ms());
  if (dst != nullptr) {
    if (nx) return ctx.reply().Integer(0);
    db.Erase(dst);
  }
  int64_t when = -1;
  Value v = db.Take(src, &when);
  Entry* e = db.Insert(ctx.arg(2), std::move(v));
  if (when >= 0) db.SetExpire(e, when);
  nx ? ctx.reply().Integer(1) : ctx.reply().Ok();
}

void Rename(CommandContext& ctx) { RenameHere(ctx, false); }
void RenameNx(CommandContext& ctx) { RenameHere(ctx, true); }

// State of a cross-shard rename, shared by its hops (each hop runs on one shard at a time).
struct Move {
  std::string src, dst;
  shard::ShardId src_shard, dst_shard;
  int db;
  bool nx;
  bool src_exists = false, dst_exists = false;
  Value value;
  int64_t when = -1;
  bool restored = false;
};

// Hop 3 (RENAMENX only, and rarely): the destination appeared meanwhile; put the value back.
void RestoreSource(CommandContext& c, std::shared_ptr<Move> m) {
  c.FanOut(
      {m->src_shard},
      [m](shard::Shard& s) {
        Entry* e = s.db(m->db).Upsert(m->src, std::move(m->value), UnixTimeMs());
        if (m->when >= 0) s.db(m->db).SetExpire(e, m->when);
      },
      [](CommandContext& c2) { c2.reply().Integer(0); });
}

// Hops 1 and 2: take the value from the source, then place it at the destination.
void TakeAndPlace(CommandContext& c, std::shared_ptr<Move> m) {
  c.FanOut(
      {m->src_shard},
      [m](shard::Shard& s) {
        storage::Db& d = s.db(m->db);
        Entry* e = d.Find(m->src, UnixTimeMs());
        m->src_exists = e != nullptr;
        if (e != nullptr) m->value = d.Take(e, &m->when);
      },
      [m](CommandContext& c1) {
        if (!m->src_exists) return c1.ReplyError(Status::NoSuchKey());
        c1.FanOut(
            {m->dst_shard},
            [m](shard::Shard& s) {
              storage::Db& d = s.db(m->db);
              int64_t now = UnixTimeMs();
              Entry* e = d.Find(m->dst, now);
              if (e != nullptr && m->nx) {
                m->restored = true;
                return;
              }
              if (e != nullptr) d.Erase(e);
              e = d.Insert(m->dst, std::move(m->value));
              if (m->when >= 0) d.SetExpire(e, m->when);
            },
            [m](CommandContext& c2) {
              if (m->restored) return RestoreSource(c2, m);
              m->nx ? c2.reply().Integer(1) : c2.reply().Ok();
            });
      });
}

void RenameCoordinatorImpl(CommandContext& ctx, bool nx) {
  auto m = std::make_shared<Move>();
  m->src = std::string(ctx.arg(1));
  m->dst = std::string(ctx.arg(2));
  m->src_shard = ctx.server().shards->OwnerOf(m->src);
  m->dst_shard = ctx.server().shards->OwnerOf(m->dst);
  m->db = ctx.db_index();
  m->nx = nx;
  if (!nx) return TakeAndPlace(ctx, m);
  // RENAMENX reports a missing source before an existing destination, so look at both first.
  ctx.FanOut(
      {m->src_shard, m->dst_shard},
      [m](shard::Shard& s) {
        storage::Db& d = s.db(m->db);
        int64_t now = UnixTimeMs();
        if (s.id() == m->src_shard) m->src_exists = d.Find(m->src, now) != nullptr;
        if (s.id() == m->dst_shard) m->dst_exists = d.Find(m->dst, now) != nullptr;
      },
      [m](CommandContext& c) {
        if (!m->src_exists) return c.ReplyError(Status::NoSuchKey());
        if (m->dst_exists) return c.reply().Integer(0);
        TakeAndPlace(c, m);
      });
}

void RenameCoordinator(CommandContext& ctx) { RenameCoordinatorImpl(ctx, false); }
void RenameNxCoordinator(CommandContext& ctx) { RenameCoordinatorImpl(ctx, true); }

// ---- COPY ----

struct CopyOptions {
  int dst_db;
  bool replace = false;
};

bool ParseCopy(CommandContext& ctx, CopyOptions* o) {
  o->dst_db = ctx.db_index();
  for (size_t j = 3; j < ctx.argc(); ++j) {
    size_t more = ctx.argc() - j - 1;
    if (ArgIs(ctx.arg(j), "REPLACE")) {
      o->replace = true;
    } else if (ArgIs(ctx.arg(j), "DB") && more >= 1) {
      std::optional<int64_t> db = ParseInt64(ctx.arg(j + 1));
      if (!db || *db < INT_MIN || *db > INT_MAX) {
        ctx.ReplyError(Status::NotInteger());
        return false;
      }
      if (*db < 0 || *db >= ctx.shard().num_dbs()) {
        ctx.ReplyError(protocol::kErrDbIndex);
        return false;
      }
      o->dst_db = static_cast<int>(*db);
      ++j;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  if (o->dst_db == ctx.db_index() && ctx.arg(1) == ctx.arg(2)) {
    ctx.ReplyError(kSameObject);
    return false;
  }
  return true;
}

// Runs on: the destination's shard. Returns 1 if placed, 0 if the destination exists.
int64_t PlaceCopy(storage::Db& d, std::string_view key, Value v, int64_t when, bool replace,
                  int64_t now) {
  Entry* e = d.Find(key, now);
  if (e != nullptr) {
    if (!replace) return 0;
    d.Erase(e);
  }
  e = d.Insert(key, std::move(v));
  if (when >= 0) d.SetExpire(e, when);
  return 1;
}

void Copy(CommandContext& ctx) {
  CopyOptions o;
  if (!ParseCopy(ctx, &o)) return;
  Entry* src = ctx.db().Find(ctx.arg(1), ctx.now_ms());
  if (src == nullptr) return ctx.reply().Integer(0);
  int64_t when = ctx.db().GetExpire(src);
  Value v = src->value.Clone();
  storage::Db& dst = ctx.shard().db(o.dst_db);
  ctx.reply().Integer(PlaceCopy(dst, ctx.arg(2), std::move(v), when, o.replace, ctx.now_ms()));
}

void CopyCoordinator(CommandContext& ctx) {
  CopyOptions o;
  if (!ParseCopy(ctx, &o)) return;
  struct State {
    std::string src, dst;
    int src_db;
    CopyOptions o;
    bool found = false;
    Value value;
    int64_t when = -1;
    int64_t placed = 0;
  };
  auto st = std::make_shared<State>();
  st->src = std::string(ctx.arg(1));
  st->dst = std::string(ctx.arg(2));
  st->src_db = ctx.db_index();
  st->o = o;
  shard::ShardId dst_shard = ctx.server().shards->OwnerOf(st->dst);
  ctx.FanOut(
      {ctx.server().shards->OwnerOf(st->src)},
      [st](shard::Shard& s) {
        storage::Db& d = s.db(st->src_db);
        Entry* e = d.Find(st->src, UnixTimeMs());
        if (e == nullptr) return;
        st->found = true;
        st->value = e->value.Clone();
        st->when = d.GetExpire(e);
      },
      [st, dst_shard](CommandContext& c) {
        if (!st->found) return c.reply().Integer(0);
        c.FanOut(
            {dst_shard},
            [st](shard::Shard& s) {
              st->placed = PlaceCopy(s.db(st->o.dst_db), st->dst, std::move(st->value), st->when,
                                     st->o.replace, UnixTimeMs());
            },
            [st](CommandContext& c2) { c2.reply().Integer(st->placed); });
      });
}

// ---- MOVE ----

void MoveCmd(CommandContext& ctx) {
  std::optional<int64_t> db = ParseInt64(ctx.arg(2));
  if (!db || *db < INT_MIN || *db > INT_MAX) return ctx.ReplyError(Status::NotInteger());
  if (*db < 0 || *db >= ctx.shard().num_dbs()) return ctx.ReplyError(protocol::kErrDbIndex);
  if (*db == ctx.db_index()) return ctx.ReplyError(kSameObject);
  storage::Db& src = ctx.db();
  storage::Db& dst = ctx.shard().db(static_cast<int>(*db));
  Entry* e = src.Find(ctx.arg(1), ctx.now_ms());
  if (e == nullptr) return ctx.reply().Integer(0);
  if (dst.Find(ctx.arg(1), ctx.now_ms()) != nullptr) return ctx.reply().Integer(0);
  int64_t when = -1;
  Value v = src.Take(e, &when);
  Entry* moved = dst.Insert(ctx.arg(1), std::move(v));
  if (when >= 0) dst.SetExpire(moved, when);
  ctx.reply().Integer(1);
}

}  // namespace

void RegisterRenameCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "rename", .arity = 3, .flags = kWrite, .first_key = 1, .last_key = 2,
             .key_step = 1, .handler = Rename, .coordinator = RenameCoordinator});
  table.Add({.name = "renamenx", .arity = 3, .flags = kWrite | kFast, .first_key = 1,
             .last_key = 2, .key_step = 1, .handler = RenameNx,
             .coordinator = RenameNxCoordinator});
  table.Add({.name = "copy", .arity = -3, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 2, .key_step = 1, .handler = Copy, .coordinator = CopyCoordinator});
  table.Add({.name = "move", .arity = 3, .flags = kWrite | kFast, .first_key = 1, .last_key = 1,
             .key_step = 1, .handler = MoveCmd});
}

}  // namespace shoal::cmd
