// Counters on string values: INCR DECR INCRBY DECRBY INCRBYFLOAT.
#include <cmath>

#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;

// The value as Redis's getLongLongFromObject reads it.
std::optional<int64_t> ValueAsInt(const Value& v) {
  if (v.is_int()) return v.int_value();
  std::string scratch;
  return ParseInt64(v.GetString(&scratch));
}

void IncrBy(CommandContext& ctx, int64_t incr) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1));
  if (!e.ok()) return ctx.ReplyError(e.status());
  int64_t current = 0;
  if (*e != nullptr) {
    std::optional<int64_t> v = ValueAsInt((*e)->value);
    if (!v) return ctx.ReplyError(Status::NotInteger());
    current = *v;
  }
  int64_t result;
  if (__builtin_add_overflow(current, incr, &result)) {
    return ctx.ReplyError(Status::Overflow());
  }
  if (*e != nullptr) {
    ctx.db().Replace(*e, Value::Int(result), /*keep_ttl=*/true);
  } else {
    ctx.db().Insert(ctx.arg(1), Value::Int(result));
  }
  ctx.reply().Integer(result);
}

void Incr(CommandContext& ctx) { IncrBy(ctx, 1); }
void Decr(CommandContext& ctx) { IncrBy(ctx, -1); }

void IncrByCmd(CommandContext& ctx) {
  std::optional<int64_t> incr = IntArgOrReply(ctx, 2);
  if (incr) IncrBy(ctx, *incr);
}

void DecrByCmd(CommandContext& ctx) {
  std::optional<int64_t> decr = IntArgOrReply(ctx, 2);
  if (!decr) return;
  if (*decr == INT64_MIN) return ctx.ReplyError("ERR decrement would overflow");
  IncrBy(ctx, -*decr);
}

void IncrByFloat(CommandContext& ctx) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1));
  if (!e.ok()) return ctx.ReplyError(e.status());
  long double current = 0;
  if (*e != nullptr) {
    const Value& v = (*e)->value;
    if (v.is_int()) {
      current = static_cast<long double>(v.int_value());
    } else {
      std::string scratch;
      std::optional<long double> parsed = ParseLongDouble(v.GetString(&scratch));
      if (!parsed) return ctx.ReplyError(Status::NotFloat());
      current = *parsed;
    }
  }
  std::optional<long double> incr = ParseLongDouble(ctx.arg(2));
  if (!incr) return ctx.ReplyError(Status::NotFloat());
  long double result = current + *incr;
  if (std::isnan(result) || std::isinf(result)) {
    return ctx.ReplyError("ERR increment would produce NaN or Infinity");
  }
  std::string text = LongDoubleToHumanString(result);
  // Stored as bytes, not as an integer, exactly as Redis does for INCRBYFLOAT results.
  if (*e != nullptr) {
    ctx.db().Replace(*e, Value::RawString(text), /*keep_ttl=*/true);
  } else {
    ctx.db().Insert(ctx.arg(1), Value::RawString(text));
  }
  ctx.reply().Bulk(text);
}

}  // namespace

void RegisterCounterCommands(server::CommandTable& table) {
  using namespace server;
  auto add = [&](const char* name, int arity, server::CommandHandler h) {
    table.Add({.name = name, .arity = arity, .flags = kWrite | kDenyOom | kFast, .first_key = 1,
               .last_key = 1, .key_step = 1, .handler = h});
  };
  add("incr", 2, Incr);
  add("decr", 2, Decr);
  add("incrby", 3, IncrByCmd);
  add("decrby", 3, DecrByCmd);
  add("incrbyfloat", 3, IncrByFloat);
}

}  // namespace shoal::cmd
