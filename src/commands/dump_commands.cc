// DUMP and RESTORE: a value serialized in Redis 7.0's RDB object format (persist/dump_payload.h),
// so payloads move between Shoal and Redis in both directions.
#include "commands/helpers.h"
#include "commands/register.h"
#include "persist/dump_payload.h"
#include "storage/access_stats.h"

namespace shoal::cmd {
namespace {

void Dump(CommandContext& ctx) {
  storage::Entry* e = ctx.db().Find(ctx.arg(1), ctx.now_ms(), kRead);
  if (e == nullptr) return ctx.reply().Null();
  Result<std::string> payload = persist::MakeDumpPayload(e->value);
  if (!payload.ok()) return ctx.ReplyError(payload.status());
  ctx.reply().Bulk(*payload);
}

struct RestoreOptions {
  bool replace = false;
  bool absttl = false;
  int64_t idle = -1;  // IDLETIME seconds, -1 if not given.
  int64_t freq = -1;  // FREQ counter, -1 if not given.
};

// Redis's restoreCommand option loop: IDLETIME and FREQ exclude each other (the second one is a
// syntax error), and each value is checked as it is met.
bool ParseRestoreOptions(CommandContext& ctx, RestoreOptions* o) {
  for (size_t j = 4; j < ctx.argc(); ++j) {
    bool has_value = j + 1 < ctx.argc();
    std::string_view opt = ctx.arg(j);
    if (ArgIs(opt, "REPLACE")) {
      o->replace = true;
    } else if (ArgIs(opt, "ABSTTL")) {
      o->absttl = true;
    } else if (ArgIs(opt, "IDLETIME") && has_value && o->freq == -1) {
      std::optional<int64_t> v = IntArgOrReply(ctx, ++j);
      if (!v) return false;
      if (*v < 0) {
        ctx.ReplyError("ERR Invalid IDLETIME value, must be >= 0");
        return false;
      }
      o->idle = *v;
    } else if (ArgIs(opt, "FREQ") && has_value && o->idle == -1) {
      std::optional<int64_t> v = IntArgOrReply(ctx, ++j);
      if (!v) return false;
      if (*v < 0 || *v > 255) {
        ctx.ReplyError("ERR Invalid FREQ value, must be >= 0 and <= 255");
        return false;
      }
      o->freq = *v;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  return true;
}

// Runs on: the key's owner. Checks in Redis's order: options, existing key, TTL, payload.
void Restore(CommandContext& ctx) {
  RestoreOptions o;
  if (!ParseRestoreOptions(ctx, &o)) return;
  storage::Db& db = ctx.db();
  std::string_view key = ctx.arg(1);
  int64_t now = ctx.now_ms();
  if (!o.replace && db.Find(key, now, kWriteLookup) != nullptr) {
    return ctx.ReplyError("BUSYKEY Target key name already exists.");
  }
  std::optional<int64_t> ttl = IntArgOrReply(ctx, 2);
  if (!ttl) return;
  if (*ttl < 0) return ctx.ReplyError("ERR Invalid TTL value, must be >= 0");
  std::string_view payload = ctx.arg(3);
  if (!persist::VerifyDumpPayload(payload)) {
    return ctx.ReplyError("ERR DUMP payload version or checksum are wrong");
  }
  storage::Value value;
  if (!persist::ParseDumpPayload(payload, &value).ok()) {
    return ctx.ReplyError("ERR Bad data format");
  }
  if (o.replace) {
    if (storage::Entry* old = db.Find(key, now, kWriteLookup)) db.Erase(old);
  }
  int64_t when = *ttl;
  // A relative TTL so large that the deadline overflows wraps negative in Redis: already expired.
  bool overflow = when != 0 && !o.absttl && __builtin_add_overflow(when, now, &when);
  if (when != 0 && (overflow || when <= now)) return ctx.reply().Ok();  // Gone at once.
  storage::Entry* e = db.Insert(key, std::move(value));
  if (when != 0) db.SetExpire(e, when);
  // objectSetLRUOrLFU: FREQ counts only under an LFU policy, IDLETIME only under the others.
  if (storage::AccessStats::LfuMode()) {
    if (o.freq >= 0) e->access_time = storage::AccessStats::WithFrequency(o.freq, now);
  } else if (o.idle >= 0) {
    e->access_time = storage::AccessStats::WithIdle(o.idle, now);
  }
  ctx.reply().Ok();
}

}  // namespace

void RegisterDumpCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "dump", .arity = 2, .flags = kReadOnly, .first_key = 1, .last_key = 1,
             .key_step = 1, .handler = Dump});
  table.Add({.name = "restore", .arity = -4, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Restore});
}

}  // namespace shoal::cmd
