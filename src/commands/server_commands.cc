// Server commands: DBSIZE FLUSHDB FLUSHALL TIME LASTSAVE SHUTDOWN.
#include <atomic>

#include "commands/helpers.h"
#include "commands/register.h"
#include "server/client.h"
#include "server/watch.h"

namespace shoal::cmd {
namespace {

void DbSize(CommandContext& ctx) {
  auto total = std::make_shared<std::atomic<int64_t>>(0);
  int db = ctx.db_index();
  ctx.FanOutAll([total, db](shard::Shard& s) { total->fetch_add(s.db(db).size()); },
                [total](CommandContext& c) { c.reply().Integer(total->load()); });
}

// FLUSHDB/FLUSHALL take an optional SYNC or ASYNC; anything else is a syntax error.
bool ParseFlushMode(CommandContext& ctx, bool* async) {
  *async = false;
  if (ctx.argc() == 1) return true;
  if (ctx.argc() == 2 && ArgIs(ctx.arg(1), "SYNC")) return true;
  if (ctx.argc() == 2 && ArgIs(ctx.arg(1), "ASYNC")) {
    *async = true;
    return true;
  }
  ctx.ReplyError(Status::Syntax());
  return false;
}

void FlushDb(CommandContext& ctx) {
  bool async;
  if (!ParseFlushMode(ctx, &async)) return;
  int db = ctx.db_index();
  ctx.FanOutAll(
      [db, async](shard::Shard& s) {
        server::ThisShardWatches().TouchExisting(db, s.db(db), UnixTimeMs());
        s.db(db).Clear(async);
      },
                [](CommandContext& c) { c.reply().Ok(); });
}

void FlushAll(CommandContext& ctx) {
  bool async;
  if (!ParseFlushMode(ctx, &async)) return;
  ctx.FanOutAll(
      [async](shard::Shard& s) {
        for (int i = 0; i < s.num_dbs(); ++i) {
          server::ThisShardWatches().TouchExisting(i, s.db(i), UnixTimeMs());
          s.db(i).Clear(async);
        }
      },
      [](CommandContext& c) { c.reply().Ok(); });
}

void Time(CommandContext& ctx) {
  int64_t us = UnixTimeUs();
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(us / 1000000));
  ctx.reply().Bulk(std::to_string(us % 1000000));
}

void LastSave(CommandContext& ctx) { ctx.reply().Integer(ctx.server().lastsave_unix.load()); }

void Shutdown(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (!ArgIs(a, "NOSAVE") && !ArgIs(a, "SAVE") && !ArgIs(a, "NOW") && !ArgIs(a, "FORCE") &&
        !ArgIs(a, "ABORT")) {
      return ctx.ReplyError(Status::Syntax());
    }
    if (ArgIs(a, "ABORT")) return ctx.ReplyError("ERR No shutdown in progress.");
  }
  // No reply on success: the connection closes as the server goes down, as with Redis.
  ctx.client()->close_after_reply = true;
  ctx.server().request_shutdown();
}

}  // namespace

void RegisterServerCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "dbsize", .arity = 1, .flags = kReadOnly | kFast, .handler = DbSize});
  table.Add({.name = "flushdb", .arity = -1, .flags = kWrite, .handler = FlushDb});
  table.Add({.name = "flushall", .arity = -1, .flags = kWrite, .handler = FlushAll});
  table.Add({.name = "time", .arity = 1, .flags = kLoading | kStale | kFast, .handler = Time});
  table.Add({.name = "lastsave", .arity = 1, .flags = kLoading | kStale | kFast,
             .handler = LastSave});
  table.Add({.name = "shutdown", .arity = -1,
             .flags = kAdmin | kNoScript | kLoading | kStale | kNoMulti,
             .handler = Shutdown});
}

}  // namespace shoal::cmd
