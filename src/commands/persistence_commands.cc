// Persistence commands: SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF. (LASTSAVE and SHUTDOWN live with the server
// commands; INFO persistence with INFO.) The work is snapshot/snapshotter.h's.
#include "commands/helpers.h"
#include "commands/register.h"
#include "server/client.h"
#include "durability/aof_manager.h"
#include "snapshot/snapshotter.h"

namespace shoal::cmd {
namespace {

using snapshot::SaveKind;
using snapshot::Snapshotter;

// SAVE: Redis blocks the whole server until the file is written; here only the caller waits
// (its reply comes when the file is on disk) while the shards keep serving everyone else.
void Save(CommandContext& ctx) {
  server::Client* c = ctx.client();
  c->in_flight++;
  Status s = Snapshotter::Get().Start(ctx.shard(), SaveKind::kForeground, [c](const Status& st) {
    c->in_flight--;
    if (st.ok()) {
      c->reply().Ok();
    } else {
      c->reply().Error("ERR");
    }
    c->AsyncDone();
  });
  if (!s.ok()) {
    c->in_flight--;
    return ctx.ReplyError(s.message());
  }
  ctx.Suspend();
}

void BgSave(CommandContext& ctx) {
  bool schedule = false;
  if (ctx.argc() > 2) return ctx.ReplyError(Status::Syntax());
  if (ctx.argc() == 2) {
    if (!ArgIs(ctx.arg(1), "SCHEDULE")) return ctx.ReplyError(Status::Syntax());
    schedule = true;
  }
  Snapshotter& snap = Snapshotter::Get();
  if (durability::AofManager::Get().Info().rewrite_in_progress) {
    // The AOF rewrite is a snapshot too (Redis: its child process); one runs at a time.
    if (!schedule) {
      return ctx.ReplyError(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
          "SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
    snap.Schedule();
    return ctx.reply().SimpleString("Background saving scheduled");
  }
  if (snap.in_progress()) return ctx.ReplyError("ERR Background save already in progress");
  if (ctx.client() != nullptr && ctx.client()->in_exec) {
    // As Redis: not inside a transaction's atomic run; right after it.
    snap.Schedule();
    return ctx.reply().SimpleString("Background saving scheduled");
  }
  Status s = snap.Start(ctx.shard(), SaveKind::kBackground, nullptr);
  if (!s.ok()) return ctx.ReplyError(s.message());
  ctx.reply().SimpleString("Background saving started");
}

void BgRewriteAof(CommandContext& ctx) {
  durability::AofManager& aof = durability::AofManager::Get();
  if (ctx.client() != nullptr && ctx.client()->in_exec) {
    if (aof.Info().rewrite_in_progress) {
      return ctx.ReplyError("ERR Background append only file rewriting already in progress");
    }
    aof.ScheduleRewrite();  // Right after the transaction, from the cron.
    return ctx.reply().SimpleString("Background append only file rewriting scheduled");
  }
  Status s = aof.Rewrite(ctx.shard(), nullptr);
  if (!s.ok() && s.message() == "SCHEDULED") {
    return ctx.reply().SimpleString("Background append only file rewriting scheduled");
  }
  if (!s.ok()) return ctx.ReplyError(s.message());
  ctx.reply().SimpleString("Background append only file rewriting started");
}

}  // namespace

void RegisterPersistenceCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "save", .arity = 1, .flags = kAdmin | kNoScript | kNoMulti,
             .handler = Save});
  table.Add({.name = "bgsave", .arity = -1, .flags = kAdmin | kNoScript, .handler = BgSave});
  table.Add({.name = "bgrewriteaof", .arity = 1, .flags = kAdmin | kNoScript,
             .handler = BgRewriteAof});
}

}  // namespace shoal::cmd
