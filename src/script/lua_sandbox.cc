#include "script/lua_sandbox.h"

extern "C" {
#include <lauxlib.h>
#include <lua-bitop.h>
#include <lua-cjson.h>
#include <lualib.h>
}

#include "script/lua_api.h"

extern "C" int luaopen_struct(lua_State* L);    // lua_struct.cc
extern "C" int luaopen_cmsgpack(lua_State* L);  // lua_cmsgpack.cc

namespace shoal::script {

namespace {

const char kProxiesKey[] = "shoal_proxies";      // Weak-keyed: proxy -> real table.
const char kRealGlobalsKey[] = "shoal_globals";  // The real globals table.
const char kReadonlyError[] = "Attempt to modify a readonly table";

// Pushes the real table behind the value at `idx` if it is a proxy, else the value itself.
void PushUnproxied(lua_State* L, int idx) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_getfield(L, LUA_REGISTRYINDEX, kProxiesKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 2);
    lua_pushvalue(L, idx);
  } else {
    lua_remove(L, -2);
  }
}

bool IsProxy(lua_State* L, int idx) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_getfield(L, LUA_REGISTRYINDEX, kProxiesKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  bool proxy = !lua_isnil(L, -1);
  lua_pop(L, 2);
  return proxy;
}

// __newindex of every proxy: the position is the writer's ("user_script:1: ..."), as in Redis.
int ReadonlyNewIndex(lua_State* L) { return luaL_error(L, kReadonlyError); }

// __index of the real globals: a read of a name that does not exist is an error in Redis.
int MissingGlobal(lua_State* L) {
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    lua_tostring(L, 2));
}

// Raised from inside a C function: no position, as Redis's rawset on a read-only table.
int RaiseReadonly(lua_State* L) {
  lua_pushstring(L, kReadonlyError);
  return lua_error(L);
}

int Rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (IsProxy(L, 1)) return RaiseReadonly(L);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int Rawget(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  PushUnproxied(L, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

int Next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  PushUnproxied(L, 1);
  lua_pushvalue(L, 2);
  if (lua_next(L, -2)) return 2;
  lua_pushnil(L);
  return 1;
}

int Pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushcfunction(L, Next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int Setmetatable(lua_State* L) {
  if (lua_istable(L, 1) && IsProxy(L, 1)) return RaiseReadonly(L);
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
  if (luaL_getmetafield(L, 1, "__metatable")) luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// Replaces the table at the top of the stack by a read-only proxy of it.
void ProxyTop(lua_State* L) {
  lua_newtable(L);  // The proxy.
  lua_newtable(L);  // Its metatable.
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyNewIndex);
  lua_setfield(L, -2, "__newindex");
  // getmetatable(proxy) answers this instead of the metatable, which must stay unreachable.
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, kProxiesKey);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -4);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_remove(L, -2);
}

void OpenLib(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  // luaopen_cjson returns its table without making it a global; the others do both.
  if (lua_istable(L, -1) && name[0] != '\0') {
    lua_setglobal(L, name);
  } else {
    lua_pop(L, 1);
  }
}

}  // namespace

void BuildSandbox(lua_State* L) {
  lua_newtable(L);
  lua_newtable(L);
  lua_pushstring(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kProxiesKey);

  OpenLib(L, "", luaopen_base);
  OpenLib(L, LUA_TABLIBNAME, luaopen_table);
  OpenLib(L, LUA_STRLIBNAME, luaopen_string);
  OpenLib(L, LUA_MATHLIBNAME, luaopen_math);
  OpenLib(L, "cjson", luaopen_cjson);
  OpenLib(L, "struct", luaopen_struct);
  OpenLib(L, "bit", luaopen_bit);
  OpenLib(L, "cmsgpack", luaopen_cmsgpack);

  lua_pushvalue(L, LUA_GLOBALSINDEX);  // G: the real globals.
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setfield(L, -2, name);
  }
  RegisterRedisApi(L);
  lua_pushcfunction(L, ErrorHandler);
  lua_setfield(L, -2, "__redis__err__handler");
  lua_pushcfunction(L, Rawset);
  lua_setfield(L, -2, "rawset");
  lua_pushcfunction(L, Rawget);
  lua_setfield(L, -2, "rawget");
  lua_pushcfunction(L, Next);
  lua_setfield(L, -2, "next");
  lua_pushcfunction(L, Pairs);
  lua_setfield(L, -2, "pairs");
  lua_pushcfunction(L, Setmetatable);
  lua_setfield(L, -2, "setmetatable");

  // Each library table becomes a proxy; strings' metatable reads through the string proxy.
  for (const char* lib :
       {"string", "table", "math", "cjson", "struct", "cmsgpack", "bit", "coroutine", "redis"}) {
    lua_getfield(L, -1, lib);
    ProxyTop(L);
    lua_setfield(L, -2, lib);
  }
  lua_pushstring(L, "");
  lua_getmetatable(L, -1);
  lua_getfield(L, -3, "string");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 2);

  // G reports a missing name; its proxy becomes everyone's globals, _G included.
  lua_newtable(L);
  lua_pushcfunction(L, MissingGlobal);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, kRealGlobalsKey);
  lua_pushvalue(L, -1);
  ProxyTop(L);  // Stack: G, P.
  lua_pushstring(L, "_G");
  lua_pushvalue(L, -2);
  lua_rawset(L, -4);  // G._G = P.
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_pop(L, 1);
}

void PushRealGlobals(lua_State* L) { lua_getfield(L, LUA_REGISTRYINDEX, kRealGlobalsKey); }

}  // namespace shoal::script
