// Hashes: HSET HSETNX HMSET HGET HMGET HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HGETALL HINCRBY
// HINCRBYFLOAT; HRANDFIELD and HSCAN live in hash_random_scan.cc. Storage: storage/hash_object.h.
// Every command names one key, so each runs whole on that key's shard.
#include <cmath>

#include "commands/hash_random_scan.h"
#include "commands/helpers.h"
#include "commands/register.h"
#include "storage/hash_object.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Hash;
using storage::HashItem;

// The hash at `key` for a write, created empty (to be filled before anyone else runs) if absent.
// WrongType if the key holds another type.
Result<Entry*> FindOrCreateHash(CommandContext& ctx, std::string_view key) {
  Result<Entry*> e = FindTyped(ctx, key, storage::ValueType::kHash, kWriteLookup);
  if (!e.ok() || *e != nullptr) return e;
  return ctx.db().Insert(key, Hash::New());
}

// HSET key field value [field value ...] replies the number of new fields; HMSET replies OK.
void SetFields(CommandContext& ctx, bool reply_ok) {
  if (ctx.argc() % 2 == 1) return ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
  Result<Entry*> e = FindOrCreateHash(ctx, ctx.arg(1));
  if (!e.ok()) return ctx.ReplyError(e.status());
  Hash h(&(*e)->value);
  h.PrepareWrite(ctx.args().subspan(2));
  int64_t added = 0;
  for (size_t i = 2; i < ctx.argc(); i += 2) added += h.Set(ctx.arg(i), ctx.arg(i + 1));
  if (reply_ok) return ctx.reply().Ok();
  ctx.reply().Integer(added);
}
void HSet(CommandContext& ctx) { SetFields(ctx, false); }
void HMSet(CommandContext& ctx) { SetFields(ctx, true); }

void HSetNx(CommandContext& ctx) {
  Result<Entry*> e = FindOrCreateHash(ctx, ctx.arg(1));
  if (!e.ok()) return ctx.ReplyError(e.status());
  Hash h(&(*e)->value);
  if (h.Exists(ctx.arg(2))) return ctx.reply().Integer(0);
  // Only a write that happens may convert the hash, as in Redis.
  h.PrepareWrite(ctx.args().subspan(2, 2));
  h.Set(ctx.arg(2), ctx.arg(3));
  ctx.reply().Integer(1);
}

void HGet(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  std::optional<HashItem> v = Hash(&(*e)->value).Get(ctx.arg(2));
  if (!v) return ctx.reply().Null();
  ReplyHashItem(ctx, *v);
}

void HMGet(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::optional<HashItem> v;
    if (*e != nullptr) v = Hash(&(*e)->value).Get(ctx.arg(i));
    if (v) {
      ReplyHashItem(ctx, *v);
    } else {
      ctx.reply().Null();
    }
  }
}

void HDel(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  Hash h(&(*e)->value);
  int64_t deleted = 0;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (!h.Delete(ctx.arg(i))) continue;
    ++deleted;
    if (h.size() == 0) {
      ctx.db().Erase(*e);  // The last field went: an empty hash does not exist.
      break;
    }
  }
  ctx.reply().Integer(deleted);
}

void HExists(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e != nullptr && Hash(&(*e)->value).Exists(ctx.arg(2)) ? 1 : 0);
}

void HLen(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e == nullptr ? 0 : static_cast<int64_t>(Hash(&(*e)->value).size()));
}

void HStrlen(CommandContext& ctx) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  std::optional<HashItem> v = Hash(&(*e)->value).Get(ctx.arg(2));
  if (!v) return ctx.reply().Integer(0);
  std::string scratch;
  ctx.reply().Integer(static_cast<int64_t>(v->View(&scratch).size()));
}

enum GetAllParts : uint8_t { kFields = 1, kValues = 2 };

// HKEYS, HVALS and HGETALL (a map in RESP3).
void GetAll(CommandContext& ctx, uint8_t parts) {
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  const bool both = parts == (kFields | kValues);
  if (*e == nullptr) return both ? ctx.reply().MapHeader(0) : ctx.reply().ArrayHeader(0);
  Hash h(&(*e)->value);
  if (both) {
    ctx.reply().MapHeader(h.size());
  } else {
    ctx.reply().ArrayHeader(h.size());
  }
  h.ForEach([&](const HashItem& f, const HashItem& v) {
    if (parts & kFields) ReplyHashItem(ctx, f);
    if (parts & kValues) ReplyHashItem(ctx, v);
  });
}
void HKeys(CommandContext& ctx) { GetAll(ctx, kFields); }
void HVals(CommandContext& ctx) { GetAll(ctx, kValues); }
void HGetAll(CommandContext& ctx) { GetAll(ctx, kFields | kValues); }

void HIncrBy(CommandContext& ctx) {
  std::optional<int64_t> incr = IntArgOrReply(ctx, 3);
  if (!incr) return;
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  int64_t current = 0;
  if (*e != nullptr) {
    std::optional<HashItem> v = Hash(&(*e)->value).Get(ctx.arg(2));
    if (v && v->is_int) {
      current = v->ival;
    } else if (v) {
      std::optional<int64_t> parsed = ParseInt64(v->str);
      if (!parsed) return ctx.ReplyError("ERR hash value is not an integer");
      current = *parsed;
    }
  }
  int64_t result;
  if (__builtin_add_overflow(current, *incr, &result)) {
    return ctx.ReplyError(Status::Overflow());
  }
  if (*e == nullptr) *e = ctx.db().Insert(ctx.arg(1), Hash::New());
  char buf[24];
  int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(result));
  Hash(&(*e)->value).Set(ctx.arg(2), std::string_view(buf, n));
  ctx.reply().Integer(result);
}

void HIncrByFloat(CommandContext& ctx) {
  std::optional<long double> incr = ParseLongDouble(ctx.arg(3));
  if (!incr) return ctx.ReplyError(Status::NotFloat());
  if (std::isnan(*incr) || std::isinf(*incr)) return ctx.ReplyError("ERR value is NaN or Infinity");
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kWriteLookup);
  if (!e.ok()) return ctx.ReplyError(e.status());
  long double current = 0;
  if (*e != nullptr) {
    std::optional<HashItem> v = Hash(&(*e)->value).Get(ctx.arg(2));
    if (v && v->is_int) {
      current = static_cast<long double>(v->ival);
    } else if (v) {
      std::optional<long double> parsed = ParseLongDouble(v->str);
      if (!parsed) return ctx.ReplyError("ERR hash value is not a float");
      current = *parsed;
    }
  }
  long double result = current + *incr;
  if (std::isnan(result) || std::isinf(result)) {
    return ctx.ReplyError("ERR increment would produce NaN or Infinity");
  }
  std::string text = LongDoubleToHumanString(result);
  if (*e == nullptr) *e = ctx.db().Insert(ctx.arg(1), Hash::New());
  Hash(&(*e)->value).Set(ctx.arg(2), text);
  ctx.reply().Bulk(text);
}

}  // namespace

void RegisterHashCommands(server::CommandTable& table) {
  using namespace server;  // Command flags.
  auto add = [&](const char* name, int arity, uint32_t flags, CommandHandler h) {
    table.Add({.name = name, .arity = arity, .flags = flags, .first_key = 1, .last_key = 1,
               .key_step = 1, .handler = h});
  };
  add("hset", -4, kWrite | kDenyOom | kFast, HSet);
  add("hsetnx", 4, kWrite | kDenyOom | kFast, HSetNx);
  add("hmset", -4, kWrite | kDenyOom | kFast, HMSet);
  add("hget", 3, kReadOnly | kFast, HGet);
  add("hmget", -3, kReadOnly | kFast, HMGet);
  add("hdel", -3, kWrite | kFast, HDel);
  add("hexists", 3, kReadOnly | kFast, HExists);
  add("hlen", 2, kReadOnly | kFast, HLen);
  add("hstrlen", 3, kReadOnly | kFast, HStrlen);
  add("hkeys", 2, kReadOnly, HKeys);
  add("hvals", 2, kReadOnly, HVals);
  add("hgetall", 2, kReadOnly, HGetAll);
  add("hincrby", 4, kWrite | kDenyOom | kFast, HIncrBy);
  add("hincrbyfloat", 4, kWrite | kDenyOom | kFast, HIncrByFloat);
  add("hrandfield", -2, kReadOnly, HRandField);
  add("hscan", -3, kReadOnly, HScan);
}

}  // namespace shoal::cmd
