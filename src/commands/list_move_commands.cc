// LMOVE RPOPLPUSH LMPOP: list commands whose keys may live on several shards. When all keys share
// a shard the handler runs there, whole (list_ops.h). Otherwise a coordinator hops between the
// owners; until the transaction layer lands, another client may observe the moment between hops
// (the element popped but not yet pushed), as with RENAME across shards.
#include <memory>

#include "commands/helpers.h"
#include "commands/list_ops.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

using storage::Entry;

// ---- LMOVE / RPOPLPUSH ----

struct MoveArgs {
  ListEnd from, to;
};

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT; RPOPLPUSH is RIGHT LEFT.
bool ParseMove(CommandContext& ctx, MoveArgs* m) {
  if (ctx.argc() == 3) {
    *m = {ListEnd::kTail, ListEnd::kHead};
    return true;
  }
  std::optional<ListEnd> from = ParseListEnd(ctx.arg(3));
  std::optional<ListEnd> to = ParseListEnd(ctx.arg(4));
  if (!from || !to) {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  *m = {*from, *to};
  return true;
}

void ReplyMoved(protocol::ReplyBuilder& r, const Result<std::optional<std::string>>& moved) {
  if (!moved.ok()) return r.Error(moved.status());
  if (!moved->has_value()) return r.Null();
  r.Bulk(**moved);
}

void LMove(CommandContext& ctx) {
  MoveArgs m;
  if (!ParseMove(ctx, &m)) return;
  ReplyMoved(ctx.reply(), MoveElement(ctx.db(), ctx.arg(1), ctx.arg(2), m.from, m.to,
                                      ctx.now_ms()));
}

// A move across shards, shared by its hops (each runs on one shard at a time).
struct CrossMove {
  std::string src, dst;
  shard::ShardId src_shard, dst_shard;
  int db;
  MoveArgs ends;
  bool dst_wrong_type = false;
  Status error;  // From the source hop: WRONGTYPE (source or destination).
  std::optional<std::string> element;
  bool pushed = false;
};

// Hop 3: push onto the destination. Should the destination have turned into another type since
// hop 1, the element goes back where it came from and the reply is WRONGTYPE.
void PushMoved(CommandContext& c, std::shared_ptr<CrossMove> m) {
  c.FanOut(
      {m->dst_shard},
      [m](shard::Shard& s) {
        storage::Db& d = s.db(m->db);
        Result<Entry*> e = FindList(d, m->dst, UnixTimeMs());
        if (!e.ok()) return;
        std::string_view v = *m->element;
        PushElements(d, *e, m->dst, m->ends.to, absl::MakeConstSpan(&v, 1));
        m->pushed = true;
      },
      [m](CommandContext& c2) {
        if (m->pushed) return c2.reply().Bulk(*m->element);
        c2.FanOut(
            {m->src_shard},
            [m](shard::Shard& s) {
              storage::Db& d = s.db(m->db);
              Result<Entry*> e = FindList(d, m->src, UnixTimeMs());
              if (!e.ok()) return;  // Both keys changed type meanwhile: the element is dropped.
              std::string_view v = *m->element;
              PushElements(d, *e, m->src, m->ends.from, absl::MakeConstSpan(&v, 1));
            },
            [](CommandContext& c3) { c3.ReplyError(Status::WrongType()); });
      });
}

// Hop 1 looks at the destination's type, hop 2 pops from the source (unless an error is due: a
// missing source replies null even when the destination has the wrong type, as in Redis).
void LMoveCoordinator(CommandContext& ctx) {
  auto m = std::make_shared<CrossMove>();
  if (!ParseMove(ctx, &m->ends)) return;
  m->src = std::string(ctx.arg(1));
  m->dst = std::string(ctx.arg(2));
  m->src_shard = ctx.server().shards->OwnerOf(m->src);
  m->dst_shard = ctx.server().shards->OwnerOf(m->dst);
  m->db = ctx.db_index();
  ctx.FanOut(
      {m->dst_shard},
      [m](shard::Shard& s) {
        m->dst_wrong_type = !FindList(s.db(m->db), m->dst, UnixTimeMs()).ok();
      },
      [m](CommandContext& c) {
        c.FanOut(
            {m->src_shard},
            [m](shard::Shard& s) {
              storage::Db& d = s.db(m->db);
              Result<Entry*> e = FindList(d, m->src, UnixTimeMs());
              if (!e.ok() || (*e != nullptr && m->dst_wrong_type)) {
                m->error = Status::WrongType();
                return;
              }
              if (*e == nullptr) return;
              m->element = std::move(PopElements(d, *e, m->ends.from, 1)[0]);
            },
            [m](CommandContext& c1) {
              if (!m->error.ok()) return c1.ReplyError(m->error);
              if (!m->element) return c1.reply().Null();
              PushMoved(c1, m);
            });
      });
}

// ---- LMPOP ----

struct MpopArgs {
  size_t numkeys = 0;
  ListEnd end = ListEnd::kHead;
  size_t count = 1;
};

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], checked in Redis's order. Runs before any
// data is touched: a malformed numkeys brings the command here with no keys at all.
bool ParseMpop(CommandContext& ctx, MpopArgs* a) {
  std::optional<int64_t> n = ParseInt64(ctx.arg(1));
  if (!n || *n <= 0) {
    ctx.ReplyError("ERR numkeys should be greater than 0");
    return false;
  }
  // LEFT|RIGHT must follow the keys.
  if (*n > static_cast<int64_t>(ctx.argc()) - 3) {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  a->numkeys = static_cast<size_t>(*n);
  size_t where = 2 + a->numkeys;
  std::optional<ListEnd> end = ParseListEnd(ctx.arg(where));
  if (!end) {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  a->end = *end;
  bool have_count = false;
  for (size_t j = where + 1; j < ctx.argc(); ++j) {
    if (!have_count && ArgIs(ctx.arg(j), "COUNT") && j + 1 < ctx.argc()) {
      std::optional<int64_t> c = ParseInt64(ctx.arg(++j));
      if (!c || *c <= 0) {
        ctx.ReplyError("ERR count should be greater than 0");
        return false;
      }
      a->count = static_cast<size_t>(*c);
      have_count = true;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  return true;
}

void LMPop(CommandContext& ctx) {
  MpopArgs a;
  if (!ParseMpop(ctx, &a)) return;
  auto keys = ctx.args().subspan(2, a.numkeys);
  Result<std::optional<MultiPopResult>> r = MultiPop(ctx.db(), keys, a.end, a.count, ctx.now_ms());
  if (!r.ok()) return ctx.ReplyError(r.status());
  if (!r->has_value()) return ctx.reply().NullArray();
  ReplyKeyAndElements(ctx.reply(), keys[(*r)->key_index], (*r)->elements);
}

// LMPOP across shards: hop 1 asks every owner what each of its keys holds; the first key (in the
// command's order) holding anything decides: another type replies WRONGTYPE, a list is popped in
// hop 2. If that list is gone by then (another client emptied it), the scan starts over.
struct CrossMpop {
  std::vector<std::string> keys;
  ShardGroups groups;
  MpopArgs args;
  int db;
  enum State : uint8_t { kMissing, kList, kOther };
  std::vector<State> states;  // Parallel to keys; each shard writes only its own slots.
  size_t chosen = 0;
  bool popped = false;
  Status error;
  std::vector<std::string> elements;
  int attempts = 0;
};

void ScanAndPop(CommandContext& c, std::shared_ptr<CrossMpop> m);

void PopChosen(CommandContext& c, std::shared_ptr<CrossMpop> m) {
  m->popped = false;
  c.FanOut(
      {c.server().shards->OwnerOf(m->keys[m->chosen])},
      [m](shard::Shard& s) {
        storage::Db& d = s.db(m->db);
        Result<Entry*> e = FindList(d, m->keys[m->chosen], UnixTimeMs());
        if (!e.ok()) {
          m->error = e.status();
          return;
        }
        if (*e == nullptr) return;
        m->elements = PopElements(d, *e, m->args.end, m->args.count);
        m->popped = true;
      },
      [m](CommandContext& c1) {
        if (!m->error.ok()) return c1.ReplyError(m->error);
        if (m->popped) return ReplyKeyAndElements(c1.reply(), m->keys[m->chosen], m->elements);
        ScanAndPop(c1, m);  // The list vanished between the hops: look again.
      });
}

void ScanAndPop(CommandContext& c, std::shared_ptr<CrossMpop> m) {
  // Each retry follows another client's change; give up (as if all were empty) only if the keys
  // keep changing under us many times in a row.
  if (++m->attempts > 64) return c.reply().NullArray();
  c.FanOut(
      m->groups.shards,
      [m](shard::Shard& s) {
        storage::Db& d = s.db(m->db);
        int64_t now = UnixTimeMs();
        for (size_t i : m->groups.Of(s.id())) {
          Result<Entry*> e = FindList(d, m->keys[i], now);
          m->states[i] = !e.ok() ? CrossMpop::kOther
                         : *e == nullptr ? CrossMpop::kMissing
                                         : CrossMpop::kList;
        }
      },
      [m](CommandContext& c1) {
        for (size_t i = 0; i < m->keys.size(); ++i) {
          if (m->states[i] == CrossMpop::kMissing) continue;
          if (m->states[i] == CrossMpop::kOther) return c1.ReplyError(Status::WrongType());
          m->chosen = i;
          return PopChosen(c1, m);
        }
        c1.reply().NullArray();
      });
}

void LMPopCoordinator(CommandContext& ctx) {
  auto m = std::make_shared<CrossMpop>();
  if (!ParseMpop(ctx, &m->args)) return;
  for (size_t i = 0; i < m->args.numkeys; ++i) m->keys.emplace_back(ctx.arg(2 + i));
  m->groups = GroupByShard(m->keys);
  m->states.assign(m->keys.size(), CrossMpop::kMissing);
  m->db = ctx.db_index();
  ScanAndPop(ctx, m);
}

}  // namespace

void RegisterListMoveCommands(server::CommandTable& table) {
  using namespace server;  // Command flags.
  table.Add({.name = "lmove", .arity = 5, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 2, .key_step = 1, .handler = LMove, .coordinator = LMoveCoordinator});
  table.Add({.name = "rpoplpush", .arity = 3, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 2, .key_step = 1, .handler = LMove, .coordinator = LMoveCoordinator});
  table.Add({.name = "lmpop", .arity = -4, .flags = kWrite, .handler = LMPop,
             .coordinator = LMPopCoordinator, .get_keys = NumkeysKeys<0, 1>});
}

}  // namespace shoal::cmd
