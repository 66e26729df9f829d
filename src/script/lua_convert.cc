#include "script/lua_convert.h"

#include <cmath>
#include <cstdlib>
#include <limits>

extern "C" {
#include <lauxlib.h>
}

namespace shoal::script {

namespace {

// Parses one RESP value starting at `pos`; pushes it (unless `push` is false: attributes are
// skipped) and returns the position just past it.
size_t ParseValue(lua_State* L, std::string_view r, size_t pos, bool push);

// The line after the type byte at `pos`, and the position past its CRLF.
std::string_view Line(std::string_view r, size_t pos, size_t* next) {
  size_t end = r.find("\r\n", pos + 1);
  *next = end + 2;
  return r.substr(pos + 1, end - pos - 1);
}

int64_t ToInt(std::string_view s) { return std::strtoll(std::string(s).c_str(), nullptr, 10); }

void Grow(lua_State* L, int n) {
  // Lua's stack is bounded (LUAI_MAXCSTACK); a reply nested beyond it cannot be represented.
  if (!lua_checkstack(L, n)) luaL_error(L, "reached lua stack limit");
}

size_t ParseAggregate(lua_State* L, std::string_view r, size_t pos, bool push, char type) {
  size_t next;
  int64_t n = ToInt(Line(r, pos, &next));
  if (n < 0) {  // *-1: a null array.
    if (push) lua_pushboolean(L, 0);
    return next;
  }
  if (type == '|') {  // Attribute: key/value pairs we skip, then the value it describes.
    for (int64_t i = 0; i < 2 * n; ++i) next = ParseValue(L, r, next, false);
    return ParseValue(L, r, next, push);
  }
  if (push) {
    Grow(L, 4);
    lua_newtable(L);
    if (type == '%' || type == '~') {
      lua_pushstring(L, type == '%' ? "map" : "set");
      lua_newtable(L);
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    if (type == '%') {
      next = ParseValue(L, r, next, push);
      next = ParseValue(L, r, next, push);
      if (push) lua_settable(L, -3);
    } else if (type == '~') {
      next = ParseValue(L, r, next, push);
      if (push) {
        Grow(L, 1);
        lua_pushboolean(L, 1);
        lua_settable(L, -3);
      }
    } else {
      if (push) {
        Grow(L, 1);
        lua_pushnumber(L, static_cast<lua_Number>(i + 1));
      }
      next = ParseValue(L, r, next, push);
      if (push) lua_settable(L, -3);
    }
  }
  if (push && (type == '%' || type == '~')) lua_settable(L, -3);
  return next;
}

size_t ParseValue(lua_State* L, std::string_view r, size_t pos, bool push) {
  const char type = r[pos];
  size_t next;
  switch (type) {
    case '*':
    case '%':
    case '~':
    case '>':
    case '|':
      return ParseAggregate(L, r, pos, push, type == '>' ? '*' : type);
    case '$':
    case '=': {
      int64_t len = ToInt(Line(r, pos, &next));
      if (len < 0) {
        if (push) lua_pushboolean(L, 0);
        return next;
      }
      if (!push) return next + len + 2;
      Grow(L, 5);
      std::string_view body = r.substr(next, len);
      if (type == '$') {
        lua_pushlstring(L, body.data(), body.size());
      } else {
        lua_newtable(L);
        lua_pushstring(L, "verbatim_string");
        lua_newtable(L);
        lua_pushstring(L, "string");
        lua_pushlstring(L, body.data() + 4, body.size() - 4);
        lua_settable(L, -3);
        lua_pushstring(L, "format");
        lua_pushlstring(L, body.data(), 3);
        lua_settable(L, -3);
        lua_settable(L, -3);
      }
      return next + len + 2;
    }
    default:
      break;
  }
  std::string_view line = Line(r, pos, &next);
  if (!push) return next;
  Grow(L, 3);
  switch (type) {
    case ':':
      lua_pushnumber(L, static_cast<lua_Number>(ToInt(line)));
      break;
    case '+':
      lua_newtable(L);
      lua_pushstring(L, "ok");
      lua_pushlstring(L, line.data(), line.size());
      lua_settable(L, -3);
      break;
    case '-':
      PushErrorTable(L, std::string("-").append(line));
      // The command already counted its error; Redis marks the table so it is not counted twice.
      lua_pushstring(L, "ignore_error_stats_update");
      lua_pushboolean(L, 1);
      lua_settable(L, -3);
      break;
    case '_':
      lua_pushnil(L);
      break;
    case '#':
      lua_pushboolean(L, line == "t");
      break;
    case ',': {
      double d;
      if (line == "inf") {
        d = std::numeric_limits<double>::infinity();
      } else if (line == "-inf") {
        d = -std::numeric_limits<double>::infinity();
      } else {
        d = std::strtod(std::string(line).c_str(), nullptr);
      }
      lua_newtable(L);
      lua_pushstring(L, "double");
      lua_pushnumber(L, d);
      lua_settable(L, -3);
      break;
    }
    case '(':
      lua_newtable(L);
      lua_pushstring(L, "big_number");
      lua_pushlstring(L, line.data(), line.size());
      lua_settable(L, -3);
      break;
    default:
      luaL_error(L, "unexpected reply type '%c'", type);
  }
  return next;
}

// C's (long long) cast of a double, as x86 does it: NaN and out-of-range values give INT64_MIN
// (Redis converts script numbers with that cast; the standard leaves it undefined).
int64_t TruncateToInt64(double d) {
  if (std::isnan(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(d);
}

std::string NoNewlines(const char* s, size_t len) {
  std::string out(s, len);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

// Looks up t[name] without metamethods; leaves it on the stack and returns its type.
int RawField(lua_State* L, const char* name) {
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  return lua_type(L, -1);
}

void TableToReply(lua_State* L, protocol::ReplyBuilder& out, int script_resp) {
  if (RawField(L, "err") == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    out.Error(std::string_view(s, len));  // Error() maps CR/LF to spaces, as Redis does here.
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  if (RawField(L, "ok") == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    out.SimpleString(NoNewlines(s, len));
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  if (RawField(L, "double") == LUA_TNUMBER) {
    out.Double(lua_tonumber(L, -1));
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  if (RawField(L, "big_number") == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    std::string num = NoNewlines(s, len);
    if (out.resp3()) {
      out.Raw("(" + num + "\r\n");
    } else {
      out.Bulk(num);
    }
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  if (RawField(L, "verbatim_string") == LUA_TTABLE) {
    if (RawField(L, "format") == LUA_TSTRING) {
      size_t flen;
      const char* format = lua_tolstring(L, -1, &flen);
      lua_pushstring(L, "string");
      lua_rawget(L, -3);  // verbatim_string.string: the table sits under the format.
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char* s = lua_tolstring(L, -1, &len);
        // Redis writes exactly three bytes of the format.
        std::string fmt(format, flen);
        fmt.resize(3, '\0');
        out.Verbatim(std::string_view(s, len), fmt);
        lua_pop(L, 4);
        return;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (RawField(L, "map") == LUA_TTABLE) {
    std::string* buf = out.buffer();
    size_t mark = buf->size();
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      PopToReply(L, out, script_resp);  // The key.
      PopToReply(L, out, script_resp);  // The value.
      ++n;
    }
    std::string header;
    protocol::ReplyBuilder hb(&header, out.resp3() ? 3 : 2);
    hb.MapHeader(n);
    buf->insert(mark, header);
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  if (RawField(L, "set") == LUA_TTABLE) {
    size_t mark = out.StartDeferredArray();
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);  // The value (true) is not sent.
      lua_pushvalue(L, -1);
      PopToReply(L, out, script_resp);
      ++n;
    }
    out.FinishDeferredArray(mark, n, /*as_set=*/true);
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  // An array: t[1], t[2]... up to the first nil.
  size_t mark = out.StartDeferredArray();
  size_t n = 0;
  for (int j = 1;; ++j) {
    lua_pushnumber(L, j);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    PopToReply(L, out, script_resp);
    ++n;
  }
  out.FinishDeferredArray(mark, n);
  lua_pop(L, 1);
}

}  // namespace

void PushResp(lua_State* L, std::string_view reply) { ParseValue(L, reply, 0, true); }

void PushErrorTable(lua_State* L, std::string_view error) {
  std::string code = "ERR", msg;
  if (!error.empty() && error[0] == '-') {
    size_t space = error.find(' ');
    if (space == std::string_view::npos) {
      msg = std::string(error.substr(1));
    } else {
      code = std::string(error.substr(1, space - 1));
      msg = std::string(error.substr(space + 1));
    }
  } else {
    msg = std::string(error);
  }
  // sdstrim: CR and LF go from both ends.
  size_t b = msg.find_first_not_of("\r\n");
  size_t e = msg.find_last_not_of("\r\n");
  msg = b == std::string::npos ? std::string() : msg.substr(b, e - b + 1);
  std::string full = code + " " + msg;
  Grow(L, 3);
  lua_newtable(L);
  lua_pushstring(L, "err");
  lua_pushlstring(L, full.data(), full.size());
  lua_settable(L, -3);
}

void PopToReply(lua_State* L, protocol::ReplyBuilder& out, int script_resp) {
  if (!lua_checkstack(L, 4)) {
    out.Error("ERR reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      out.Bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1)) {
          out.Integer(1);
        } else {
          out.Null();
        }
      } else {
        out.Bool(lua_toboolean(L, -1));
      }
      break;
    case LUA_TNUMBER:
      out.Integer(TruncateToInt64(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE:
      TableToReply(L, out, script_resp);
      return;  // TableToReply popped the table.
    default:
      out.Null();
  }
  lua_pop(L, 1);
}

}  // namespace shoal::script
