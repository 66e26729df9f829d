// Server commands: DBSIZE FLUSHDB FLUSHALL TIME LASTSAVE SHUTDOWN.
#include <atomic>

#include "commands/helpers.h"
#include "common/logging.h"
#include "commands/register.h"
#include "server/client.h"
#include "server/watch.h"
#include "snapshot/save_points.h"
#include "snapshot/snapshotter.h"

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

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: saves first when SAVE is given or save points are
// set (unless NOSAVE); a failed save keeps the server up (unless FORCE), as in Redis.
void Shutdown(CommandContext& ctx) {
  bool nosave = false, save = false, force = false;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (ArgIs(a, "NOSAVE")) {
      nosave = true;
    } else if (ArgIs(a, "SAVE")) {
      save = true;
    } else if (ArgIs(a, "FORCE")) {
      force = true;
    } else if (!ArgIs(a, "NOW") && !ArgIs(a, "ABORT")) {
      return ctx.ReplyError(Status::Syntax());
    }
    if (ArgIs(a, "ABORT")) return ctx.ReplyError("ERR No shutdown in progress.");
  }
  if (save && nosave) return ctx.ReplyError(Status::Syntax());
  server::ServerState& state = ctx.server();
  std::vector<snapshot::SavePoint> points;
  snapshot::ParseSavePoints(state.config.GetString("save"), &points);
  // No reply on success: the connection closes as the server goes down, as with Redis.
  auto go_down = [](server::Client* c) {
    c->close_after_reply = true;
    server::ServerState::Get().shutdown_skip_save = true;
    server::ServerState::Get().request_shutdown();
  };
  if (nosave || (!save && points.empty())) return go_down(ctx.client());
  server::Client* c = ctx.client();
  c->in_flight++;
  Status s = snapshot::Snapshotter::Get().Start(
      ctx.shard(), snapshot::SaveKind::kForeground,
      [c, force, go_down](const Status& st) {
        c->in_flight--;
        if (st.ok() || force) {
          go_down(c);
        } else {
          SHOAL_LOG(kWarning, "Error trying to save the DB, can't exit.");
          c->reply().Error("ERR Errors trying to SHUTDOWN. Check logs.");
        }
        c->AsyncDone();
      },
      /*queue_if_running=*/true);
  if (!s.ok()) {
    c->in_flight--;
    if (force) return go_down(c);
    return ctx.ReplyError("ERR Errors trying to SHUTDOWN. Check logs.");
  }
  ctx.Suspend();
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
