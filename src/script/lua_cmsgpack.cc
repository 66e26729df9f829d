// The `cmsgpack` library Redis gives scripts: MessagePack encoding of Lua values, with the
// behaviour of lua-cmsgpack 0.4.0 that Redis embeds (Debian packages none for Lua 5.1, so it is
// written here). cmsgpack.pack(v...) encodes each value and concatenates them;
// cmsgpack.unpack(s) decodes every value in s; unpack_one(s [, offset]) and
// unpack_limit(s, limit [, offset]) decode some and return the offset to continue from first
// (-1 once all of s is read).
//
// Encoding: nil (and functions, userdata...) 0xc0; booleans 0xc2/0xc3; a number that is an
// exact int64 as the smallest integer format, else a float32 when that is exact, else a double;
// a string as fixstr/str8/str16/str32; a table whose keys are exactly 1..n as an array, any
// other table as a map. Tables nested 16 deep encode as nil (survives reference cycles).
//
// Note: lua_error longjmps over C++ frames; the only C++ object is PushEncoded's buffer, a plain
// heap pointer (an error raised by a table's __index while encoding leaks it, nothing worse).

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace {

constexpr int kMaxNesting = 16;

bool IsInt64(double x) {
  return !std::isinf(x) && !std::isnan(x) && x >= -9223372036854775808.0 &&
         x < 9223372036854775808.0 && static_cast<double>(static_cast<int64_t>(x)) == x;
}

bool IsInt(double x) {
  return !std::isinf(x) && !std::isnan(x) && x >= -2147483648.0 && x < 2147483648.0 &&
         static_cast<double>(static_cast<int>(x)) == x;
}

void PutBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void EncodeBytes(std::string* out, const char* s, size_t len) {
  if (len < 32) {
    out->push_back(static_cast<char>(0xa0 | len));
  } else if (len <= 0xff) {
    out->push_back(static_cast<char>(0xd9));
    PutBigEndian(out, len, 1);
  } else if (len <= 0xffff) {
    out->push_back(static_cast<char>(0xda));
    PutBigEndian(out, len, 2);
  } else {
    out->push_back(static_cast<char>(0xdb));
    PutBigEndian(out, len, 4);
  }
  out->append(s, len);
}

void EncodeDouble(std::string* out, double d) {
  float f = static_cast<float>(d);
  if (d == static_cast<double>(f)) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    out->push_back(static_cast<char>(0xca));
    PutBigEndian(out, bits, 4);
  } else {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    out->push_back(static_cast<char>(0xcb));
    PutBigEndian(out, bits, 8);
  }
}

void EncodeInt(std::string* out, int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      out->push_back(static_cast<char>(n));
    } else if (n <= 0xff) {
      out->push_back(static_cast<char>(0xcc));
      PutBigEndian(out, n, 1);
    } else if (n <= 0xffff) {
      out->push_back(static_cast<char>(0xcd));
      PutBigEndian(out, n, 2);
    } else if (n <= 0xffffffffLL) {
      out->push_back(static_cast<char>(0xce));
      PutBigEndian(out, n, 4);
    } else {
      out->push_back(static_cast<char>(0xcf));
      PutBigEndian(out, n, 8);
    }
  } else if (n >= -32) {
    out->push_back(static_cast<char>(static_cast<signed char>(n)));
  } else if (n >= -128) {
    out->push_back(static_cast<char>(0xd0));
    PutBigEndian(out, static_cast<uint64_t>(n), 1);
  } else if (n >= -32768) {
    out->push_back(static_cast<char>(0xd1));
    PutBigEndian(out, static_cast<uint64_t>(n), 2);
  } else if (n >= -2147483648LL) {
    out->push_back(static_cast<char>(0xd2));
    PutBigEndian(out, static_cast<uint64_t>(n), 4);
  } else {
    out->push_back(static_cast<char>(0xd3));
    PutBigEndian(out, static_cast<uint64_t>(n), 8);
  }
}

void EncodeHeader(std::string* out, uint64_t n, int fix, int tag16, int tag32) {
  if (n <= 15) {
    out->push_back(static_cast<char>(fix | n));
  } else if (n <= 65535) {
    out->push_back(static_cast<char>(tag16));
    PutBigEndian(out, n, 2);
  } else {
    out->push_back(static_cast<char>(tag32));
    PutBigEndian(out, n, 4);
  }
}

// True if the table on top has exactly the keys 1..n.
bool TableIsArray(lua_State* L) {
  int top = lua_gettop(L);
  int count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    lua_Number n;
    if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || !IsInt(n)) {
      lua_settop(L, top);
      return false;
    }
    max = n > max ? static_cast<int>(n) : max;
    count++;
  }
  lua_settop(L, top);
  return max == count;
}

// Encodes and pops the value on top of the stack.
void EncodeValue(lua_State* L, std::string* out, int level) {
  int t = lua_type(L, -1);
  if (t == LUA_TTABLE && level == kMaxNesting) t = LUA_TNIL;
  switch (t) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      EncodeBytes(out, s, len);
      break;
    }
    case LUA_TBOOLEAN:
      out->push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      break;
    case LUA_TNUMBER: {
      lua_Number n = lua_tonumber(L, -1);
      if (IsInt64(n)) {
        EncodeInt(out, static_cast<int64_t>(n));
      } else {
        EncodeDouble(out, n);
      }
      break;
    }
    case LUA_TTABLE:
      if (TableIsArray(L)) {
        size_t len = lua_objlen(L, -1);
        EncodeHeader(out, len, 0x90, 0xdc, 0xdd);
        for (size_t j = 1; j <= len; j++) {
          lua_pushnumber(L, static_cast<lua_Number>(j));
          lua_gettable(L, -2);
          EncodeValue(L, out, level + 1);
        }
      } else {
        size_t len = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          len++;
        }
        EncodeHeader(out, len, 0x80, 0xde, 0xdf);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);
          EncodeValue(L, out, level + 1);  // The key.
          EncodeValue(L, out, level + 1);  // The value.
        }
      }
      break;
    default:
      out->push_back(static_cast<char>(0xc0));
  }
  lua_pop(L, 1);
}

// Encodes the value at `index` and pushes the encoding as a Lua string.
void PushEncoded(lua_State* L, int index) {
  lua_pushvalue(L, index);
  auto* out = new std::string();
  EncodeValue(L, out, 0);
  lua_pushlstring(L, out->data(), out->size());
  delete out;
}

int Pack(lua_State* L) {
  int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (!lua_checkstack(L, nargs)) {
    return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  }
  for (int i = 1; i <= nargs; i++) PushEncoded(L, i);
  lua_concat(L, nargs);
  return 1;
}

// ---- decoding --------------------------------------------------------------------------------

enum class Err { kNone, kEof, kBadFormat };

struct Cursor {
  const unsigned char* p;
  size_t left;
  Err err = Err::kNone;
  bool Need(size_t n) {
    if (left < n) {
      err = Err::kEof;
      return false;
    }
    return true;
  }
  void Consume(size_t n) {
    p += n;
    left -= n;
  }
};

uint64_t GetBigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

void DecodeValue(lua_State* L, Cursor* c);

void DecodeArray(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  int index = 1;
  while (len--) {
    lua_pushnumber(L, index++);
    DecodeValue(L, c);
    if (c->err != Err::kNone) return;
    lua_settable(L, -3);
  }
}

void DecodeMap(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  while (len--) {
    DecodeValue(L, c);
    if (c->err != Err::kNone) return;
    DecodeValue(L, c);
    if (c->err != Err::kNone) return;
    lua_settable(L, -3);
  }
}

void PushString(lua_State* L, Cursor* c, size_t header, size_t len) {
  if (!c->Need(header + len)) return;
  lua_pushlstring(L, reinterpret_cast<const char*>(c->p + header), len);
  c->Consume(header + len);
}

void DecodeValue(lua_State* L, Cursor* c) {
  if (!c->Need(1)) return;
  luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
  const unsigned char b = c->p[0];
  auto fixed = [&](int bytes) { return c->Need(1 + bytes); };
  switch (b) {
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
      int bytes = 1 << (b - 0xcc);
      if (!fixed(bytes)) return;
      lua_pushnumber(L, static_cast<lua_Number>(GetBigEndian(c->p + 1, bytes)));
      c->Consume(1 + bytes);
      return;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      int bytes = 1 << (b - 0xd0);
      if (!fixed(bytes)) return;
      uint64_t v = GetBigEndian(c->p + 1, bytes);
      int64_t s;
      switch (bytes) {
        case 1:
          s = static_cast<int8_t>(v);
          break;
        case 2:
          s = static_cast<int16_t>(v);
          break;
        case 4:
          s = static_cast<int32_t>(v);
          break;
        default:
          s = static_cast<int64_t>(v);
      }
      lua_pushnumber(L, static_cast<lua_Number>(s));
      c->Consume(1 + bytes);
      return;
    }
    case 0xc0:
      lua_pushnil(L);
      c->Consume(1);
      return;
    case 0xc2:
    case 0xc3:
      lua_pushboolean(L, b == 0xc3);
      c->Consume(1);
      return;
    case 0xca: {
      if (!fixed(4)) return;
      uint32_t bits = static_cast<uint32_t>(GetBigEndian(c->p + 1, 4));
      float f;
      memcpy(&f, &bits, 4);
      lua_pushnumber(L, f);
      c->Consume(5);
      return;
    }
    case 0xcb: {
      if (!fixed(8)) return;
      uint64_t bits = GetBigEndian(c->p + 1, 8);
      double d;
      memcpy(&d, &bits, 8);
      lua_pushnumber(L, d);
      c->Consume(9);
      return;
    }
    case 0xd9:
      if (!fixed(1)) return;
      return PushString(L, c, 2, c->p[1]);
    case 0xda:
      if (!fixed(2)) return;
      return PushString(L, c, 3, GetBigEndian(c->p + 1, 2));
    case 0xdb:
      if (!fixed(4)) return;
      return PushString(L, c, 5, GetBigEndian(c->p + 1, 4));
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
      int bytes = (b == 0xdc || b == 0xde) ? 2 : 4;
      if (!fixed(bytes)) return;
      size_t len = GetBigEndian(c->p + 1, bytes);
      c->Consume(1 + bytes);
      if (b <= 0xdd) {
        DecodeArray(L, c, len);
      } else {
        DecodeMap(L, c, len);
      }
      return;
    }
    default:
      break;
  }
  if ((b & 0x80) == 0) {  // Positive fixnum.
    lua_pushnumber(L, b);
    c->Consume(1);
  } else if ((b & 0xe0) == 0xe0) {  // Negative fixnum.
    lua_pushnumber(L, static_cast<signed char>(b));
    c->Consume(1);
  } else if ((b & 0xe0) == 0xa0) {  // Fixstr.
    PushString(L, c, 1, b & 0x1f);
  } else if ((b & 0xf0) == 0x90) {  // Fixarray.
    c->Consume(1);
    DecodeArray(L, c, b & 0xf);
  } else if ((b & 0xf0) == 0x80) {  // Fixmap.
    c->Consume(1);
    DecodeMap(L, c, b & 0xf);
  } else {
    c->err = Err::kBadFormat;
  }
}

int UnpackFull(lua_State* L, int limit, int offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  bool decode_all = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset,
                      static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", offset,
                      static_cast<int>(len));
  }
  if (decode_all) limit = INT32_MAX;
  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - offset};
  int cnt;
  for (cnt = 0; c.left > 0 && cnt < limit; cnt++) {
    DecodeValue(L, &c);
    if (c.err == Err::kEof) return luaL_error(L, "Missing bytes in input.");
    if (c.err == Err::kBadFormat) return luaL_error(L, "Bad data format in input.");
  }
  if (!decode_all) {
    int next = static_cast<int>(len - c.left);
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : next);
    lua_insert(L, 2);
    cnt += 1;
  }
  return cnt;
}

int Unpack(lua_State* L) { return UnpackFull(L, 0, 0); }

int UnpackOne(lua_State* L) {
  int offset = static_cast<int>(luaL_optinteger(L, 2, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return UnpackFull(L, 1, offset);
}

int UnpackLimit(lua_State* L) {
  int limit = static_cast<int>(luaL_checkinteger(L, 2));
  int offset = static_cast<int>(luaL_optinteger(L, 3, 0));
  lua_pop(L, lua_gettop(L) - 1);
  return UnpackFull(L, limit, offset);
}

const luaL_Reg kFunctions[] = {{"pack", Pack},
                               {"unpack", Unpack},
                               {"unpack_one", UnpackOne},
                               {"unpack_limit", UnpackLimit},
                               {nullptr, nullptr}};

}  // namespace

extern "C" int luaopen_cmsgpack(lua_State* L) {
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  return 1;
}
