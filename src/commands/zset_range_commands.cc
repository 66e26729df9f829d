// Sorted sets, ranges: ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES) and its older spellings
// ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX, ZRANGESTORE, and
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX. One parser and one walker serve them all, as
// Redis's zrangeGenericCommand does, so every spelling checks its arguments in Redis's order.
//
// ZRANGESTORE's two keys may live on different shards: its coordinator computes the range on the
// source's shard (copying the members out) and then stores them on the destination's.
#include "commands/register.h"
#include "commands/zset_args.h"
#include "storage/encoding_limits.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;
using storage::ZEntry;

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

struct RangeRequest {
  RangeType type = RangeType::kAuto;
  bool reverse = false;
  bool withscores = false;
  int64_t start = 0, end = 0;  // Ranks.
  int64_t offset = 0, limit = -1;
  storage::ZScoreRange score;
  storage::ZLexRange lex;
};

// Redis's zrangeGenericCommand steps 1 and 2: options after <src> <min> <max>, conflicts, then
// the range itself. Replies the error and returns false on bad arguments.
bool ParseRange(CommandContext& ctx, size_t src, bool store, RangeType type, Direction dir,
                RangeRequest* q) {
  for (size_t j = src + 3; j < ctx.argc(); ++j) {
    size_t left = ctx.argc() - j - 1;
    std::string_view opt = ctx.arg(j);
    if (!store && ArgIs(opt, "withscores")) {
      q->withscores = true;
    } else if (ArgIs(opt, "limit") && left >= 2) {
      std::optional<int64_t> offset = IntArgOrReply(ctx, j + 1);
      if (!offset) return false;
      std::optional<int64_t> limit = IntArgOrReply(ctx, j + 2);
      if (!limit) return false;
      q->offset = *offset;
      q->limit = *limit;
      j += 2;
    } else if (dir == Direction::kAuto && ArgIs(opt, "rev")) {
      dir = Direction::kReverse;
    } else if (type == RangeType::kAuto && ArgIs(opt, "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && ArgIs(opt, "byscore")) {
      type = RangeType::kScore;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  if (dir == Direction::kAuto) dir = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  if (q->limit != -1 && type == RangeType::kRank) {
    ctx.ReplyError(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return false;
  }
  if (q->withscores && type == RangeType::kLex) {
    ctx.ReplyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return false;
  }
  q->type = type;
  q->reverse = dir == Direction::kReverse;
  size_t minidx = src + 1, maxidx = src + 2;
  if (q->reverse && type != RangeType::kRank) std::swap(minidx, maxidx);  // Given as max, min.
  switch (type) {
    case RangeType::kAuto:
    case RangeType::kRank: {
      std::optional<int64_t> start = IntArgOrReply(ctx, minidx);
      if (!start) return false;
      std::optional<int64_t> end = IntArgOrReply(ctx, maxidx);
      if (!end) return false;
      q->start = *start;
      q->end = *end;
      break;
    }
    case RangeType::kScore:
      if (!ParseZScoreRange(ctx.arg(minidx), ctx.arg(maxidx), &q->score)) {
        ctx.ReplyError(kErrZNotFloatRange);
        return false;
      }
      break;
    case RangeType::kLex:
      if (!ParseZLexRange(ctx.arg(minidx), ctx.arg(maxidx), &q->lex)) {
        ctx.ReplyError(kErrZLexRange);
        return false;
      }
      break;
  }
  return true;
}

// Calls emit(member, score) for each member of the range, in reply order. `rank_count`, if not
// null, receives the result size up front for rank ranges (Redis replies those with a known
// length); it stays -1 for score and lex ranges.
template <typename Emit>
void WalkRange(const Value& z, const RangeRequest& q, Emit&& emit) {
  const int64_t llen = static_cast<int64_t>(storage::ZSetLength(z));
  if (q.type == RangeType::kRank) {
    int64_t start = q.start, end = q.end;
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return;
    if (end >= llen) end = llen - 1;
    int64_t n = end - start + 1;
    int64_t first = q.reverse ? llen - 1 - start : start;
    storage::ZSetCursor c(z, static_cast<size_t>(first), q.reverse);
    for (; n > 0; --n, c.Next()) emit(c.member(), c.score());
    return;
  }
  if (q.offset > 0 && q.offset >= llen) return;
  // Redis steps over `offset` members with `while (node && offset--)`: a negative offset walks
  // off the end, so nothing is returned.
  if (q.offset < 0) return;
  size_t first;
  if (q.type == RangeType::kScore) {
    first = q.reverse ? storage::ZSetLastInScoreRange(z, q.score)
                      : storage::ZSetFirstInScoreRange(z, q.score);
  } else {
    first =
        q.reverse ? storage::ZSetLastInLexRange(z, q.lex) : storage::ZSetFirstInLexRange(z, q.lex);
  }
  if (first == storage::kZNone) return;
  storage::ZSetCursor c(z, first, q.reverse);
  for (int64_t skip = q.offset; c.valid() && skip > 0; --skip) c.Next();
  // A negative limit means no limit.
  for (int64_t limit = q.limit; c.valid() && limit != 0; --limit, c.Next()) {
    bool in;
    if (q.type == RangeType::kScore) {
      in = q.reverse ? storage::ZScoreGteMin(c.score(), q.score)
                     : storage::ZScoreLteMax(c.score(), q.score);
    } else {
      in = q.reverse ? storage::ZLexGteMin(c.member(), q.lex)
                     : storage::ZLexLteMax(c.member(), q.lex);
    }
    if (!in) break;
    emit(c.member(), c.score());
  }
}

// The range as owned entries in ascending order: what ZRANGESTORE stores.
//
// One observable detail of how Redis builds that result: it adds the members one by one, in reply
// order, to a zset that starts as a listpack (unless a rank range is known to be too long for
// one), and a listpack cannot hold -0 (it writes the integer 0). So a -0 score added before the
// result outgrows the listpack comes out as 0, and one added after it stays -0.
std::vector<ZEntry> CollectRange(const Value& z, const RangeRequest& q) {
  std::vector<ZEntry> out;
  WalkRange(z, q, [&](std::string_view m, double s) { out.push_back(ZEntry{std::string(m), s}); });
  const storage::EncodingLimits& l = storage::Limits();
  const int64_t max_entries = storage::Limit(l.zset_max_listpack_entries);
  const int64_t max_value = storage::Limit(l.zset_max_listpack_value);
  bool starts_big = q.type == RangeType::kRank && static_cast<int64_t>(out.size()) > max_entries;
  for (size_t i = 0; !starts_big && i < out.size(); ++i) {
    if (static_cast<int64_t>(i) + 1 > max_entries ||
        static_cast<int64_t>(out[i].member.size()) > max_value) {
      break;  // Converted from here on.
    }
    if (out[i].score == 0) out[i].score = 0.0;  // -0 becomes 0.
  }
  if (q.reverse) std::reverse(out.begin(), out.end());
  return out;
}

void ReplyRange(CommandContext& ctx, const Value& z, const RangeRequest& q) {
  protocol::ReplyBuilder& r = ctx.reply();
  size_t mark = r.StartDeferredArray();
  size_t n = 0;
  WalkRange(z, q, [&](std::string_view m, double s) {
    ReplyZMember(r, m, s, q.withscores);
    ++n;
  });
  r.FinishDeferredArray(mark, ZReplyLen(r, n, q.withscores));
}

void ZRangeGeneric(CommandContext& ctx, RangeType type, Direction dir) {
  RangeRequest q;
  if (!ParseRange(ctx, 1, /*store=*/false, type, dir, &q)) return;
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().ArrayHeader(0);
  ReplyRange(ctx, (*e)->value, q);
}

void ZRange(CommandContext& ctx) { ZRangeGeneric(ctx, RangeType::kAuto, Direction::kAuto); }
void ZRevRange(CommandContext& ctx) { ZRangeGeneric(ctx, RangeType::kRank, Direction::kReverse); }
void ZRangeByScore(CommandContext& ctx) {
  ZRangeGeneric(ctx, RangeType::kScore, Direction::kForward);
}
void ZRevRangeByScore(CommandContext& ctx) {
  ZRangeGeneric(ctx, RangeType::kScore, Direction::kReverse);
}
void ZRangeByLex(CommandContext& ctx) { ZRangeGeneric(ctx, RangeType::kLex, Direction::kForward); }
void ZRevRangeByLex(CommandContext& ctx) {
  ZRangeGeneric(ctx, RangeType::kLex, Direction::kReverse);
}

// ---- ZRANGESTORE ----

// Runs on: the destination's shard. Stores the result (or deletes `dst` for an empty one) and
// returns its size, as Redis's zrangeResultFinalizeStore.
int64_t StoreRange(storage::Db& db, std::string_view dst, const std::vector<ZEntry>& result,
                   int64_t now_ms) {
  if (result.empty()) {
    db.Erase(dst, now_ms);
    return 0;
  }
  db.Upsert(dst, storage::ZSetFromSorted(result), now_ms);
  return static_cast<int64_t>(result.size());
}

void ZRangeStore(CommandContext& ctx) {
  RangeRequest q;
  if (!ParseRange(ctx, 2, /*store=*/true, RangeType::kAuto, Direction::kAuto, &q)) return;
  Result<Entry*> e = FindZSet(ctx, ctx.arg(2), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  std::vector<ZEntry> result;
  if (*e != nullptr) result = CollectRange((*e)->value, q);
  ctx.reply().Integer(StoreRange(ctx.db(), ctx.arg(1), result, ctx.now_ms()));
}

void ZRangeStoreCoordinator(CommandContext& ctx) {
  RangeRequest q;
  if (!ParseRange(ctx, 2, /*store=*/true, RangeType::kAuto, Direction::kAuto, &q)) return;
  struct State {
    std::string dst, src;
    RangeRequest q;
    int db;
    bool wrong_type = false;
    std::vector<ZEntry> result;
    int64_t stored = 0;
  };
  auto st = std::make_shared<State>();
  st->dst = std::string(ctx.arg(1));
  st->src = std::string(ctx.arg(2));
  st->q = std::move(q);
  st->db = ctx.db_index();
  shard::ShardSet& shards = *ctx.server().shards;
  shard::ShardId dst_shard = shards.OwnerOf(st->dst);
  ctx.FanOut(
      {shards.OwnerOf(st->src)},
      [st](shard::Shard& s) {
        Result<Entry*> e = FindZSetIn(s.db(st->db), st->src, UnixTimeMs(), kRead);
        if (!e.ok()) {
          st->wrong_type = true;
        } else if (*e != nullptr) {
          st->result = CollectRange((*e)->value, st->q);
        }
      },
      [st, dst_shard](CommandContext& c) {
        if (st->wrong_type) return c.ReplyError(Status::WrongType());
        c.FanOut(
            {dst_shard},
            [st](shard::Shard& s) {
              st->stored = StoreRange(s.db(st->db), st->dst, st->result, UnixTimeMs());
            },
            [st](CommandContext& c2) { c2.reply().Integer(st->stored); });
      });
}

// ---- ZREMRANGEBYRANK / BYSCORE / BYLEX ----

void ZRemRangeGeneric(CommandContext& ctx, RangeType type) {
  RangeRequest q;
  q.type = type;
  if (type == RangeType::kRank) {
    std::optional<int64_t> start = IntArgOrReply(ctx, 2);
    if (!start) return;
    std::optional<int64_t> end = IntArgOrReply(ctx, 3);
    if (!end) return;
    q.start = *start;
    q.end = *end;
  } else if (type == RangeType::kScore) {
    if (!ParseZScoreRange(ctx.arg(2), ctx.arg(3), &q.score)) {
      return ctx.ReplyError(kErrZNotFloatRange);
    }
  } else if (!ParseZLexRange(ctx.arg(2), ctx.arg(3), &q.lex)) {
    return ctx.ReplyError(kErrZLexRange);
  }
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  Value& z = (*e)->value;
  // The members to delete are consecutive: find the first and count them with the same walk the
  // range replies use (forward, no LIMIT).
  size_t first = storage::kZNone;
  size_t n = 0;
  if (type == RangeType::kRank) {
    int64_t llen = static_cast<int64_t>(storage::ZSetLength(z));
    int64_t start = q.start < 0 ? q.start + llen : q.start;
    int64_t end = q.end < 0 ? q.end + llen : q.end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return ctx.reply().Integer(0);
    if (end >= llen) end = llen - 1;
    first = static_cast<size_t>(start);
    n = static_cast<size_t>(end - start + 1);
  } else {
    first = type == RangeType::kScore ? storage::ZSetFirstInScoreRange(z, q.score)
                                      : storage::ZSetFirstInLexRange(z, q.lex);
    WalkRange(z, q, [&](std::string_view, double) { ++n; });
  }
  if (n > 0) storage::ZSetDeleteRange(z, first, n);
  if (storage::ZSetLength(z) == 0) ctx.db().Erase(*e);
  ctx.reply().Integer(static_cast<int64_t>(n));
}

void ZRemRangeByRank(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kRank); }
void ZRemRangeByScore(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kScore); }
void ZRemRangeByLex(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeType::kLex); }

}  // namespace

void RegisterZSetRangeCommands(server::CommandTable& table) {
  using namespace server;
  auto one_key = [&](const char* name, int arity, uint32_t flags, CommandHandler h) {
    table.Add({.name = name,
               .arity = arity,
               .flags = flags,
               .first_key = 1,
               .last_key = 1,
               .key_step = 1,
               .handler = h});
  };
  one_key("zrange", -4, kReadOnly, ZRange);
  one_key("zrevrange", -4, kReadOnly, ZRevRange);
  one_key("zrangebyscore", -4, kReadOnly, ZRangeByScore);
  one_key("zrevrangebyscore", -4, kReadOnly, ZRevRangeByScore);
  one_key("zrangebylex", -4, kReadOnly, ZRangeByLex);
  one_key("zrevrangebylex", -4, kReadOnly, ZRevRangeByLex);
  one_key("zremrangebyrank", 4, kWrite, ZRemRangeByRank);
  one_key("zremrangebyscore", 4, kWrite, ZRemRangeByScore);
  one_key("zremrangebylex", 4, kWrite, ZRemRangeByLex);
  table.Add({.name = "zrangestore",
             .arity = -5,
             .flags = kWrite | kDenyOom,
             .first_key = 1,
             .last_key = 2,
             .key_step = 1,
             .handler = ZRangeStore,
             .coordinator = ZRangeStoreCoordinator});
}

}  // namespace shoal::cmd
