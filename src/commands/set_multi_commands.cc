// SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SMOVE.
//
// When every key lives on one shard, the handler runs there, on the live sets. Otherwise the
// coordinator (on the connection's thread) asks each owner shard for copies of the sets it owns
// (one FanOut; each shard clones its own sets, since only it may read them), computes the result
// here with the same algorithms (storage/set_algebra.h), and for the STORE forms hands the result
// to the destination's shard in a second hop. SMOVE across shards checks both keys, takes the
// member from the source, then adds it to the destination. Until the transaction layer lands,
// another client may observe the moment between two hops.
#include "commands/set_multi_commands.h"

#include <algorithm>
#include <memory>

#include "commands/helpers.h"
#include "storage/set_algebra.h"
#include "storage/set_object.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::SetMember;
using storage::Value;
using storage::ValueType;

constexpr std::string_view kErrNumkeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kErrTooManyKeys =
    "ERR Number of keys can't be greater than number of args";
constexpr std::string_view kErrLimit = "ERR LIMIT can't be negative";

enum class Algebra : uint8_t { kInter, kUnion, kDiff };

using SetList = std::vector<const Value*>;  // One per source key; nullptr for a missing key.

bool AnyMissing(const SetList& sets) {
  return std::find(sets.begin(), sets.end(), nullptr) != sets.end();
}

// The result of `op` as a fresh set, as the STORE forms build it (possibly empty).
Value Compute(Algebra op, const SetList& sets) {
  if (op == Algebra::kUnion) return storage::SetUnionOrDiff(storage::SetOp::kUnion, sets);
  if (op == Algebra::kDiff) return storage::SetUnionOrDiff(storage::SetOp::kDiff, sets);
  // Redis 7.0 grows an intersection to store from an empty intset.
  Value out = storage::NewIntsetSet();
  if (AnyMissing(sets)) return out;
  storage::SetIntersect(sets, [&](const SetMember& m) {
    storage::SetAdd(out, m);
    return true;
  });
  return out;
}

void ReplyMember(CommandContext& ctx, const SetMember& m) {
  char buf[24];
  ctx.reply().Bulk(m.View(buf));
}

// SINTER SUNION SDIFF: a set reply.
void ReplyAlgebra(CommandContext& ctx, Algebra op, const SetList& sets) {
  if (op != Algebra::kInter) {
    Value result = Compute(op, sets);
    ctx.reply().SetHeader(storage::SetSize(result));
    storage::SetForEach(result, [&](const SetMember& m) {
      ReplyMember(ctx, m);
      return true;
    });
    return;
  }
  if (AnyMissing(sets)) return ctx.reply().SetHeader(0);
  // Members go out as they are found, in the smallest set's order, as in Redis.
  size_t mark = ctx.reply().StartDeferredArray();
  size_t n = 0;
  storage::SetIntersect(sets, [&](const SetMember& m) {
    ReplyMember(ctx, m);
    ++n;
    return true;
  });
  ctx.reply().FinishDeferredArray(mark, n, /*as_set=*/true);
}

int64_t InterCard(const SetList& sets, int64_t limit) {
  if (AnyMissing(sets)) return 0;
  int64_t n = 0;
  storage::SetIntersect(sets, [&](const SetMember&) { return ++n != limit; });
  return n;
}

// Runs on: the destination's shard. Stores a non-empty result (replacing any value and TTL) or
// deletes the destination. Returns the result's size.
int64_t StoreResult(storage::Db& db, std::string_view dst, Value result, int64_t now_ms) {
  auto size = static_cast<int64_t>(storage::SetSize(result));
  if (size > 0) {
    db.Upsert(dst, std::move(result), now_ms);
  } else {
    db.Erase(dst, now_ms);
  }
  return size;
}

// The live sets at arguments [from, to). False (after replying WRONGTYPE) if a key holds
// another type. A key named twice yields the same pointer, which the algorithms rely on.
bool LiveSets(CommandContext& ctx, size_t from, size_t to, uint8_t flags, SetList* out) {
  for (size_t i = from; i < to; ++i) {
    Result<Entry*> e = FindTyped(ctx, ctx.arg(i), ValueType::kSet, flags);
    if (!e.ok()) {
      ctx.ReplyError(e.status());
      return false;
    }
    out->push_back(*e == nullptr ? nullptr : &(*e)->value);
  }
  return true;
}

// ---- SINTERCARD's arguments ----

struct InterCardArgs {
  size_t numkeys = 0;
  int64_t limit = 0;  // 0: no limit.
};

bool ParseInterCard(CommandContext& ctx, InterCardArgs* a) {
  std::optional<int64_t> n = ParseInt64(ctx.arg(1));
  if (!n || *n < 1) {
    ctx.ReplyError(kErrNumkeys);
    return false;
  }
  if (*n > static_cast<int64_t>(ctx.argc()) - 2) {
    ctx.ReplyError(kErrTooManyKeys);
    return false;
  }
  a->numkeys = static_cast<size_t>(*n);
  for (size_t j = 2 + a->numkeys; j < ctx.argc(); ++j) {
    if (ArgIs(ctx.arg(j), "LIMIT") && j + 1 < ctx.argc()) {
      std::optional<int64_t> limit = ParseInt64(ctx.arg(++j));
      if (!limit || *limit < 0) {
        ctx.ReplyError(kErrLimit);
        return false;
      }
      a->limit = *limit;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  return true;
}

// ---- Handlers: every key on this shard ----

template <Algebra op>
void ReadHandler(CommandContext& ctx) {
  SetList sets;
  if (!LiveSets(ctx, 1, ctx.argc(), kRead, &sets)) return;
  ReplyAlgebra(ctx, op, sets);
}

template <Algebra op>
void StoreHandler(CommandContext& ctx) {
  SetList sets;
  if (!LiveSets(ctx, 2, ctx.argc(), kWriteLookup, &sets)) return;
  Value result = Compute(op, sets);
  ctx.reply().Integer(StoreResult(ctx.db(), ctx.arg(1), std::move(result), ctx.now_ms()));
}

void SInterCard(CommandContext& ctx) {
  InterCardArgs a;
  if (!ParseInterCard(ctx, &a)) return;  // Also where a malformed numkeys ends (no keys routed).
  SetList sets;
  if (!LiveSets(ctx, 2, 2 + a.numkeys, kRead, &sets)) return;
  ctx.reply().Integer(InterCard(sets, a.limit));
}

void SMove(CommandContext& ctx) {
  storage::Db& db = ctx.db();
  std::string_view member = ctx.arg(3);
  Entry* src = db.Find(ctx.arg(1), ctx.now_ms(), kWriteLookup);
  Entry* dst = db.Find(ctx.arg(2), ctx.now_ms(), kWriteLookup);
  if (src == nullptr) return ctx.reply().Integer(0);
  if (src->value.type() != ValueType::kSet ||
      (dst != nullptr && dst->value.type() != ValueType::kSet)) {
    return ctx.ReplyError(Status::WrongType());
  }
  if (src == dst) return ctx.reply().Integer(storage::SetContains(src->value, member));
  if (!storage::SetRemove(src->value, member)) return ctx.reply().Integer(0);
  if (storage::SetSize(src->value) == 0) db.Erase(src);
  if (dst == nullptr) dst = db.Insert(ctx.arg(2), storage::NewSetFor(member));
  storage::SetAdd(dst->value, member);
  ctx.reply().Integer(1);
}

// ---- Coordinators: keys on several shards ----

// Copies of the source sets, taken on their owner shards.
struct Gathered {
  enum State : uint8_t { kMissing, kSet, kWrongType };
  int db = 0;
  uint8_t lookup = kRead;
  std::vector<std::string> keys;
  std::vector<size_t> first;  // first[i]: where keys[i] first appears (copied once, there).
  std::vector<Value> values;  // Filled at first occurrences.
  std::vector<State> state;   // Idem.

  // Pointers into `values`, the same one for a key named twice.
  SetList Sets() const {
    SetList out;
    for (size_t i = 0; i < keys.size(); ++i) {
      size_t f = first[i];
      out.push_back(state[f] == kSet ? &values[f] : nullptr);
    }
    return out;
  }
  bool AnyWrongType() const {
    return std::find(state.begin(), state.end(), kWrongType) != state.end();
  }
};

// Fetches copies of the sets at `keys` from their shards, then runs then(ctx, sets) here; or
// replies WRONGTYPE if a key holds another type.
template <typename Then>
void GatherSets(CommandContext& ctx, std::vector<std::string> keys, uint8_t lookup, Then then) {
  auto g = std::make_shared<Gathered>();
  g->db = ctx.db_index();
  g->lookup = lookup;
  g->keys = std::move(keys);
  size_t n = g->keys.size();
  g->values.resize(n);
  g->state.assign(n, Gathered::kMissing);
  for (size_t i = 0; i < n; ++i) {
    size_t f = 0;
    while (g->keys[f] != g->keys[i]) ++f;
    g->first.push_back(f);
  }
  auto groups = std::make_shared<ShardGroups>(GroupByShard(g->keys));
  ctx.FanOut(
      groups->shards,
      [g, groups](shard::Shard& s) {
        storage::Db& db = s.db(g->db);
        int64_t now = UnixTimeMs();
        // Each shard writes only the slots of its own keys: shards run this concurrently.
        for (size_t i : groups->Of(s.id())) {
          if (g->first[i] != i) continue;
          Entry* e = db.Find(g->keys[i], now, g->lookup);
          if (e == nullptr) continue;
          if (e->value.type() != ValueType::kSet) {
            g->state[i] = Gathered::kWrongType;
            continue;
          }
          g->state[i] = Gathered::kSet;
          g->values[i] = e->value.Clone();
        }
      },
      [g, then = std::move(then)](CommandContext& c) mutable {
        if (g->AnyWrongType()) return c.ReplyError(Status::WrongType());
        then(c, g->Sets());
      });
}

template <Algebra op>
void ReadCoordinator(CommandContext& ctx) {
  GatherSets(ctx, CopyArgs(ctx, 1), kRead,
             [](CommandContext& c, const SetList& sets) { ReplyAlgebra(c, op, sets); });
}

template <Algebra op>
void StoreCoordinator(CommandContext& ctx) {
  struct Store {
    std::string dst;
    int db;
    Value result;
    int64_t size = 0;
  };
  auto st = std::make_shared<Store>();
  st->dst = std::string(ctx.arg(1));
  st->db = ctx.db_index();
  shard::ShardId dst_shard = ctx.server().shards->OwnerOf(st->dst);
  GatherSets(
      ctx, CopyArgs(ctx, 2), kWriteLookup, [st, dst_shard](CommandContext& c, const SetList& sets) {
        st->result = Compute(op, sets);
        c.FanOut(
            {dst_shard},
            [st](shard::Shard& s) {
              st->size = StoreResult(s.db(st->db), st->dst, std::move(st->result), UnixTimeMs());
            },
            [st](CommandContext& c2) { c2.reply().Integer(st->size); });
      });
}

void SInterCardCoordinator(CommandContext& ctx) {
  InterCardArgs a;
  if (!ParseInterCard(ctx, &a)) return;
  std::vector<std::string> keys(ctx.args().begin() + 2, ctx.args().begin() + 2 + a.numkeys);
  GatherSets(ctx, std::move(keys), kRead,
             [limit = a.limit](CommandContext& c, const SetList& sets) {
               c.reply().Integer(InterCard(sets, limit));
             });
}

// SMOVE across shards. Hop 1 looks at both keys (the replies for a missing source, a wrong type
// and an absent member come before any change); hop 2 takes the member from the source; hop 3
// adds it to the destination. Should the destination have turned into another type in between,
// hop 4 puts the member back and the reply is WRONGTYPE.
struct SMoveState {
  enum Source : uint8_t { kMissing, kWrongType, kHasMember, kNoMember };
  std::string src, dst, member;
  int db = 0;
  shard::ShardId src_shard = 0, dst_shard = 0;
  Source source = kMissing;
  bool dst_wrong_type = false;
  bool removed = false;
};

// Runs on: the shard owning `key`. Adds `member` to the set there, creating it if needed.
void AddMember(storage::Db& db, std::string_view key, std::string_view member, int64_t now) {
  Entry* e = db.Find(key, now, kWriteLookup);
  if (e == nullptr) e = db.Insert(key, storage::NewSetFor(member));
  if (e->value.type() == ValueType::kSet) storage::SetAdd(e->value, member);
}

void SMoveAdd(CommandContext& ctx, std::shared_ptr<SMoveState> m) {
  ctx.FanOut(
      {m->dst_shard},
      [m](shard::Shard& s) {
        storage::Db& db = s.db(m->db);
        Entry* e = db.Find(m->dst, UnixTimeMs(), kWriteLookup);
        if (e != nullptr && e->value.type() != ValueType::kSet) {
          m->dst_wrong_type = true;
          return;
        }
        AddMember(db, m->dst, m->member, UnixTimeMs());
      },
      [m](CommandContext& c) {
        if (!m->dst_wrong_type) return c.reply().Integer(1);
        c.FanOut(
            {m->src_shard},
            [m](shard::Shard& s) { AddMember(s.db(m->db), m->src, m->member, UnixTimeMs()); },
            [](CommandContext& c2) { c2.ReplyError(Status::WrongType()); });
      });
}

void SMoveCoordinator(CommandContext& ctx) {
  auto m = std::make_shared<SMoveState>();
  m->src = std::string(ctx.arg(1));
  m->dst = std::string(ctx.arg(2));
  m->member = std::string(ctx.arg(3));
  m->db = ctx.db_index();
  m->src_shard = ctx.server().shards->OwnerOf(m->src);
  m->dst_shard = ctx.server().shards->OwnerOf(m->dst);
  ctx.FanOut(
      {m->src_shard, m->dst_shard},
      [m](shard::Shard& s) {
        storage::Db& db = s.db(m->db);
        int64_t now = UnixTimeMs();
        if (s.id() == m->src_shard) {
          Entry* e = db.Find(m->src, now, kWriteLookup);
          if (e == nullptr) {
            m->source = SMoveState::kMissing;
          } else if (e->value.type() != ValueType::kSet) {
            m->source = SMoveState::kWrongType;
          } else {
            m->source = storage::SetContains(e->value, m->member) ? SMoveState::kHasMember
                                                                  : SMoveState::kNoMember;
          }
        }
        if (s.id() == m->dst_shard) {
          Entry* e = db.Find(m->dst, now, kWriteLookup);
          m->dst_wrong_type = e != nullptr && e->value.type() != ValueType::kSet;
        }
      },
      [m](CommandContext& c) {
        if (m->source == SMoveState::kMissing) return c.reply().Integer(0);
        if (m->source == SMoveState::kWrongType || m->dst_wrong_type) {
          return c.ReplyError(Status::WrongType());
        }
        if (m->source == SMoveState::kNoMember) return c.reply().Integer(0);
        c.FanOut(
            {m->src_shard},
            [m](shard::Shard& s) {
              storage::Db& db = s.db(m->db);
              Entry* e = db.Find(m->src, UnixTimeMs(), kWriteLookup);
              if (e == nullptr || e->value.type() != ValueType::kSet) return;
              m->removed = storage::SetRemove(e->value, m->member);
              if (storage::SetSize(e->value) == 0) db.Erase(e);
            },
            [m](CommandContext& c2) {
              if (!m->removed) return c2.reply().Integer(0);  // Gone meanwhile.
              SMoveAdd(c2, m);
            });
      });
}

}  // namespace

void RegisterSetMultiKeyCommands(server::CommandTable& table) {
  using namespace server;
  auto all_keys = [&](const char* name, uint32_t flags, CommandHandler h, CommandHandler co) {
    table.Add({.name = name, .arity = -2, .flags = flags, .first_key = 1, .last_key = -1,
               .key_step = 1, .handler = h, .coordinator = co});
  };
  all_keys("sinter", kReadOnly, ReadHandler<Algebra::kInter>, ReadCoordinator<Algebra::kInter>);
  all_keys("sunion", kReadOnly, ReadHandler<Algebra::kUnion>, ReadCoordinator<Algebra::kUnion>);
  all_keys("sdiff", kReadOnly, ReadHandler<Algebra::kDiff>, ReadCoordinator<Algebra::kDiff>);
  auto store = [&](const char* name, CommandHandler h, CommandHandler co) {
    table.Add({.name = name, .arity = -3, .flags = kWrite | kDenyOom, .first_key = 1,
               .last_key = -1, .key_step = 1, .handler = h, .coordinator = co});
  };
  store("sinterstore", StoreHandler<Algebra::kInter>, StoreCoordinator<Algebra::kInter>);
  store("sunionstore", StoreHandler<Algebra::kUnion>, StoreCoordinator<Algebra::kUnion>);
  store("sdiffstore", StoreHandler<Algebra::kDiff>, StoreCoordinator<Algebra::kDiff>);
  table.Add({.name = "sintercard", .arity = -3, .flags = kReadOnly, .handler = SInterCard,
             .coordinator = SInterCardCoordinator, .get_keys = NumkeysKeys<0, 1>});
  table.Add({.name = "smove", .arity = 4, .flags = kWrite | kFast, .first_key = 1, .last_key = 2,
             .key_step = 1, .handler = SMove, .coordinator = SMoveCoordinator});
}

}  // namespace shoal::cmd
