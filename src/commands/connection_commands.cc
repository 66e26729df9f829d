// Connection commands: PING ECHO HELLO AUTH QUIT RESET SELECT. They run on the connection's
// thread and change only that client's state.
#include <climits>

#include "commands/helpers.h"
#include "commands/register.h"
#include "server/client.h"
#include "server/multi_exec.h"

namespace shoal::cmd {
namespace {

void Ping(CommandContext& ctx) {
  if (ctx.argc() > 2) return ctx.ReplyError(protocol::WrongArityError("ping"));
  if (ctx.argc() == 2) return ctx.reply().Bulk(ctx.arg(1));
  ctx.reply().SimpleString("PONG");
}

void Echo(CommandContext& ctx) { ctx.reply().Bulk(ctx.arg(1)); }

// Redis's rule for client names: no spaces, newlines or other special characters.
bool ValidClientName(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// Checks AUTH credentials against the only user we have, "default".
bool CheckCredentials(CommandContext& ctx, std::string_view user, std::string_view pass) {
  std::string required = ctx.server().config.GetString("requirepass");
  if (user != "default") return false;
  return required.empty() || required == pass;
}

constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

void Hello(CommandContext& ctx) {
  server::Client& c = *ctx.client();
  int64_t version = 0;
  size_t next = 1;
  if (ctx.argc() >= 2) {
    std::optional<int64_t> v = ParseInt64(ctx.arg(next++));
    if (!v) return ctx.ReplyError("ERR Protocol version is not an integer or out of range");
    if (*v < 2 || *v > 3) return ctx.ReplyError("NOPROTO unsupported protocol version");
    version = *v;
  }
  std::string_view user, pass, name;
  bool auth = false, setname = false;
  for (size_t j = next; j < ctx.argc(); ++j) {
    size_t more = ctx.argc() - 1 - j;
    if (ArgIs(ctx.arg(j), "AUTH") && more >= 2) {
      user = ctx.arg(j + 1);
      pass = ctx.arg(j + 2);
      auth = true;
      j += 2;
    } else if (ArgIs(ctx.arg(j), "SETNAME") && more >= 1) {
      name = ctx.arg(j + 1);
      setname = true;
      ++j;
    } else {
      return ctx.ReplyError("ERR Syntax error in HELLO option '" + CStr(ctx.arg(j)) + "'");
    }
  }
  if (auth) {
    if (!CheckCredentials(ctx, user, pass)) return ctx.ReplyError(kWrongPass);
    c.authenticated = true;
  } else if (!c.authenticated) {
    return ctx.ReplyError(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        "protocol version at the same time");
  }
  if (setname) {
    if (!ValidClientName(name)) {
      return ctx.ReplyError(
          "ERR Client names cannot contain spaces, newlines or special characters.");
    }
    c.name = std::string(name);
  }
  if (version != 0) {
    c.resp = static_cast<int>(version);
    c.reply().set_resp_version(c.resp);
  }
  protocol::ReplyBuilder& r = ctx.reply();
  r.MapHeader(7);
  r.Bulk("server");
  r.Bulk("redis");
  r.Bulk("version");
  r.Bulk(ctx.server().config.GetString("redis-version"));
  r.Bulk("proto");
  r.Integer(c.resp);
  r.Bulk("id");
  r.Integer(static_cast<int64_t>(c.id()));
  r.Bulk("mode");
  r.Bulk("standalone");
  r.Bulk("role");
  r.Bulk("master");
  r.Bulk("modules");
  r.ArrayHeader(0);
}

void Auth(CommandContext& ctx) {
  std::string required = ctx.server().config.GetString("requirepass");
  if (ctx.argc() > 3) return ctx.ReplyError(Status::Syntax());
  if (ctx.argc() == 2 && required.empty()) {
    return ctx.ReplyError(
        "ERR AUTH <password> called without any password configured for the default user. Are "
        "you sure your configuration is correct?");
  }
  std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : "default";
  std::string_view pass = ctx.arg(ctx.argc() - 1);
  if (!CheckCredentials(ctx, user, pass)) return ctx.ReplyError(kWrongPass);
  ctx.client()->authenticated = true;
  ctx.reply().Ok();
}

void Quit(CommandContext& ctx) {
  ctx.reply().Ok();
  ctx.client()->close_after_reply = true;
}

void Reset(CommandContext& ctx) {
  server::Client& c = *ctx.client();
  c.db_index = 0;
  c.resp = 2;
  c.reply().set_resp_version(2);
  c.name.clear();
  c.authenticated = ctx.server().config.GetString("requirepass").empty();
  server::ForgetTransactionState(c);
  ctx.reply().SimpleString("RESET");
}

void Select(CommandContext& ctx) {
  std::optional<int64_t> id = ParseInt64(ctx.arg(1));
  if (!id || *id < INT_MIN || *id > INT_MAX) return ctx.ReplyError(Status::NotInteger());
  if (*id < 0 || *id >= ctx.shard().num_dbs()) return ctx.ReplyError(protocol::kErrDbIndex);
  ctx.client()->db_index = static_cast<int>(*id);
  ctx.reply().Ok();
}

}  // namespace

void RegisterConnectionCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "ping", .arity = -1, .flags = kFast, .handler = Ping});
  table.Add({.name = "echo", .arity = 2, .flags = kFast, .handler = Echo});
  table.Add({.name = "hello", .arity = -1, .flags = kNoScript | kLoading | kStale | kFast | kNoAuth,
             .handler = Hello});
  table.Add({.name = "auth", .arity = -2, .flags = kNoScript | kLoading | kStale | kFast | kNoAuth,
             .handler = Auth});
  table.Add({.name = "quit", .arity = -1, .flags = kNoScript | kLoading | kStale | kFast | kNoAuth,
             .handler = Quit});
  table.Add({.name = "reset", .arity = 1, .flags = kNoScript | kLoading | kStale | kFast | kNoAuth,
             .handler = Reset});
  table.Add({.name = "select", .arity = 2, .flags = kLoading | kStale | kFast, .handler = Select});
}

}  // namespace shoal::cmd
