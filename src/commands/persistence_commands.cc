// Snapshot commands: SAVE, BGSAVE [SCHEDULE]. (LASTSAVE and SHUTDOWN live with the server
// commands; INFO persistence with INFO.) The work is snapshot/snapshotter.h's.
#include "commands/helpers.h"
#include "commands/register.h"
#include "server/client.h"
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
  (void)schedule;  // With no other background work (AOF rewrite) to wait for, it starts now.
  Snapshotter& snap = Snapshotter::Get();
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

}  // namespace

void RegisterPersistenceCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "save", .arity = 1, .flags = kAdmin | kNoScript | kNoMulti,
             .handler = Save});
  table.Add({.name = "bgsave", .arity = -1, .flags = kAdmin | kNoScript, .handler = BgSave});
}

}  // namespace shoal::cmd
