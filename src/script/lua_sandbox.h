// The sandbox scripts run in: Redis 7.0's libraries and globals, read-only.
//
// Redis 7.0 marks the globals table and every table reachable from it read-only with a patch
// to its embedded Lua. Debian's Lua 5.1 has no such patch, so the same effect is built from
// plain Lua: every library table (and _G) is replaced by an empty proxy whose metatable reads
// through to the real table and refuses writes; the globals table itself becomes such a proxy
// (LUA_GLOBALSINDEX is replaced, so loadstring'ed chunks and coroutines get it too), and the
// real globals table errors on a read of a missing name. rawset, rawget, next, pairs,
// setmetatable and getmetatable see through proxies (pairs(_G) lists the globals), and refuse
// to change them, so that no script can change what the next script sees.
#pragma once

extern "C" {
#include <lua.h>
}

namespace shoal::script {

// Opens the libraries (base, table, string, math, cjson, struct, cmsgpack, bit), registers the
// redis API, removes what Redis removes, and locks everything. Leaves the stack as it found it.
void BuildSandbox(lua_State* L);

// Pushes the real (writable from C) globals table: KEYS and ARGV are set there.
void PushRealGlobals(lua_State* L);

}  // namespace shoal::script
