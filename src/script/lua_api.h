// The `redis` table scripts see (redis.call, redis.pcall, redis.error_reply...), Redis's
// math.random, its pcall, and the error handler that turns any Lua error into Redis's
// {err=..., source=..., line=...} table.
#pragma once

#include <cstdint>
#include <string>

extern "C" {
#include <lua.h>
}

#include "script/busy.h"
#include "script/command_runner.h"

namespace shoal::script {

// The script being run, reachable from the Lua state while it runs (null between scripts).
struct ScriptRun {
  CommandRunner* runner = nullptr;
  RunningScript* running = nullptr;
  int resp = 2;  // The protocol of redis.call replies: redis.setresp.
  int64_t busy_ms = 0;
  std::string reply;  // Scratch for redis.call's raw reply, reused across calls.
};

void SetCurrentRun(lua_State* L, ScriptRun* run);
ScriptRun* CurrentRun(lua_State* L);

// Adds `redis` and replaces math.random / math.randomseed and pcall in the globals table at the
// top of the stack.
void RegisterRedisApi(lua_State* L);

// The message handler for lua_pcall (see the .cc for the table it builds).
int ErrorHandler(lua_State* L);

}  // namespace shoal::script
