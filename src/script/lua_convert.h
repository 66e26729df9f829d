// Redis's type conversions between RESP replies and Lua values, in both directions.
//
// RESP -> Lua (what redis.call returns):
//   integer -> number            bulk -> string            null bulk / null array -> false
//   array -> table 1..n          status -> {ok=s}          error -> {err="CODE msg"}
//   RESP3 (after redis.setresp(3)): null -> nil, boolean -> boolean, double -> {double=d},
//   map -> {map={k=v...}}, set -> {set={m=true...}}, big number -> {big_number=s},
//   verbatim -> {verbatim_string={format=f, string=s}}; attributes are skipped.
// Lua -> RESP (what a script returns):
//   string -> bulk               number -> integer (truncated, as C's cast does)
//   boolean: with setresp(2), true -> :1 and false -> null; with setresp(3), a boolean
//   table: {err=s} -> error, {ok=s} -> status, {double=n}, {big_number=s}, {verbatim_string=..},
//   {map=..}, {set=..}, else an array of t[1], t[2]... up to the first nil
//   anything else (nil, functions...) -> null
// The reply is written in the calling client's protocol; RESP3 types degrade as Redis degrades
// them for a RESP2 client.
#pragma once

#include <string>
#include <string_view>

extern "C" {
#include <lua.h>
}

#include "protocol/reply_builder.h"

namespace shoal::script {

// Pushes the Lua value of the single RESP reply at the start of `reply`. The reply was written by
// our own ReplyBuilder, so it is trusted to be well formed.
void PushResp(lua_State* L, std::string_view reply);

// Pops the value on top of the stack and writes it as a reply. `script_resp` is the protocol the
// script chose with redis.setresp (it decides how booleans convert).
void PopToReply(lua_State* L, protocol::ReplyBuilder& out, int script_resp);

// Pushes Redis's error table {err="CODE msg"} for `error`: "-CODE msg" keeps its code, a text
// without a leading '-' gets "ERR"; a trailing CR/LF is trimmed (Redis's luaPushErrorBuff).
void PushErrorTable(lua_State* L, std::string_view error);

}  // namespace shoal::script
