// CLIENT ID | SETNAME | GETNAME | LIST | INFO | KILL | NO-EVICT | HELP.
// Clients live on their home shard threads, so LIST and KILL visit every shard by message.
#include <atomic>
#include <climits>

#include "commands/helpers.h"
#include "commands/register.h"
#include "server/client.h"
#include "server/thread_state.h"

namespace shoal::cmd {
namespace {

using server::Client;

void Id(CommandContext& ctx) { ctx.reply().Integer(static_cast<int64_t>(ctx.client()->id())); }

void SetName(CommandContext& ctx) {
  std::string_view name = ctx.arg(2);
  for (char c : name) {
    if (c < '!' || c > '~') {
      return ctx.ReplyError(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
  }
  ctx.client()->name = std::string(name);
  ctx.reply().Ok();
}

void GetName(CommandContext& ctx) {
  const std::string& name = ctx.client()->name;
  if (name.empty()) return ctx.reply().Null();
  ctx.reply().Bulk(name);
}

void Info(CommandContext& ctx) { ctx.reply().Verbatim(ctx.client()->Describe() + "\n"); }

// Redis's client types; every Shoal client is "normal".
bool KnownClientType(std::string_view t) {
  return ArgIs(t, "normal") || ArgIs(t, "master") || ArgIs(t, "slave") || ArgIs(t, "replica") ||
         ArgIs(t, "pubsub");
}

void List(CommandContext& ctx) {
  bool only_normal = true;  // TYPE normal, or no filter: every client of ours.
  auto ids = std::make_shared<std::vector<uint64_t>>();
  bool filter_ids = false;
  if (ctx.argc() == 4 && ArgIs(ctx.arg(2), "TYPE")) {
    if (!KnownClientType(ctx.arg(3))) {
      return ctx.ReplyError("ERR Unknown client type '" + CStr(ctx.arg(3)) + "'");
    }
    only_normal = ArgIs(ctx.arg(3), "normal");
  } else if (ctx.argc() > 3 && ArgIs(ctx.arg(2), "ID")) {
    filter_ids = true;
    for (size_t j = 3; j < ctx.argc(); ++j) {
      std::optional<int64_t> id = ParseInt64(ctx.arg(j));
      if (!id) return ctx.ReplyError("ERR Invalid client ID");
      ids->push_back(static_cast<uint64_t>(*id));
    }
  } else if (ctx.argc() != 2) {
    return ctx.ReplyError(Status::Syntax());
  }
  size_t n = ctx.server().shards->size();
  auto lines = std::make_shared<std::vector<std::vector<std::pair<uint64_t, std::string>>>>(n);
  ctx.FanOutAll(
      [lines, ids, filter_ids, only_normal](shard::Shard& s) {
        if (!only_normal) return;
        for (Client* c : server::ThreadState::Get().clients) {
          if (filter_ids && std::find(ids->begin(), ids->end(), c->id()) == ids->end()) continue;
          (*lines)[s.id()].emplace_back(c->id(), c->Describe());
        }
      },
      [lines, ids, filter_ids](CommandContext& c) {
        std::vector<std::pair<uint64_t, std::string>> all;
        for (auto& v : *lines) all.insert(all.end(), v.begin(), v.end());
        std::string text;
        if (filter_ids) {
          // In the order the IDs were given, as Redis answers.
          for (uint64_t id : *ids) {
            for (auto& [cid, line] : all) {
              if (cid == id) text += line + "\n";
            }
          }
        } else {
          std::sort(all.begin(), all.end());
          for (auto& [cid, line] : all) text += line + "\n";
        }
        c.reply().Verbatim(text);
      });
}

struct KillFilter {
  uint64_t id = 0;
  std::string addr, laddr;
  bool normal_only = true;
  bool type_set = false;
  bool skipme = true;
  uint64_t self = 0;
};

void Kill(CommandContext& ctx) {
  auto f = std::make_shared<KillFilter>();
  f->self = ctx.client()->id();
  const bool old_style = ctx.argc() == 3;
  if (old_style) {
    f->addr = std::string(ctx.arg(2));
    f->skipme = false;  // The old form may kill the caller.
  } else {
    for (size_t i = 2; i < ctx.argc(); i += 2) {
      bool more = i + 1 < ctx.argc();
      std::string_view opt = ctx.arg(i);
      if (ArgIs(opt, "ID") && more) {
        std::optional<int64_t> id = ParseInt64(ctx.arg(i + 1));
        if (!id || *id < 1) return ctx.ReplyError("ERR client-id should be greater than 0");
        f->id = static_cast<uint64_t>(*id);
      } else if (ArgIs(opt, "TYPE") && more) {
        if (!KnownClientType(ctx.arg(i + 1))) {
          return ctx.ReplyError("ERR Unknown client type '" + CStr(ctx.arg(i + 1)) + "'");
        }
        f->type_set = true;
        f->normal_only = ArgIs(ctx.arg(i + 1), "normal");
      } else if (ArgIs(opt, "ADDR") && more) {
        f->addr = std::string(ctx.arg(i + 1));
      } else if (ArgIs(opt, "LADDR") && more) {
        f->laddr = std::string(ctx.arg(i + 1));
      } else if (ArgIs(opt, "USER") && more) {
        if (ctx.arg(i + 1) != "default") {
          return ctx.ReplyError("ERR No such user '" + CStr(ctx.arg(i + 1)) + "'");
        }
      } else if (ArgIs(opt, "SKIPME") && more) {
        if (ArgIs(ctx.arg(i + 1), "yes")) {
          f->skipme = true;
        } else if (ArgIs(ctx.arg(i + 1), "no")) {
          f->skipme = false;
        } else {
          return ctx.ReplyError(Status::Syntax());
        }
      } else {
        return ctx.ReplyError(Status::Syntax());
      }
    }
  }
  auto killed = std::make_shared<std::atomic<int64_t>>(0);
  auto kill_self = std::make_shared<std::atomic<bool>>(false);
  ctx.FanOutAll(
      [f, killed, kill_self](shard::Shard&) {
        if (!f->normal_only) return;
        std::vector<Client*> victims;
        for (Client* c : server::ThreadState::Get().clients) {
          if (f->id != 0 && c->id() != f->id) continue;
          if (!f->addr.empty() && c->peer_addr != f->addr) continue;
          if (!f->laddr.empty() && c->local_addr != f->laddr) continue;
          if (c->id() == f->self) {
            if (f->skipme) continue;
            kill_self->store(true);  // Closed after this reply, not before it.
            killed->fetch_add(1);
            continue;
          }
          victims.push_back(c);
        }
        for (Client* c : victims) {
          c->Kill();
          killed->fetch_add(1);
        }
      },
      [killed, kill_self, old_style](CommandContext& c) {
        if (kill_self->load()) c.client()->close_after_reply = true;
        if (old_style) {
          if (killed->load() == 0) return c.ReplyError("ERR No such client");
          return c.reply().Ok();
        }
        c.reply().Integer(killed->load());
      });
}

void NoEvict(CommandContext& ctx) {
  if (!ArgIs(ctx.arg(2), "on") && !ArgIs(ctx.arg(2), "off")) {
    return ctx.ReplyError(Status::Syntax());
  }
  ctx.reply().Ok();  // Shoal never evicts clients, so either setting holds.
}

void Help(CommandContext& ctx) {
  static const char* const kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "    * ID <client-id>",
      "      Kill connections by client id.",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "HELP",
      "    Print this help.",
  };
  ReplyHelpLines(ctx, kLines);
}

}  // namespace

void RegisterClientCommand(server::CommandTable& table) {
  using namespace server;
  CommandSpec client{.name = "client", .arity = -2};
  constexpr uint32_t kFlags = kNoScript | kLoading | kStale;
  client.AddSubcommand("id", 2, kFlags, Id);
  client.AddSubcommand("setname", 3, kFlags, SetName);
  client.AddSubcommand("getname", 2, kFlags, GetName);
  client.AddSubcommand("list", -2, kFlags, List);
  client.AddSubcommand("info", 2, kFlags, Info);
  client.AddSubcommand("kill", -3, kFlags, Kill);
  client.AddSubcommand("no-evict", 3, kFlags, NoEvict);
  client.AddSubcommand("help", 2, kLoading | kStale, Help);  // Scripts may call it.
  table.Add(std::move(client));
}

}  // namespace shoal::cmd
