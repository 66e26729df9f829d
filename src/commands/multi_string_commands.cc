// MGET MSET MSETNX. Each handler runs on one shard with that shard's keys. Keys spread over
// shards: MGET and MSET are split into one part per shard by the dispatcher; MSETNX, which must
// see every key before writing any, has a coordinator. Until the transaction layer lands, none
// of them is atomic across shards: each shard applies its part atomically.
#include <atomic>

#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;

// ---- MGET ----

void MGet(CommandContext& ctx) {
  ctx.reply().ArrayHeader(ctx.argc() - 1);
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Entry* e = ctx.db().Find(ctx.arg(i), ctx.now_ms(), kRead);
    if (e == nullptr || !e->value.is_string()) {
      ctx.reply().Null();
    } else {
      ReplyValue(ctx, e->value);
    }
  }
}

// ---- MSET / MSETNX ----

bool CheckPairs(CommandContext& ctx) {
  if (ctx.argc() % 2 == 0) {
    ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
    return false;
  }
  return true;
}

void WriteArgPairs(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    ctx.db().Upsert(ctx.arg(i), Value::String(ctx.arg(i + 1)), ctx.now_ms());
  }
}

void MSet(CommandContext& ctx) {
  if (!CheckPairs(ctx)) return;
  WriteArgPairs(ctx);
  ctx.reply().Ok();
}

struct Pairs {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  ShardGroups groups;
};

std::shared_ptr<const Pairs> CopyPairs(CommandContext& ctx) {
  auto p = std::make_shared<Pairs>();
  p->keys = CopyArgs(ctx, 1, 2);
  p->values = CopyArgs(ctx, 2, 2);
  p->groups = GroupByShard(p->keys);
  return p;
}

// Runs on: each owner shard. Writes that shard's pairs, in argument order (a repeated key
// keeps its last value, as in Redis).
void WritePairs(const Pairs& p, int db, shard::Shard& s) {
  storage::Db& d = s.db(db);
  int64_t now = UnixTimeMs();
  for (size_t i : p.groups.Of(s.id())) d.Upsert(p.keys[i], Value::String(p.values[i]), now);
}

void MSetNx(CommandContext& ctx) {
  if (!CheckPairs(ctx)) return;
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    if (ctx.db().Find(ctx.arg(i), ctx.now_ms()) != nullptr) return ctx.reply().Integer(0);
  }
  WriteArgPairs(ctx);
  ctx.reply().Integer(1);
}

void MSetNxCoordinator(CommandContext& ctx) {
  if (!CheckPairs(ctx)) return;
  auto pairs = CopyPairs(ctx);
  auto any_exists = std::make_shared<std::atomic<bool>>(false);
  int db = ctx.db_index();
  ctx.FanOut(
      pairs->groups.shards,
      [pairs, any_exists, db](shard::Shard& s) {
        storage::Db& d = s.db(db);
        int64_t now = UnixTimeMs();
        for (size_t i : pairs->groups.Of(s.id())) {
          if (d.Find(pairs->keys[i], now) != nullptr) any_exists->store(true);
        }
      },
      [pairs, any_exists, db](CommandContext& c) {
        if (any_exists->load()) return c.reply().Integer(0);
        c.FanOut(
            pairs->groups.shards, [pairs, db](shard::Shard& s) { WritePairs(*pairs, db, s); },
            [](CommandContext& c2) { c2.reply().Integer(1); });
      });
}

}  // namespace

void RegisterMultiStringCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "mget", .arity = -2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = -1, .key_step = 1, .handler = MGet, .split = SplitMerge::kArrayByKey});
  table.Add({.name = "mset", .arity = -3, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = -1, .key_step = 2, .handler = MSet, .split = SplitMerge::kAllOk});
  table.Add({.name = "msetnx", .arity = -3, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = -1, .key_step = 2, .handler = MSetNx, .coordinator = MSetNxCoordinator});
}

}  // namespace shoal::cmd
