// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP.
#include "commands/helpers.h"
#include "storage/access_stats.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

// OBJECT looks a key up without touching its access time, as Redis does.
storage::Entry* Lookup(CommandContext& ctx) {
  storage::Entry* e = ctx.db().Find(ctx.arg(2), ctx.now_ms(), kReadNoTouch);
  if (e == nullptr) ctx.reply().Null();
  return e;
}

void Encoding(CommandContext& ctx) {
  if (storage::Entry* e = Lookup(ctx)) ctx.reply().Bulk(e->value.EncodingName());
}

void RefCount(CommandContext& ctx) {
  if (storage::Entry* e = Lookup(ctx)) ctx.reply().Integer(e->value.RefCount());
}

void IdleTime(CommandContext& ctx) {
  storage::Entry* e = Lookup(ctx);
  if (e == nullptr) return;
  if (storage::AccessStats::LfuMode()) {
    return ctx.ReplyError(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.");
  }
  ctx.reply().Integer(storage::AccessStats::IdleSeconds(e->access_time, ctx.now_ms()));
}

void Freq(CommandContext& ctx) {
  storage::Entry* e = Lookup(ctx);
  if (e == nullptr) return;
  if (!storage::AccessStats::LfuMode()) {
    return ctx.ReplyError(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time "
        "to adjust.");
  }
  ctx.reply().Integer(storage::AccessStats::Frequency(e->access_time, ctx.now_ms()));
}

void Help(CommandContext& ctx) {
  static const char* const kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  ReplyHelpLines(ctx, kLines);
}

}  // namespace

void RegisterObjectCommand(server::CommandTable& table) {
  using namespace server;
  CommandSpec object{.name = "object", .arity = -2};
  object.AddSubcommand("encoding", 3, kReadOnly, Encoding, 2);
  object.AddSubcommand("freq", 3, kReadOnly, Freq, 2);
  object.AddSubcommand("idletime", 3, kReadOnly, IdleTime, 2);
  object.AddSubcommand("refcount", 3, kReadOnly, RefCount, 2);
  object.AddSubcommand("help", 2, kLoading | kStale, Help);
  table.Add(std::move(object));
}

}  // namespace shoal::cmd
