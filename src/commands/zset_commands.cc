// Sorted sets, single-key commands: ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT
// ZLEXCOUNT ZPOPMIN ZPOPMAX ZRANDMEMBER ZSCAN. Ranges live in zset_range_commands.cc, the
// multi-key algebra (ZUNION...) and ZMPOP in zset_algebra_commands.cc. Each follows Redis 7.0's
// t_zset.c in the order it checks arguments, looks keys up and replies.
#include <cerrno>
#include <climits>
#include <cmath>
#include <random>
#include <unordered_set>

#include "commands/register.h"
#include "commands/zset_args.h"
#include "commands/zset_ops.h"
#include "common/glob.h"

namespace shoal::cmd {

using storage::Entry;
using storage::Value;
using storage::ZEntry;

// ---- Shared helpers (zset_args.h) ----

namespace {

// strtod over `s` up to its first NUL, which must consume all of it; NaN refused.
bool ParseRangeDouble(const std::string& s, size_t from, double* out) {
  const char* p = s.c_str() + from;
  char* end = nullptr;
  *out = strtod(p, &end);
  return *end == '\0' && !std::isnan(*out);
}

bool ParseScoreBound(std::string_view arg, double* v, bool* ex) {
  std::string s = CStr(arg);  // Redis hands the sds to strtod: it stops at a NUL.
  *ex = !s.empty() && s[0] == '(';
  return ParseRangeDouble(s, *ex ? 1 : 0, v);
}

bool ParseLexItem(std::string_view arg, storage::ZLexBound* b, bool* ex) {
  // Redis looks at c[0] and c[1] of a NUL-terminated sds.
  char c0 = arg.empty() ? '\0' : arg[0];
  char c1 = arg.size() < 2 ? '\0' : arg[1];
  switch (c0) {
    case '+':
    case '-':
      if (c1 != '\0') return false;
      *ex = true;
      b->kind = c0 == '+' ? storage::ZLexBound::kPlusInf : storage::ZLexBound::kMinusInf;
      return true;
    case '(':
    case '[':
      *ex = c0 == '(';
      b->kind = storage::ZLexBound::kValue;
      b->value = std::string(arg.substr(1));
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ParseZScoreRange(std::string_view min, std::string_view max, storage::ZScoreRange* r) {
  return ParseScoreBound(min, &r->min, &r->minex) && ParseScoreBound(max, &r->max, &r->maxex);
}

bool ParseZLexRange(std::string_view min, std::string_view max, storage::ZLexRange* r) {
  return ParseLexItem(min, &r->min, &r->minex) && ParseLexItem(max, &r->max, &r->maxex);
}

std::vector<ZEntry> CopyZSet(const Value& z) {
  std::vector<ZEntry> out;
  out.reserve(storage::ZSetLength(z));
  for (storage::ZSetCursor c(z, 0, false); c.valid(); c.Next()) {
    out.push_back(ZEntry{std::string(c.member()), c.score()});
  }
  return out;
}

namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// ---- ZADD / ZINCRBY ----

void ZAddGeneric(CommandContext& ctx, int flags) {
  size_t scoreidx = 2;
  bool ch = false;
  for (; scoreidx < ctx.argc(); ++scoreidx) {
    std::string_view opt = ctx.arg(scoreidx);
    if (ArgIs(opt, "nx")) {
      flags |= storage::kZAddNx;
    } else if (ArgIs(opt, "xx")) {
      flags |= storage::kZAddXx;
    } else if (ArgIs(opt, "ch")) {
      ch = true;
    } else if (ArgIs(opt, "incr")) {
      flags |= storage::kZAddIncr;
    } else if (ArgIs(opt, "gt")) {
      flags |= storage::kZAddGt;
    } else if (ArgIs(opt, "lt")) {
      flags |= storage::kZAddLt;
    } else {
      break;
    }
  }
  const bool incr = flags & storage::kZAddIncr, nx = flags & storage::kZAddNx;
  const bool xx = flags & storage::kZAddXx, gt = flags & storage::kZAddGt;
  const bool lt = flags & storage::kZAddLt;
  size_t elements = ctx.argc() - scoreidx;
  if (elements % 2 != 0 || elements == 0) return ctx.ReplyError(Status::Syntax());
  elements /= 2;
  if (nx && xx) {
    return ctx.ReplyError("ERR XX and NX options at the same time are not compatible");
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    return ctx.ReplyError("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && elements > 1) {
    return ctx.ReplyError("ERR INCR option supports a single increment-element pair");
  }
  // Every score is checked before anything changes: the command applies fully or not at all.
  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; ++j) {
    std::optional<double> s = ParseDouble(ctx.arg(scoreidx + 2 * j));
    if (!s) return ctx.ReplyError(Status::NotFloat());
    scores[j] = *s;
  }
  Result<Entry*> found = FindZSet(ctx, ctx.arg(1), kWriteLookup);
  if (!found.ok()) return ctx.ReplyError(found.status());
  Entry* e = *found;
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  if (e == nullptr && !xx) {
    e = ctx.db().Insert(ctx.arg(1), storage::NewZSetFor(ctx.arg(scoreidx + 1)));
  }
  if (e != nullptr) {
    for (size_t j = 0; j < elements; ++j) {
      int out = 0;
      double new_score = 0;
      if (!storage::ZSetAdd(e->value, scores[j], ctx.arg(scoreidx + 1 + 2 * j), flags, &out,
                            &new_score)) {
        return ctx.ReplyError(kErrZNan);
      }
      if (out & storage::kZAddAdded) ++added;
      if (out & storage::kZAddUpdated) ++updated;
      if (!(out & storage::kZAddNop)) {
        ++processed;
        score = new_score;
      }
    }
  }
  if (incr) {
    if (processed > 0) return ctx.reply().Double(score);
    return ctx.reply().Null();
  }
  ctx.reply().Integer(ch ? added + updated : added);
}

void ZAdd(CommandContext& ctx) { ZAddGeneric(ctx, 0); }
void ZIncrBy(CommandContext& ctx) { ZAddGeneric(ctx, storage::kZAddIncr); }

// ---- Simple reads and ZREM ----

void ZRem(CommandContext& ctx) {
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  int64_t deleted = 0;
  for (size_t j = 2; j < ctx.argc(); ++j) {
    if (storage::ZSetRemove((*e)->value, ctx.arg(j))) ++deleted;
    if (storage::ZSetLength((*e)->value) == 0) {
      ctx.db().Erase(*e);
      break;
    }
  }
  ctx.reply().Integer(deleted);
}

void ZCard(CommandContext& ctx) {
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e == nullptr ? 0 : static_cast<int64_t>(storage::ZSetLength((*e)->value)));
}

void ZScore(CommandContext& ctx) {
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  std::optional<double> s = storage::ZSetScore((*e)->value, ctx.arg(2));
  if (!s) return ctx.reply().Null();
  ctx.reply().Double(*s);
}

void ZMScore(CommandContext& ctx) {
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().ArrayHeader(ctx.argc() - 2);
  for (size_t j = 2; j < ctx.argc(); ++j) {
    std::optional<double> s;
    if (*e != nullptr) s = storage::ZSetScore((*e)->value, ctx.arg(j));
    s ? ctx.reply().Double(*s) : ctx.reply().Null();
  }
}

void ZRankGeneric(CommandContext& ctx, bool reverse) {
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  std::optional<size_t> rank = storage::ZSetRank((*e)->value, ctx.arg(2));
  if (!rank) return ctx.reply().Null();
  size_t len = storage::ZSetLength((*e)->value);
  ctx.reply().Integer(static_cast<int64_t>(reverse ? len - 1 - *rank : *rank));
}
void ZRank(CommandContext& ctx) { ZRankGeneric(ctx, false); }
void ZRevRank(CommandContext& ctx) { ZRankGeneric(ctx, true); }

// Members from `first` on while `in_range` holds: the listpack way (Redis walks it); the big
// encoding counts by ranks instead, which is the same for members in range order.
template <typename InRange>
int64_t CountFrom(const Value& z, size_t first, size_t last, InRange in_range) {
  if (first == storage::kZNone) return 0;
  if (z.object_encoding() == storage::ObjectEncoding::kSkiplist) {
    return last == storage::kZNone ? 0 : static_cast<int64_t>(last - first + 1);
  }
  int64_t n = 0;
  for (storage::ZSetCursor c(z, first, false); c.valid() && in_range(c); c.Next()) ++n;
  return n;
}

void ZCount(CommandContext& ctx) {
  storage::ZScoreRange r;
  if (!ParseZScoreRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.ReplyError(kErrZNotFloatRange);
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  const Value& z = (*e)->value;
  size_t first = storage::ZSetFirstInScoreRange(z, r);
  bool big = z.object_encoding() == storage::ObjectEncoding::kSkiplist;
  size_t last =
      big && first != storage::kZNone ? storage::ZSetLastInScoreRange(z, r) : storage::kZNone;
  ctx.reply().Integer(CountFrom(
      z, first, last, [&](storage::ZSetCursor& c) { return storage::ZScoreLteMax(c.score(), r); }));
}

void ZLexCount(CommandContext& ctx) {
  storage::ZLexRange r;
  if (!ParseZLexRange(ctx.arg(2), ctx.arg(3), &r)) return ctx.ReplyError(kErrZLexRange);
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  const Value& z = (*e)->value;
  size_t first = storage::ZSetFirstInLexRange(z, r);
  bool big = z.object_encoding() == storage::ObjectEncoding::kSkiplist;
  size_t last =
      big && first != storage::kZNone ? storage::ZSetLastInLexRange(z, r) : storage::kZNone;
  ctx.reply().Integer(CountFrom(
      z, first, last, [&](storage::ZSetCursor& c) { return storage::ZLexLteMax(c.member(), r); }));
}

// ---- ZPOPMIN / ZPOPMAX ----

void ZPopGeneric(CommandContext& ctx, bool max) {
  if (ctx.argc() > 3) return ctx.ReplyError(Status::Syntax());
  int64_t count = -1;  // No COUNT argument: one member, flat reply.
  if (ctx.argc() == 3) {
    // Redis's getPositiveLongFromObjectOrReply: one message for "not a number" and "< 0".
    std::optional<int64_t> n = ParseInt64(ctx.arg(2));
    if (!n || *n < 0) return ctx.ReplyError("ERR value is out of range, must be positive");
    count = *n;
  }
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr || count == 0) return ctx.reply().ArrayHeader(0);
  bool nested = ctx.reply().resp3() && count != -1;
  ReplyZPop(ctx.reply(), ZPopEntries(ctx.db(), *e, max, count == -1 ? 1 : count), nested);
}
void ZPopMin(CommandContext& ctx) { ZPopGeneric(ctx, false); }
void ZPopMax(CommandContext& ctx) { ZPopGeneric(ctx, true); }

// ---- ZRANDMEMBER ----

// Ascending ranks of `count` distinct members chosen uniformly (Knuth's selection sampling).
std::vector<size_t> SampleRanks(size_t size, size_t count) {
  std::vector<size_t> out;
  out.reserve(count);
  for (size_t i = 0; i < size && out.size() < count; ++i) {
    if (Rng()() % (size - i) < count - out.size()) out.push_back(i);
  }
  return out;
}

void ZRandMemberWithCount(CommandContext& ctx, int64_t l, bool withscores) {
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().ArrayHeader(0);
  const Value& z = (*e)->value;
  size_t size = storage::ZSetLength(z);
  bool uniq = l >= 0;
  uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  if (count == 0) return ctx.reply().ArrayHeader(0);
  protocol::ReplyBuilder& r = ctx.reply();
  if (!uniq || count == 1) {
    // Sampling with replacement: random ranks, in random order.
    r.ArrayHeader(ZReplyLen(r, count, withscores));
    for (uint64_t i = 0; i < count; ++i) {
      storage::ZSetCursor c(z, Rng()() % size, false);
      ReplyZMember(r, c.member(), c.score(), withscores);
    }
    return;
  }
  if (count >= size) {
    // The whole zset, from the highest rank down: Redis's zset iterator (zuiNext) walks zsets
    // backwards.
    r.ArrayHeader(ZReplyLen(r, size, withscores));
    for (storage::ZSetCursor c(z, size - 1, true); c.valid(); c.Next()) {
      ReplyZMember(r, c.member(), c.score(), withscores);
    }
    return;
  }
  std::vector<size_t> ranks;
  if (count * 3 > size || z.object_encoding() == storage::ObjectEncoding::kListpack) {
    ranks = SampleRanks(size, count);
  } else {
    // Few out of many: draw until `count` distinct ranks (O(count) expected draws).
    std::unordered_set<size_t> seen;
    while (ranks.size() < count) {
      size_t rank = Rng()() % size;
      if (seen.insert(rank).second) ranks.push_back(rank);
    }
  }
  r.ArrayHeader(ZReplyLen(r, ranks.size(), withscores));
  for (size_t rank : ranks) {
    storage::ZSetCursor c(z, rank, false);
    ReplyZMember(r, c.member(), c.score(), withscores);
  }
}

void ZRandMember(CommandContext& ctx) {
  if (ctx.argc() >= 3) {
    std::optional<int64_t> l = ParseInt64(ctx.arg(2));
    if (!l) return ctx.ReplyError(Status::NotInteger());
    if (*l < -LONG_MAX) {
      return ctx.ReplyError(
          "ERR value is out of range, value must between -9223372036854775807 and "
          "9223372036854775807");
    }
    if (ctx.argc() > 4 || (ctx.argc() == 4 && !ArgIs(ctx.arg(3), "withscores"))) {
      return ctx.ReplyError(Status::Syntax());
    }
    bool withscores = ctx.argc() == 4;
    if (withscores && (*l < -LONG_MAX / 2 || *l > LONG_MAX / 2)) {
      return ctx.ReplyError("ERR value is out of range");
    }
    return ZRandMemberWithCount(ctx, *l, withscores);
  }
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  const Value& z = (*e)->value;
  storage::ZSetCursor c(z, Rng()() % storage::ZSetLength(z), false);
  ctx.reply().Bulk(c.member());
}

// ---- ZSCAN ----


void ZScan(CommandContext& ctx) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(2));
  if (!cursor) return ctx.ReplyError("ERR invalid cursor");
  Result<Entry*> e = FindZSet(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) {
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk("0");
    return ctx.reply().ArrayHeader(0);
  }
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < ctx.argc();) {
    size_t left = ctx.argc() - i;
    if (ArgIs(ctx.arg(i), "count") && left >= 2) {
      std::optional<int64_t> n = IntArgOrReply(ctx, i + 1);
      if (!n) return;
      if (*n < 1) return ctx.ReplyError(Status::Syntax());
      count = *n;
      i += 2;
    } else if (ArgIs(ctx.arg(i), "match") && left >= 2) {
      pattern = ctx.arg(i + 1);
      use_pattern = pattern != "*";
      i += 2;
    } else {
      return ctx.ReplyError(Status::Syntax());
    }
  }
  std::vector<std::string> items;
  uint64_t next =
      storage::ZSetScan((*e)->value, *cursor, count, [&](std::string_view m, std::string_view s) {
        if (use_pattern && !GlobMatch(pattern, m)) return;
        items.emplace_back(m);
        items.emplace_back(s);
      });
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(next));
  ctx.reply().ArrayHeader(items.size());
  for (const std::string& s : items) ctx.reply().Bulk(s);
}

}  // namespace

void RegisterZSetCommands(server::CommandTable& table) {
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
  one_key("zadd", -4, kWrite | kDenyOom | kFast, ZAdd);
  one_key("zincrby", 4, kWrite | kDenyOom | kFast, ZIncrBy);
  one_key("zrem", -3, kWrite | kFast, ZRem);
  one_key("zcard", 2, kReadOnly | kFast, ZCard);
  one_key("zscore", 3, kReadOnly | kFast, ZScore);
  one_key("zmscore", -3, kReadOnly | kFast, ZMScore);
  one_key("zrank", 3, kReadOnly | kFast, ZRank);
  one_key("zrevrank", 3, kReadOnly | kFast, ZRevRank);
  one_key("zcount", 4, kReadOnly | kFast, ZCount);
  one_key("zlexcount", 4, kReadOnly | kFast, ZLexCount);
  one_key("zpopmin", -2, kWrite | kFast, ZPopMin);
  one_key("zpopmax", -2, kWrite | kFast, ZPopMax);
  one_key("zrandmember", -2, kReadOnly, ZRandMember);
  one_key("zscan", -3, kReadOnly, ZScan);
  RegisterZSetRangeCommands(table);
  RegisterZSetAlgebraCommands(table);
}

}  // namespace shoal::cmd
