// The `struct` library Redis gives scripts: struct.pack, struct.unpack and struct.size over
// binary strings, with the semantics of Roberto Ierusalimschy's struct 0.2 that Redis embeds
// (Debian has no package of it, so it is written here).
//
// Format: a sequence of options, optionally preceded by modifiers:
//   ">" big endian, "<" little endian, "!n" max alignment n (default: the native one), " " ignored
//   "b"/"B" signed/unsigned char, "h"/"H" short, "l"/"L" long, "T" size_t,
//   "in"/"In" signed/unsigned integer of n bytes (default sizeof(int)), "x" one zero byte,
//   "f" float, "d" double, "s" zero-terminated string, "cn" n chars ("c0" in unpack: the length
//   is the previous value unpacked; in pack: the whole string).
// Integers are 64-bit at most in value; sizes up to 32 bytes pad or sign-extend.
//
// Note: lua_error longjmps; nothing here holds a C++ object with a destructor.

#include <cctype>
#include <climits>
#include <cstddef>
#include <cstring>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

namespace {

constexpr int kMaxIntSize = 32;
constexpr int kBig = 0;
constexpr int kLittle = 1;

struct AlignProbe {
  char c;
  union {
    double d;
    void* p;
    long l;
  } u;
};
constexpr int kMaxAlign = offsetof(AlignProbe, u);

int NativeEndian() {
  const int one = 1;
  return *reinterpret_cast<const char*>(&one) == 1 ? kLittle : kBig;
}

struct Header {
  int endian;
  int align;
};

void DefaultOptions(Header* h) {
  h->endian = NativeEndian();
  h->align = 1;
}

bool IsPowerOf2(int x) { return (x & (x - 1)) == 0; }

int GetNum(lua_State* L, const char** fmt, int df) {
  if (!isdigit(static_cast<unsigned char>(**fmt))) return df;
  int a = 0;
  do {
    if (a > (INT_MAX / 10) || a * 10 > (INT_MAX - (**fmt - '0'))) {
      luaL_error(L, "integral size overflow");
    }
    a = a * 10 + *((*fmt)++) - '0';
  } while (isdigit(static_cast<unsigned char>(**fmt)));
  return a;
}

size_t OptSize(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'B':
    case 'b':
      return sizeof(char);
    case 'H':
    case 'h':
      return sizeof(short);
    case 'L':
    case 'l':
      return sizeof(long);
    case 'T':
      return sizeof(size_t);
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'x':
      return 1;
    case 'c':
      return GetNum(L, fmt, 1);
    case 'i':
    case 'I': {
      int sz = GetNum(L, fmt, sizeof(int));
      if (sz > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", sz, kMaxIntSize);
      }
      return sz;
    }
    default:
      return 0;  // Other options need no alignment.
  }
}

// Padding needed before an item of `size` bytes at offset `len`.
int GetToAlign(size_t len, Header* h, int opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<size_t>(h->align)) size = h->align;
  return static_cast<int>((size - (len & (size - 1))) & (size - 1));
}

void ControlOptions(lua_State* L, int opt, const char** fmt, Header* h) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      h->endian = kBig;
      return;
    case '<':
      h->endian = kLittle;
      return;
    case '!': {
      int a = GetNum(L, fmt, kMaxAlign);
      if (!IsPowerOf2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
      h->align = a;
      return;
    }
    default: {
      const char* msg = lua_pushfstring(L, "invalid format option '%c'", opt);
      luaL_argerror(L, 1, msg);
    }
  }
}

void PutInteger(lua_State* L, luaL_Buffer* b, int arg, int endian, int size) {
  lua_Number n = luaL_checknumber(L, arg);
  unsigned long value;
  char buff[kMaxIntSize];
  if (n < 0) {
    value = static_cast<unsigned long>(static_cast<long>(n));
  } else {
    value = static_cast<unsigned long>(n);
  }
  if (endian == kLittle) {
    for (int i = 0; i < size; i++) {
      buff[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  } else {
    for (int i = size - 1; i >= 0; i--) {
      buff[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  }
  luaL_addlstring(b, buff, size);
}

void CorrectBytes(char* b, int size, int endian) {
  if (endian == NativeEndian()) return;
  for (int i = 0, j = size - 1; i < j; i++, j--) {
    char t = b[i];
    b[i] = b[j];
    b[j] = t;
  }
}

int Pack(lua_State* L) {
  luaL_Buffer b;
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  int arg = 2;
  size_t totalsize = 0;
  DefaultOptions(&h);
  lua_pushnil(L);  // Separates the arguments from the buffer's stack use.
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = OptSize(L, opt, &fmt);
    int toalign = GetToAlign(totalsize, &h, opt, size);
    totalsize += toalign;
    while (toalign-- > 0) luaL_addchar(&b, '\0');
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        PutInteger(L, &b, arg++, h.endian, static_cast<int>(size));
        break;
      case 'x':
        luaL_addchar(&b, '\0');
        break;
      case 'f': {
        float f = static_cast<float>(luaL_checknumber(L, arg++));
        CorrectBytes(reinterpret_cast<char*>(&f), static_cast<int>(size), h.endian);
        luaL_addlstring(&b, reinterpret_cast<char*>(&f), size);
        break;
      }
      case 'd': {
        double d = luaL_checknumber(L, arg++);
        CorrectBytes(reinterpret_cast<char*>(&d), static_cast<int>(size), h.endian);
        luaL_addlstring(&b, reinterpret_cast<char*>(&d), size);
        break;
      }
      case 'c':
      case 's': {
        size_t l;
        const char* s = luaL_checklstring(L, arg++, &l);
        if (size == 0) size = l;
        luaL_argcheck(L, l >= size, arg, "string too short");
        luaL_addlstring(&b, s, size);
        if (opt == 's') {
          luaL_addchar(&b, '\0');
          size++;
        }
        break;
      }
      default:
        ControlOptions(L, opt, &fmt, &h);
    }
    totalsize += size;
  }
  luaL_pushresult(&b);
  return 1;
}

lua_Number GetInteger(const char* buff, int endian, bool is_signed, int size) {
  unsigned long l = 0;
  if (endian == kBig) {
    for (int i = 0; i < size; i++) {
      l <<= 8;
      l |= static_cast<unsigned char>(buff[i]);
    }
  } else {
    for (int i = size - 1; i >= 0; i--) {
      l <<= 8;
      l |= static_cast<unsigned char>(buff[i]);
    }
  }
  if (!is_signed) return static_cast<lua_Number>(l);
  if (size < static_cast<int>(sizeof(long))) {
    unsigned long mask = ~0UL << (size * 8 - 1);
    if (l & mask) l |= mask;  // Sign extension.
  }
  return static_cast<lua_Number>(static_cast<long>(l));
}

int Unpack(lua_State* L) {
  Header h;
  const char* fmt = luaL_checkstring(L, 1);
  size_t ld;
  const char* data = luaL_checklstring(L, 2, &ld);
  size_t pos = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  pos--;
  int n = 0;
  DefaultOptions(&h);
  while (*fmt) {
    int opt = *fmt++;
    size_t size = OptSize(L, opt, &fmt);
    pos += GetToAlign(pos, &h, opt, size);
    luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I': {
        bool is_signed = islower(opt);
        lua_pushnumber(L, GetInteger(data + pos, h.endian, is_signed, static_cast<int>(size)));
        n++;
        break;
      }
      case 'x':
        break;
      case 'f': {
        float f;
        memcpy(&f, data + pos, size);
        CorrectBytes(reinterpret_cast<char*>(&f), sizeof(f), h.endian);
        lua_pushnumber(L, f);
        n++;
        break;
      }
      case 'd': {
        double d;
        memcpy(&d, data + pos, size);
        CorrectBytes(reinterpret_cast<char*>(&d), sizeof(d), h.endian);
        lua_pushnumber(L, d);
        n++;
        break;
      }
      case 'c': {
        if (size == 0) {
          if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
          size = static_cast<size_t>(lua_tonumber(L, -1));
          lua_pop(L, 1);
          n--;
          luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        n++;
        break;
      }
      case 's': {
        const char* e = static_cast<const char*>(memchr(data + pos, '\0', ld - pos));
        if (e == nullptr) luaL_error(L, "unfinished string in data");
        size = (e - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        n++;
        break;
      }
      default:
        ControlOptions(L, opt, &fmt, &h);
    }
    pos += size;
  }
  lua_pushinteger(L, pos + 1);  // The position after the last item read.
  return n + 1;
}

int Size(lua_State* L) {
  Header h;
  const char* fmt = luaL_checkstring(L, 1);
  size_t pos = 0;
  DefaultOptions(&h);
  while (*fmt) {
    int opt = *fmt++;
    size_t size = OptSize(L, opt, &fmt);
    pos += GetToAlign(pos, &h, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    if (!isalnum(opt)) ControlOptions(L, opt, &fmt, &h);
    pos += size;
  }
  lua_pushinteger(L, pos);
  return 1;
}

const luaL_Reg kStructFunctions[] = {
    {"pack", Pack}, {"unpack", Unpack}, {"size", Size}, {nullptr, nullptr}};

}  // namespace

extern "C" int luaopen_struct(lua_State* L) {
  luaL_register(L, "struct", kStructFunctions);
  return 1;
}
