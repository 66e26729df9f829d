// Sets, one key at a time: SADD SREM SISMEMBER SMISMEMBER SCARD SMEMBERS SRANDMEMBER SPOP SSCAN.
// The multi-key commands (SINTER, SUNION, SDIFF, their STORE/CARD forms, SMOVE) live in
// set_multi_commands.cc; the data structure in storage/set_object.h.
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "commands/helpers.h"
#include "commands/register.h"
#include "commands/set_multi_commands.h"
#include "common/glob.h"
#include "storage/set_algebra.h"
#include "storage/set_object.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::SetMember;
using storage::Value;
using storage::ValueType;

constexpr std::string_view kErrCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr std::string_view kErrMustBePositive = "ERR value is out of range, must be positive";

// Redis's SRANDMEMBER_SUB_STRATEGY_MUL and SPOP_MOVE_STRATEGY_MUL: when a request is close to
// the set's size, building what to keep beats sampling what to return.
constexpr uint64_t kRandSubStrategyMul = 3;
constexpr uint64_t kPopMoveStrategyMul = 5;

// Runs on: any shard thread; each has its own generator.
uint64_t Rand() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

void ReplyMember(CommandContext& ctx, const SetMember& m) {
  char buf[24];
  ctx.reply().Bulk(m.View(buf));
}

void SAdd(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  Entry* entry = *e;
  if (entry == nullptr) entry = ctx.db().Insert(ctx.arg(1), storage::NewSetFor(ctx.arg(2)));
  int64_t added = 0;
  for (size_t i = 2; i < ctx.argc(); ++i) added += storage::SetAdd(entry->value, ctx.arg(i));
  ctx.reply().Integer(added);
}

void SRem(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  int64_t removed = 0;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    removed += storage::SetRemove((*e)->value, ctx.arg(i));
    if (storage::SetSize((*e)->value) == 0) {
      ctx.db().Erase(*e);
      break;
    }
  }
  ctx.reply().Integer(removed);
}

void SIsMember(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e != nullptr && storage::SetContains((*e)->value, ctx.arg(2)));
}

void SMIsMember(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.reply().Integer(*e != nullptr && storage::SetContains((*e)->value, ctx.arg(i)));
  }
}

void SCard(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e == nullptr ? 0 : static_cast<int64_t>(storage::SetSize((*e)->value)));
}

// Redis 7.0 runs SMEMBERS as a one-key SINTER: a set reply, in iteration order.
void SMembers(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().SetHeader(0);
  const Value& set = (*e)->value;
  ctx.reply().SetHeader(storage::SetSize(set));
  storage::SetForEach(set, [&](const SetMember& m) {
    ReplyMember(ctx, m);
    return true;
  });
}

// ---- SRANDMEMBER ----

// `count` distinct random members, for count well below the set's size: sample until enough
// distinct ones came up (Redis's CASE 4).
std::vector<std::string> SampleDistinct(Value& set, uint64_t count) {
  std::vector<std::string> out;
  absl::flat_hash_set<std::string> seen;
  while (out.size() < count) {
    std::string m = storage::SetRandomMember(set, Rand).ToString();
    if (seen.insert(m).second) out.push_back(std::move(m));
  }
  return out;
}

// `count` distinct random members, for count close to the set's size: copy the set and drop
// random members until `count` remain (Redis's CASE 3).
std::vector<std::string> SampleBySubtraction(const Value& set, uint64_t count) {
  std::vector<std::string> all;
  all.reserve(storage::SetSize(set));
  storage::SetForEach(set, [&](const SetMember& m) {
    all.push_back(m.ToString());
    return true;
  });
  while (all.size() > count) {
    size_t victim = Rand() % all.size();
    std::swap(all[victim], all.back());
    all.pop_back();
  }
  return all;
}

void SRandMemberWithCount(CommandContext& ctx) {
  std::optional<int64_t> l = ParseInt64(ctx.arg(2));
  if (!l) return ctx.ReplyError(Status::NotInteger());
  if (*l == INT64_MIN) return ctx.ReplyError(kErrCountRange);
  bool unique = *l >= 0;
  uint64_t count = unique ? static_cast<uint64_t>(*l) : static_cast<uint64_t>(-*l);
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr || count == 0) return ctx.reply().ArrayHeader(0);
  Value& set = (*e)->value;
  uint64_t size = storage::SetSize(set);
  // Repeats allowed (negative count), or just one: independent draws.
  if (!unique || count == 1) {
    ctx.reply().ArrayHeader(count);
    while (count-- > 0) ReplyMember(ctx, storage::SetRandomMember(set, Rand));
    return;
  }
  // The whole set, in iteration order.
  if (count >= size) {
    ctx.reply().ArrayHeader(size);
    storage::SetForEach(set, [&](const SetMember& m) {
      ReplyMember(ctx, m);
      return true;
    });
    return;
  }
  std::vector<std::string> picked = count * kRandSubStrategyMul > size
                                        ? SampleBySubtraction(set, count)
                                        : SampleDistinct(set, count);
  ctx.reply().ArrayHeader(picked.size());
  for (const std::string& m : picked) ctx.reply().Bulk(m);
}

void SRandMember(CommandContext& ctx) {
  if (ctx.argc() == 3) return SRandMemberWithCount(ctx);
  if (ctx.argc() > 3) return ctx.ReplyError(Status::Syntax());
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  ReplyMember(ctx, storage::SetRandomMember((*e)->value, Rand));
}

// ---- SPOP ----

void SPopWithCount(CommandContext& ctx) {
  std::optional<int64_t> l = ParseInt64(ctx.arg(2));
  if (!l || *l < 0) return ctx.ReplyError(kErrMustBePositive);
  uint64_t count = static_cast<uint64_t>(*l);
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr || count == 0) return ctx.reply().SetHeader(0);
  Value& set = (*e)->value;
  uint64_t size = storage::SetSize(set);
  if (count >= size) {
    // Redis replies with a one-set SUNION (a fresh set: an intset replies sorted), then deletes.
    Value all = storage::SetUnionOrDiff(storage::SetOp::kUnion, {&set});
    ctx.reply().SetHeader(storage::SetSize(all));
    storage::SetForEach(all, [&](const SetMember& m) {
      ReplyMember(ctx, m);
      return true;
    });
    ctx.db().Erase(*e);
    return;
  }
  ctx.reply().SetHeader(count);
  uint64_t remaining = size - count;
  if (remaining * kPopMoveStrategyMul > count) {
    while (count-- > 0) {
      std::string m = storage::SetRandomMember(set, Rand).ToString();
      ctx.reply().Bulk(m);
      storage::SetRemove(set, m);
    }
    return;
  }
  // Most of the set goes: move the few members that stay into a new set (which starts over as
  // an intset if its first member is an integer, as in Redis) and return the rest.
  std::optional<Value> kept;
  while (remaining-- > 0) {
    std::string m = storage::SetRandomMember(set, Rand).ToString();
    if (!kept) kept = storage::NewSetFor(m);
    storage::SetAdd(*kept, m);
    storage::SetRemove(set, m);
  }
  storage::SetForEach(set, [&](const SetMember& m) {
    ReplyMember(ctx, m);
    return true;
  });
  ctx.db().Replace(*e, std::move(*kept), /*keep_ttl=*/true);
}

void SPop(CommandContext& ctx) {
  if (ctx.argc() == 3) return SPopWithCount(ctx);
  if (ctx.argc() > 3) return ctx.ReplyError(Status::Syntax());
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  Value& set = (*e)->value;
  std::string m = storage::SetRandomMember(set, Rand).ToString();
  storage::SetRemove(set, m);
  ctx.reply().Bulk(m);
  if (storage::SetSize(set) == 0) ctx.db().Erase(*e);
}

// ---- SSCAN ----


void SScan(CommandContext& ctx) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(2));
  if (!cursor) return ctx.ReplyError("ERR invalid cursor");
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), ValueType::kSet, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) {
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk("0");
    return ctx.reply().ArrayHeader(0);
  }
  // Options are parsed only for an existing set, as in Redis.
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < ctx.argc(); i += 2) {
    bool has_value = i + 1 < ctx.argc();
    if (ArgIs(ctx.arg(i), "COUNT") && has_value) {
      std::optional<int64_t> n = IntArgOrReply(ctx, i + 1);
      if (!n) return;
      if (*n < 1) return ctx.ReplyError(Status::Syntax());
      count = *n;
    } else if (ArgIs(ctx.arg(i), "MATCH") && has_value) {
      pattern = ctx.arg(i + 1);
      use_pattern = pattern != "*";
    } else {
      return ctx.ReplyError(Status::Syntax());  // TYPE too: it applies to SCAN only.
    }
  }
  Value& set = (*e)->value;
  std::vector<std::string> found;
  auto collect = [&](const SetMember& m) { found.push_back(m.ToString()); };
  uint64_t next = 0;
  if (set.object_encoding() == storage::ObjectEncoding::kIntset) {
    next = storage::SetScan(set, *cursor, collect);
  } else {
    // About COUNT members, and at most 10x COUNT buckets so a sparse table cannot stall us.
    int64_t budget = count > INT64_MAX / 10 ? INT64_MAX : count * 10;
    next = *cursor;
    do {
      next = storage::SetScan(set, next, collect);
    } while (next != 0 && budget-- > 0 && static_cast<int64_t>(found.size()) < count);
  }
  if (use_pattern) {
    std::erase_if(found, [&](const std::string& m) { return !GlobMatch(pattern, m); });
  }
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(next));
  ctx.reply().ArrayHeader(found.size());
  for (const std::string& m : found) ctx.reply().Bulk(m);
}

}  // namespace

void RegisterSetCommands(server::CommandTable& table) {
  using namespace server;
  auto one_key = [&](const char* name, int arity, uint32_t flags, CommandHandler h) {
    table.Add({.name = name, .arity = arity, .flags = flags, .first_key = 1, .last_key = 1,
               .key_step = 1, .handler = h});
  };
  one_key("sadd", -3, kWrite | kDenyOom | kFast, SAdd);
  one_key("srem", -3, kWrite | kFast, SRem);
  one_key("sismember", 3, kReadOnly | kFast, SIsMember);
  one_key("smismember", -3, kReadOnly | kFast, SMIsMember);
  one_key("scard", 2, kReadOnly | kFast, SCard);
  one_key("smembers", 2, kReadOnly, SMembers);
  one_key("srandmember", -2, kReadOnly, SRandMember);
  one_key("spop", -2, kWrite | kFast, SPop);
  one_key("sscan", -3, kReadOnly, SScan);
  RegisterSetMultiKeyCommands(table);
}

}  // namespace shoal::cmd
