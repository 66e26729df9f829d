// Expiry: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME,
// PERSIST. Deadlines are absolute Unix milliseconds, as in Redis.
#include <climits>

#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

enum ExpireFlag : uint32_t { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

bool ParseExpireFlags(CommandContext& ctx, uint32_t* flags) {
  for (size_t j = 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    if (ArgIs(opt, "NX")) {
      *flags |= kNx;
    } else if (ArgIs(opt, "XX")) {
      *flags |= kXx;
    } else if (ArgIs(opt, "GT")) {
      *flags |= kGt;
    } else if (ArgIs(opt, "LT")) {
      *flags |= kLt;
    } else {
      ctx.ReplyError("ERR Unsupported option " + CStr(opt));
      return false;
    }
  }
  if ((*flags & kNx) && (*flags & (kXx | kGt | kLt))) {
    ctx.ReplyError("ERR NX and XX, GT or LT options at the same time are not compatible");
    return false;
  }
  if ((*flags & kGt) && (*flags & kLt)) {
    ctx.ReplyError("ERR GT and LT options at the same time are not compatible");
    return false;
  }
  return true;
}

// `relative`: the value counts from now (EXPIRE, PEXPIRE); else it is a Unix time.
void ExpireGeneric(CommandContext& ctx, bool seconds, bool relative) {
  uint32_t flags = 0;
  if (!ParseExpireFlags(ctx, &flags)) return;
  std::optional<int64_t> when = IntArgOrReply(ctx, 2);
  if (!when) return;
  int64_t ms = *when;
  // Negative values are allowed (they delete the key); only overflow is an error.
  if (seconds) {
    if (ms > LLONG_MAX / 1000 || ms < LLONG_MIN / 1000) {
      return ctx.ReplyError(Status(Code::kInvalidExpire));
    }
    ms *= 1000;
  }
  int64_t base = relative ? ctx.now_ms() : 0;
  if (ms > LLONG_MAX - base) return ctx.ReplyError(Status(Code::kInvalidExpire));
  ms += base;
  storage::Db& db = ctx.db();
  storage::Entry* e = db.Find(ctx.arg(1), ctx.now_ms());
  if (e == nullptr) return ctx.reply().Integer(0);
  if (flags != 0) {
    int64_t current = db.GetExpire(e);
    if ((flags & kNx) && current != -1) return ctx.reply().Integer(0);
    if ((flags & kXx) && current == -1) return ctx.reply().Integer(0);
    // No deadline counts as an infinite one: GT never beats it, LT always does.
    if ((flags & kGt) && (current == -1 || ms <= current)) return ctx.reply().Integer(0);
    if ((flags & kLt) && current != -1 && ms >= current) return ctx.reply().Integer(0);
  }
  if (ms <= ctx.now_ms()) {
    db.Erase(e);
  } else {
    db.SetExpire(e, ms);
  }
  ctx.reply().Integer(1);
}

void Expire(CommandContext& ctx) { ExpireGeneric(ctx, true, true); }
void PExpire(CommandContext& ctx) { ExpireGeneric(ctx, false, true); }
void ExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, true, false); }
void PExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, false); }

void TtlGeneric(CommandContext& ctx, bool ms, bool absolute) {
  storage::Entry* e = ctx.db().Find(ctx.arg(1), ctx.now_ms(), kReadNoTouch);
  if (e == nullptr) return ctx.reply().Integer(-2);
  int64_t when = ctx.db().GetExpire(e);
  if (when == -1) return ctx.reply().Integer(-1);
  int64_t ttl = absolute ? when : when - ctx.now_ms();
  if (ttl < 0) ttl = 0;
  // Unsigned: Redis computes (ttl+500)/1000 on a deadline near INT64_MAX and gets this value.
  ctx.reply().Integer(ms ? ttl : static_cast<int64_t>((static_cast<uint64_t>(ttl) + 500) / 1000));
}

void Ttl(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void PTtl(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void ExpireTime(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void PExpireTime(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

void Persist(CommandContext& ctx) {
  storage::Entry* e = ctx.db().Find(ctx.arg(1), ctx.now_ms());
  ctx.reply().Integer(e != nullptr && ctx.db().ClearExpire(e) ? 1 : 0);
}

}  // namespace

void RegisterExpireCommands(server::CommandTable& table) {
  using namespace server;
  auto add = [&](const char* name, int arity, uint32_t flags, CommandHandler h) {
    table.Add({.name = name, .arity = arity, .flags = flags, .first_key = 1, .last_key = 1,
               .key_step = 1, .handler = h});
  };
  add("expire", -3, kWrite | kFast, Expire);
  add("pexpire", -3, kWrite | kFast, PExpire);
  add("expireat", -3, kWrite | kFast, ExpireAt);
  add("pexpireat", -3, kWrite | kFast, PExpireAt);
  add("ttl", 2, kReadOnly | kFast, Ttl);
  add("pttl", 2, kReadOnly | kFast, PTtl);
  add("expiretime", 2, kReadOnly | kFast, ExpireTime);
  add("pexpiretime", 2, kReadOnly | kFast, PExpireTime);
  add("persist", 2, kWrite | kFast, Persist);
}

}  // namespace shoal::cmd
