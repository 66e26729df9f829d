// Strings: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX APPEND STRLEN GETRANGE SETRANGE.
// Counters live in counter_commands.cc, MGET/MSET in multi_string_commands.cc, LCS in lcs.cc.
#include <cstring>

#include "commands/expire_args.h"
#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;

void Get(CommandContext& ctx) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  ReplyValue(ctx, (*e)->value);
}

void Set(CommandContext& ctx) {
  ExpireArgs opts;
  if (!ParseExpireArgs(ctx, 3, ExpireArgsFor::kSet, &opts)) return;
  storage::Db& db = ctx.db();
  std::string_view key = ctx.arg(1);
  const bool get = opts.flags & kSetGet;
  Entry* e = db.Find(key, ctx.now_ms(), get ? kRead : kWriteLookup);
  if (get) {
    if (e != nullptr && !e->value.is_string()) return ctx.ReplyError(Status::WrongType());
    if (e != nullptr) {
      ReplyValue(ctx, e->value);
    } else {
      ctx.reply().Null();
    }
  }
  if (((opts.flags & kSetNx) && e != nullptr) || ((opts.flags & kSetXx) && e == nullptr)) {
    if (!get) ctx.reply().Null();
    return;
  }
  Value v = Value::String(ctx.arg(2));
  if (e != nullptr) {
    db.Replace(e, std::move(v), opts.flags & kKeepTtl);
  } else {
    e = db.Insert(key, std::move(v));
  }
  if (opts.when_ms >= 0) db.SetExpire(e, opts.when_ms);
  if (!get) ctx.reply().Ok();
}

void SetNx(CommandContext& ctx) {
  storage::Db& db = ctx.db();
  if (db.Find(ctx.arg(1), ctx.now_ms()) != nullptr) return ctx.reply().Integer(0);
  db.Insert(ctx.arg(1), Value::String(ctx.arg(2)));
  ctx.reply().Integer(1);
}

// SETEX and PSETEX: key, time, value.
void SetWithExpire(CommandContext& ctx, bool seconds) {
  int64_t when = 0;
  if (!ExpireValueToDeadline(ctx, 2, seconds, /*relative=*/true, &when)) return;
  storage::Entry* e = ctx.db().Upsert(ctx.arg(1), Value::String(ctx.arg(3)), ctx.now_ms());
  ctx.db().SetExpire(e, when);
  ctx.reply().Ok();
}
void SetEx(CommandContext& ctx) { SetWithExpire(ctx, true); }
void PSetEx(CommandContext& ctx) { SetWithExpire(ctx, false); }

void GetSet(CommandContext& ctx) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) {
    ctx.reply().Null();
    ctx.db().Insert(ctx.arg(1), Value::String(ctx.arg(2)));
    return;
  }
  ReplyValue(ctx, (*e)->value);
  ctx.db().Replace(*e, Value::String(ctx.arg(2)), /*keep_ttl=*/false);
}

void GetDel(CommandContext& ctx) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  ReplyValue(ctx, (*e)->value);
  ctx.db().Erase(*e);
}

void GetEx(CommandContext& ctx) {
  ExpireArgs opts;
  if (!ParseExpireArgs(ctx, 2, ExpireArgsFor::kGetEx, &opts, /*validate_value=*/false)) return;
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  if (!ValidateExpireValue(ctx, &opts)) return;
  ReplyValue(ctx, (*e)->value);
  if (opts.when_ms >= 0) {
    if (opts.when_ms <= ctx.now_ms()) {
      ctx.db().Erase(*e);  // A deadline already past deletes the key, as in Redis.
    } else {
      ctx.db().SetExpire(*e, opts.when_ms);
    }
  } else if (opts.flags & kPersist) {
    ctx.db().ClearExpire(*e);
  }
}

void Strlen(CommandContext& ctx) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e == nullptr ? 0 : static_cast<int64_t>((*e)->value.string_size()));
}

// Redis's checkStringLength: a string may not outgrow proto-max-bulk-len.
bool CheckStringLength(CommandContext& ctx, uint64_t size) {
  if (size > static_cast<uint64_t>(ctx.server().config.proto_max_bulk_len.load())) {
    ctx.ReplyError(Status::StringTooLong());
    return false;
  }
  return true;
}

void Append(CommandContext& ctx) {
  Result<Entry*> e = FindString(ctx, ctx.arg(1));
  if (!e.ok()) return ctx.ReplyError(e.status());
  std::string_view tail = ctx.arg(2);
  if (*e == nullptr) {
    storage::Entry* created = ctx.db().Insert(ctx.arg(1), Value::String(tail));
    return ctx.reply().Integer(static_cast<int64_t>(created->value.string_size()));
  }
  Value& v = (*e)->value;
  size_t old = v.string_size();
  if (!CheckStringLength(ctx, old + tail.size())) return;
  char* p = v.MutableString(old + tail.size());
  memcpy(p + old, tail.data(), tail.size());
  ctx.reply().Integer(static_cast<int64_t>(old + tail.size()));
}

void GetRange(CommandContext& ctx) {
  std::optional<int64_t> start = IntArgOrReply(ctx, 2);
  if (!start) return;
  std::optional<int64_t> end = IntArgOrReply(ctx, 3);
  if (!end) return;
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Bulk("");
  std::string scratch;
  std::string_view s = (*e)->value.GetString(&scratch);
  int64_t len = static_cast<int64_t>(s.size());
  int64_t a = *start, b = *end;
  if (a < 0 && b < 0 && a > b) return ctx.reply().Bulk("");
  if (a < 0) a += len;
  if (b < 0) b += len;
  if (a < 0) a = 0;
  if (b < 0) b = 0;
  if (b >= len) b = len - 1;
  if (a > b || len == 0) return ctx.reply().Bulk("");
  ctx.reply().Bulk(s.substr(a, b - a + 1));
}

void SetRange(CommandContext& ctx) {
  std::optional<int64_t> offset = IntArgOrReply(ctx, 2);
  if (!offset) return;
  if (*offset < 0) return ctx.ReplyError("ERR offset is out of range");
  std::string_view value = ctx.arg(3);
  Result<Entry*> e = FindString(ctx, ctx.arg(1));
  if (!e.ok()) return ctx.ReplyError(e.status());
  uint64_t needed = static_cast<uint64_t>(*offset) + value.size();
  if (*e == nullptr) {
    if (value.empty()) return ctx.reply().Integer(0);
    if (!CheckStringLength(ctx, needed)) return;
    storage::Entry* created = ctx.db().Insert(ctx.arg(1), Value::RawString(""));
    char* p = created->value.MutableString(needed);
    memcpy(p + *offset, value.data(), value.size());
    return ctx.reply().Integer(static_cast<int64_t>(needed));
  }
  Value& v = (*e)->value;
  size_t old = v.string_size();
  if (value.empty()) return ctx.reply().Integer(static_cast<int64_t>(old));
  if (!CheckStringLength(ctx, needed)) return;
  char* p = v.MutableString(std::max<size_t>(old, needed));
  memcpy(p + *offset, value.data(), value.size());
  ctx.reply().Integer(static_cast<int64_t>(std::max<size_t>(old, needed)));
}

}  // namespace

void RegisterStringCommands(server::CommandTable& table) {
  using namespace server;  // Command flags.
  table.Add({.name = "get", .arity = 2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Get});
  table.Add({.name = "set", .arity = -3, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Set});
  table.Add({.name = "setnx", .arity = 3, .flags = kWrite | kDenyOom | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = SetNx});
  table.Add({.name = "setex", .arity = 4, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = SetEx});
  table.Add({.name = "psetex", .arity = 4, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = PSetEx});
  table.Add({.name = "getset", .arity = 3, .flags = kWrite | kDenyOom | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = GetSet});
  table.Add({.name = "getdel", .arity = 2, .flags = kWrite | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = GetDel});
  table.Add({.name = "getex", .arity = -2, .flags = kWrite | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = GetEx});
  table.Add({.name = "strlen", .arity = 2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Strlen});
  table.Add({.name = "append", .arity = 3, .flags = kWrite | kDenyOom | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Append});
  table.Add({.name = "getrange", .arity = 4, .flags = kReadOnly, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = GetRange});
  table.Add({.name = "substr", .arity = 4, .flags = kReadOnly, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = GetRange});
  table.Add({.name = "setrange", .arity = 4, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = SetRange});
}

}  // namespace shoal::cmd
