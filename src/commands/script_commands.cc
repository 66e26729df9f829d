// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD EXISTS FLUSH KILL HELP).
//
// Where a script runs: the dispatcher routes EVAL by its declared keys (NumkeysKeys). All on one
// shard: the handler runs there and every redis.call runs inline on that shard (LocalRunner),
// so the script is atomic: nothing else runs on the shard meanwhile. No keys: it runs on the
// connection's own shard. Keys on several shards: the coordinator, which the transaction layer
// provides (until then it replies an error). The Lua side is src/script/.
#include <optional>
#include <vector>

#include "commands/helpers.h"
#include "commands/script_runner.h"
#include "commands/script_scope.h"
#include "script/busy.h"
#include "script/lua_engine.h"
#include "script/registry.h"
#include "script/sha1.h"
#include "server/command_table.h"
#include "server/write_log.h"

namespace shoal::cmd {

namespace {

// Parses EVAL's arguments into `req`; replies the error and returns false if they are bad.
bool ParseEval(CommandContext& ctx, bool by_sha, bool read_only, script::EvalRequest* req) {
  std::optional<int64_t> numkeys = ParseInt64(ctx.arg(2));
  if (!numkeys) {
    ctx.ReplyError(Status::NotInteger());
    return false;
  }
  if (*numkeys > static_cast<int64_t>(ctx.argc()) - 3) {
    ctx.ReplyError("ERR Number of keys can't be greater than number of args");
    return false;
  }
  if (*numkeys < 0) {
    ctx.ReplyError("ERR Number of keys can't be negative");
    return false;
  }
  size_t first_arg = 3 + static_cast<size_t>(*numkeys);
  req->by_sha = by_sha;
  (by_sha ? req->sha : req->body) = ctx.arg(1);
  req->keys = ctx.args().subspan(3, first_arg - 3);
  req->args = ctx.args().subspan(first_arg);
  req->ro_command = read_only;
  req->busy_ms = ctx.server().config.busy_reply_threshold.load(std::memory_order_relaxed);
  return true;
}

void RunEval(CommandContext& ctx, const script::EvalRequest& req, script::CommandRunner& runner) {
  runner.now_ms = ctx.now_ms();
  size_t before = ctx.reply().buffer()->size();
  // The script's writes, wherever its calls run, are logged whole: replayed all or nothing.
  server::LogBuffer writes;
  {
    server::ScopedCapture capture(&writes);
    script::LuaEngine::ThisThread().Eval(req, runner, ctx.reply());
  }
  server::WriteLog::Commit(writes);
  // Stopped by shutdown: like Redis, which exits from inside the script, send nothing.
  if (script::ScriptsAborted()) ctx.reply().buffer()->resize(before);
}

// Declared keys on one shard (the handler runs there), or none, for a script proven to touch
// only what it declares (script_scope.h); or any script when there is a single shard.
void EvalGeneric(CommandContext& ctx, bool by_sha, bool read_only) {
  script::EvalRequest req;
  if (!ParseEval(ctx, by_sha, read_only, &req)) return;
  LocalRunner runner(ctx.shard(), ctx.db_index(), ScriptShaOf(ctx.args()), ctx.in_transaction());
  RunEval(ctx, req, runner);
}

void Eval(CommandContext& ctx) { EvalGeneric(ctx, false, false); }
void EvalRo(CommandContext& ctx) { EvalGeneric(ctx, false, true); }
void EvalSha(CommandContext& ctx) { EvalGeneric(ctx, true, false); }
void EvalShaRo(CommandContext& ctx) { EvalGeneric(ctx, true, true); }

// On the client's thread, inside a transaction (server/atomic_run.h) holding either every shard
// (a script not proven to keep to its declared keys) or the declared keys on their shards.
void EvalAcrossShards(CommandContext& ctx) {
  std::string_view name = ctx.spec().name;
  bool by_sha = name == "evalsha" || name == "evalsha_ro";
  bool read_only = name == "eval_ro" || name == "evalsha_ro";
  script::EvalRequest req;
  if (!ParseEval(ctx, by_sha, read_only, &req)) return;
  std::string sha = ScriptShaOf(ctx.args());
  const bool all = ctx.holds_all_shards();
  TxRunner runner(ctx.shard(), ctx.db_index(), all, req.keys, sha);
  size_t before = ctx.reply().buffer()->size();
  RunEval(ctx, req, runner);
  std::string_view reply = std::string_view(*ctx.reply().buffer()).substr(before);
  // A clean run over every shard that kept to its declared keys proves the script's scope.
  if (all && !runner.touched_undeclared() && !reply.empty() && reply[0] != '-') {
    ProveScript(sha);
  }
}

void ScriptLoad(CommandContext& ctx) {
  script::LuaEngine::ThisThread().Load(ctx.arg(2), ctx.reply());
}

void ScriptExists(CommandContext& ctx) {
  ctx.reply().ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.reply().Integer(script::ScriptRegistry::Get().Exists(script::LowerSha(ctx.arg(i))) ? 1 : 0);
  }
}

void ScriptFlush(CommandContext& ctx) {
  // ASYNC and SYNC both free the cache at once: it is small, and each VM rebuilds itself lazily.
  if (ctx.argc() > 3 ||
      (ctx.argc() == 3 && !ArgIs(ctx.arg(2), "ASYNC") && !ArgIs(ctx.arg(2), "SYNC"))) {
    return ctx.ReplyError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  script::ScriptRegistry::Get().Flush();
  ForgetProvenScripts();
  ctx.reply().Ok();
}

void ScriptKill(CommandContext& ctx) {
  switch (script::BusyScripts::Get().Kill()) {
    case script::KillResult::kKilled:
      return ctx.reply().Ok();
    case script::KillResult::kNotBusy:
      return ctx.ReplyError(script::kErrNotBusy);
    case script::KillResult::kUnkillable:
      return ctx.ReplyError(script::kErrUnkillable);
  }
}

void ScriptHelp(CommandContext& ctx) {
  static const char* const kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help.",
  };
  ReplyHelpLines(ctx, kLines);
}

}  // namespace

void RegisterScriptCommands(server::CommandTable& table) {
  using namespace server;
  constexpr uint32_t kEvalFlags = kNoScript | kStale;
  auto add = [&](const char* name, uint32_t flags, CommandHandler h) {
    table.Add({.name = name,
               .arity = -3,
               .flags = flags,
               .handler = h,
               .coordinator = EvalAcrossShards,
               .get_keys = NumkeysKeys<0, 2>,
               .lock_all = ScriptNeedsAllShards});
  };
  add("eval", kEvalFlags, Eval);
  add("evalsha", kEvalFlags, EvalSha);
  add("eval_ro", kEvalFlags | kReadOnly, EvalRo);
  add("evalsha_ro", kEvalFlags | kReadOnly, EvalShaRo);
  CommandSpec script{.name = "script", .arity = -2};
  script.AddSubcommand("load", 3, kNoScript | kStale, ScriptLoad);
  script.AddSubcommand("exists", -3, kNoScript, ScriptExists);
  script.AddSubcommand("flush", -2, kNoScript, ScriptFlush);
  script.AddSubcommand("kill", 2, kNoScript, ScriptKill);
  script.AddSubcommand("help", 2, kLoading | kStale, ScriptHelp);
  table.Add(std::move(script));
}

}  // namespace shoal::cmd
