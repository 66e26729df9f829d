// CONFIG GET | SET | RESETSTAT | HELP.
#include <set>

#include "commands/helpers.h"
#include "durability/aof_manager.h"
#include "commands/register.h"
#include "server/thread_state.h"

namespace shoal::cmd {
namespace {

void Get(CommandContext& ctx) {
  // Several patterns may match one parameter; each appears once, as in Redis 7.
  std::vector<std::pair<std::string, std::string>> all;
  std::set<std::string> seen;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    for (auto& kv : ctx.server().config.Get(ctx.arg(i))) {
      if (seen.insert(kv.first).second) all.push_back(std::move(kv));
    }
  }
  ctx.reply().MapHeader(all.size());
  for (const auto& [k, v] : all) {
    ctx.reply().Bulk(k);
    ctx.reply().Bulk(v);
  }
}

// The append-only file follows its parameters at once.
Status ApplyPersistence(CommandContext& ctx, std::string_view name, const std::string& value) {
  durability::AofManager& aof = durability::AofManager::Get();
  if (EqualsIgnoreCase(name, "appendfsync")) aof.SetFsyncPolicy(value);
  if (EqualsIgnoreCase(name, "appendonly")) {
    if (value == "yes") return aof.EnableAtRuntime(ctx.shard());
    aof.DisableAtRuntime();
  }
  return Status::Ok();
}

void Set(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) return ctx.ReplyError(Status::Syntax());
  // Validate everything before applying anything, so a bad pair leaves the config unchanged.
  std::set<std::string> names;
  server::Config& config = ctx.server().config;
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    if (!config.Has(ctx.arg(i))) {
      return ctx.ReplyError("ERR Unknown option or number of arguments for CONFIG SET - '" +
                            CStr(ctx.arg(i)) + "'");
    }
    if (!names.insert(AsciiToLower(ctx.arg(i))).second) {
      return ctx.ReplyError("ERR CONFIG SET failed (possibly related to argument '" +
                            CStr(ctx.arg(i)) + "') - duplicate parameter");
    }
  }
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    Status s = config.Validate(ctx.arg(i), ctx.arg(i + 1), /*at_startup=*/false);
    if (!s.ok()) return ctx.ReplyError(s);
  }
  for (size_t i = 2; i < ctx.argc(); i += 2) {
    Status s = config.Set(ctx.arg(i), ctx.arg(i + 1), /*at_startup=*/false);
    if (!s.ok()) return ctx.ReplyError(s);
    s = ApplyPersistence(ctx, ctx.arg(i), config.GetString(ctx.arg(i)));
    if (!s.ok()) return ctx.ReplyError(s.message());
  }
  ctx.reply().Ok();
}

void ResetStat(CommandContext& ctx) {
  ctx.FanOutAll([](shard::Shard&) { server::ThreadState::Get().ResetStats(); },
                [](CommandContext& c) { c.reply().Ok(); });
}

void Help(CommandContext& ctx) {
  static const char* const kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "HELP",
      "    Print this help.",
  };
  ReplyHelpLines(ctx, kLines);
}

}  // namespace

void RegisterConfigCommand(server::CommandTable& table) {
  using namespace server;
  CommandSpec config{.name = "config", .arity = -2};
  config.AddSubcommand("get", -3, kAdmin | kNoScript | kLoading | kStale, Get);
  config.AddSubcommand("set", -4, kAdmin | kNoScript | kLoading | kStale, Set);
  config.AddSubcommand("resetstat", 2, kAdmin | kNoScript | kLoading | kStale, ResetStat);
  config.AddSubcommand("help", 2, kLoading | kStale, Help);
  table.Add(std::move(config));
}

}  // namespace shoal::cmd
