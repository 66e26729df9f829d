#include "script/lua_api.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

extern "C" {
#include <lauxlib.h>
}

#include "common/logging.h"
#include "script/lua_convert.h"
#include "script/sha1.h"
#include "server/command_table.h"

namespace shoal::script {

namespace {

const char kRunKey[] = "shoal_script_run";

// Raises Redis's error table for `msg` (code ERR unless msg is "-CODE ...").
// Note: lua_error longjmps; callers hold no C++ object with a destructor at that point.
int RaiseError(lua_State* L, const char* msg) {
  PushErrorTable(L, msg);
  return lua_error(L);
}

// ---- redis.call / redis.pcall --------------------------------------------------------------

// Converts the call's arguments; false (with nothing pushed) if one is neither string nor number.
bool CollectArgs(lua_State* L, int argc, std::vector<std::string>* args) {
  args->resize(argc);
  for (int j = 0; j < argc; ++j) {
    if (lua_type(L, j + 1) == LUA_TNUMBER) {
      // Not lua_tolstring: Lua's "%.14g" loses precision.
      char buf[64];
      int n = snprintf(buf, sizeof(buf), "%.17g", static_cast<double>(lua_tonumber(L, j + 1)));
      (*args)[j].assign(buf, n);
    } else {
      size_t len;
      const char* s = lua_tolstring(L, j + 1, &len);
      if (s == nullptr) return false;
      (*args)[j].assign(s, len);
    }
  }
  return true;
}

// Runs the call and pushes its converted reply. Returns true if the reply is an error.
bool RunCall(lua_State* L, ScriptRun* run, int argc, bool* bad_args) {
  std::vector<std::string> args;
  *bad_args = !CollectArgs(L, argc, &args);
  lua_pop(L, argc);
  if (*bad_args) return true;
  std::vector<std::string_view> argv(args.begin(), args.end());
  run->reply.clear();
  run->runner->Call(argv, run->resp, &run->reply);
  PushResp(L, run->reply);
  return !run->reply.empty() && run->reply[0] == '-';
}

int GenericCall(lua_State* L, bool raise) {
  ScriptRun* run = CurrentRun(L);
  if (run == nullptr) {
    return RaiseError(L, "redis.call/pcall can only be called inside a script invocation");
  }
  int argc = lua_gettop(L);
  if (argc == 0) {
    PushErrorTable(L, "Please specify at least one argument for this redis lib call");
    return raise ? lua_error(L) : 1;
  }
  bool bad_args = false;
  bool is_error = RunCall(L, run, argc, &bad_args);
  if (bad_args) {
    PushErrorTable(L, "Lua redis lib command arguments must be strings or integers");
    return raise ? lua_error(L) : 1;
  }
  if (raise && is_error) return lua_error(L);  // The error table is on the stack.
  return 1;
}

int Call(lua_State* L) { return GenericCall(L, true); }
int PCall(lua_State* L) { return GenericCall(L, false); }

// ---- the other redis.* functions -----------------------------------------------------------

int Sha1hex(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "wrong number of arguments");
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  char digest[41];
  {
    std::string hex = Sha1Hex(s == nullptr ? std::string_view() : std::string_view(s, len));
    memcpy(digest, hex.c_str(), 41);
  }
  lua_pushstring(L, digest);
  return 1;
}

int ErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  size_t len;
  const char* s = lua_tolstring(L, -1, &len);
  std::string_view text(s, len);
  if (!text.empty() && text[0] == '-') {
    PushErrorTable(L, text);
  } else {
    PushErrorTable(L, std::string("-").append(text));
  }
  return 1;
}

int StatusReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    PushErrorTable(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, "ok");
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  return 1;
}

int Log(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc < 2) return RaiseError(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, -argc)) return RaiseError(L, "First argument must be a number (log level).");
  int level = static_cast<int>(lua_tonumber(L, -argc));
  if (level < 0 || level > 3) return RaiseError(L, "Invalid debug level.");
  if (level < static_cast<int>(GetLogLevel())) return 0;
  {
    std::string line;
    for (int j = 1; j < argc; ++j) {
      size_t len;
      const char* s = lua_tolstring(L, -argc + j, &len);
      if (s == nullptr) continue;
      if (j != 1) line.push_back(' ');
      line.append(s, len);
    }
    LogLine(static_cast<LogLevel>(level), line);
  }
  return 0;
}

int SetResp(lua_State* L) {
  ScriptRun* run = CurrentRun(L);
  if (run == nullptr) {
    return RaiseError(L, "redis.setresp can only be called inside a script invocation");
  }
  if (lua_gettop(L) != 1) return RaiseError(L, "redis.setresp() requires one argument.");
  int resp = static_cast<int>(lua_tonumber(L, -1));
  if (resp != 2 && resp != 3) return RaiseError(L, "RESP version must be 2 or 3.");
  run->resp = resp;
  return 0;
}

// Replication is not Shoal's yet; Redis 7.0 always replicates effects, so these only validate.
int SetRepl(lua_State* L) {
  if (CurrentRun(L) == nullptr) {
    return RaiseError(L, "redis.set_repl can only be called inside a script invocation");
  }
  if (lua_gettop(L) != 1) return RaiseError(L, "redis.set_repl() requires two arguments.");
  int flags = static_cast<int>(lua_tonumber(L, -1));
  if ((flags & ~3) != 0) {
    return RaiseError(
        L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  }
  return 0;
}

int ReplicateCommands(lua_State* L) {
  lua_pushboolean(L, 1);  // Redis 7.0: always on, kept for old scripts.
  return 1;
}

// The script debugger (SCRIPT DEBUG) is not supported: breakpoints never stop, debug is silent.
int Breakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int Debug(lua_State*) { return 0; }

// Shoal has only the default user, who may run everything.
int AclCheckCmd(lua_State* L) {
  if (CurrentRun(L) == nullptr) {
    return RaiseError(L, "redis.acl_check_cmd can only be called inside a script invocation");
  }
  int argc = lua_gettop(L);
  if (argc == 0)
    return RaiseError(L, "Please specify at least one argument for this redis lib call");
  bool bad_args, known = false;
  {
    std::vector<std::string> args;
    bad_args = !CollectArgs(L, argc, &args);
    if (!bad_args) {
      const server::CommandSpec* spec = server::GlobalCommandTable().Find(args[0]);
      if (spec != nullptr && spec->is_container() && args.size() >= 2) {
        spec = server::CommandTable::FindSub(*spec, args[1]);
      }
      known = spec != nullptr;
    }
  }
  if (bad_args) {
    lua_pop(L, argc);
    return RaiseError(L, "Lua redis lib command arguments must be strings or integers");
  }
  lua_pop(L, argc);
  if (!known) return RaiseError(L, "Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, 1);
  return 1;
}

// ---- math.random: Redis's own lrand48, one sequence for the whole process ------------------

// 48-bit linear congruential state, as POSIX lrand48; Redis starts it at this value and never
// reseeds it except through math.randomseed, so the sequence runs across all scripts.
std::atomic<uint64_t> rand_state{0x1234ABCD330EULL};

int32_t Lrand48() {
  uint64_t x = rand_state.load(std::memory_order_relaxed), next;
  do {
    next = (x * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
  } while (!rand_state.compare_exchange_weak(x, next, std::memory_order_relaxed));
  return static_cast<int32_t>(next >> 17);
}

void Srand48(int32_t seed) {
  rand_state.store((static_cast<uint64_t>(static_cast<uint32_t>(seed)) << 16) | 0x330E,
                   std::memory_order_relaxed);
}

constexpr int32_t kLrand48Max = INT32_MAX;

int MathRandom(lua_State* L) {
  if (CurrentRun(L) == nullptr) {
    return luaL_error(L, "math.random can only be called inside a script invocation");
  }
  lua_Number r = static_cast<lua_Number>(Lrand48() % kLrand48Max) / kLrand48Max;
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, floor(r * u) + 1);
      break;
    }
    case 2: {
      int l = luaL_checkint(L, 1);
      int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int MathRandomseed(lua_State* L) {
  if (CurrentRun(L) == nullptr) {
    return luaL_error(L, "math.randomseed can only be called inside a script invocation");
  }
  Srand48(luaL_checkint(L, 1));
  return 0;
}

// Redis's pcall: an error that is a table with an `err` string comes back as that string, so
// that scripts written for Redis 6 (string errors) keep working.
int Pcall(lua_State* L) {
  int argc = lua_gettop(L);
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) {
        lua_replace(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

void SetNumber(lua_State* L, const char* name, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

void SetFunction(lua_State* L, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

}  // namespace

void SetCurrentRun(lua_State* L, ScriptRun* run) {
  lua_pushlightuserdata(L, run);
  lua_setfield(L, LUA_REGISTRYINDEX, kRunKey);
}

ScriptRun* CurrentRun(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kRunKey);
  auto* run = static_cast<ScriptRun*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return run;
}

void RegisterRedisApi(lua_State* L) {
  lua_newtable(L);
  SetFunction(L, "call", Call);
  SetFunction(L, "pcall", PCall);
  SetFunction(L, "log", Log);
  SetNumber(L, "LOG_DEBUG", 0);
  SetNumber(L, "LOG_VERBOSE", 1);
  SetNumber(L, "LOG_NOTICE", 2);
  SetNumber(L, "LOG_WARNING", 3);
  // The version Shoal reports everywhere (INFO server, HELLO).
  SetNumber(L, "REDIS_VERSION_NUM", (7 << 16) | (0 << 8) | 15);
  lua_pushstring(L, "7.0.15");
  lua_setfield(L, -2, "REDIS_VERSION");
  SetFunction(L, "setresp", SetResp);
  SetFunction(L, "sha1hex", Sha1hex);
  SetFunction(L, "error_reply", ErrorReply);
  SetFunction(L, "status_reply", StatusReply);
  SetFunction(L, "set_repl", SetRepl);
  SetFunction(L, "replicate_commands", ReplicateCommands);
  SetFunction(L, "breakpoint", Breakpoint);
  SetFunction(L, "debug", Debug);
  SetFunction(L, "acl_check_cmd", AclCheckCmd);
  SetNumber(L, "REPL_NONE", 0);
  SetNumber(L, "REPL_AOF", 1);
  SetNumber(L, "REPL_SLAVE", 2);
  SetNumber(L, "REPL_REPLICA", 2);
  SetNumber(L, "REPL_ALL", 3);
  lua_setfield(L, -2, "redis");

  lua_getfield(L, -1, "math");
  SetFunction(L, "random", MathRandom);
  SetFunction(L, "randomseed", MathRandomseed);
  lua_pop(L, 1);

  SetFunction(L, "pcall", Pcall);
}

// Builds {err=..., source=..., line=...} for any error: a non-table error e becomes
// {err="ERR " .. tostring(e)}; source and line are those of the Lua code that raised it (the
// caller, when a C function such as redis.call or error raised it).
int ErrorHandler(lua_State* L) {
  lua_Debug ar;
  bool have = lua_getstack(L, 1, &ar) && lua_getinfo(L, "nSl", &ar);
  if (have && strcmp(ar.what, "C") == 0) {
    have = lua_getstack(L, 2, &ar) && lua_getinfo(L, "nSl", &ar);
  }
  if (!lua_istable(L, 1)) {
    lua_getglobal(L, "tostring");  // Through the sandbox: tostring always exists.
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    lua_pushstring(L, "ERR ");
    lua_insert(L, -2);
    lua_concat(L, 2);
    lua_newtable(L);
    lua_pushstring(L, "err");
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  if (have) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, 1, "source");
    lua_pushnumber(L, ar.currentline);
    lua_setfield(L, 1, "line");
  }
  lua_settop(L, 1);
  return 1;
}

}  // namespace shoal::script
