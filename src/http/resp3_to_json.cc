#include "http/resp3_to_json.h"

#include <charconv>
#include <cstring>

namespace shoal::http {

namespace {

// Deep enough for any reply a command builds; bounds the recursion on bytes we did not expect.
constexpr int kMaxDepth = 512;

// The line after the type byte at `pos`, without CRLF; npos in *end when incomplete.
bool ReadLine(std::string_view buf, size_t pos, std::string_view* line, size_t* next) {
  size_t cr = buf.find("\r\n", pos);
  if (cr == std::string_view::npos) return false;
  *line = buf.substr(pos, cr - pos);
  *next = cr + 2;
  return true;
}

bool ParseInt(std::string_view s, int64_t* v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

size_t Parse(std::string_view buf, size_t pos, RespValue* out, int depth) {
  using T = RespValue::Type;
  if (pos >= buf.size() || depth > kMaxDepth) return 0;
  char type = buf[pos];
  std::string_view line;
  size_t next;
  if (!ReadLine(buf, pos + 1, &line, &next)) return 0;
  auto simple = [&](T t) {
    out->type = t;
    out->str.assign(line);
    return next;
  };
  auto blob = [&](T t) -> size_t {
    int64_t len;
    if (!ParseInt(line, &len)) return 0;
    if (len < 0) {  // RESP2-style null ($-1, *-1): not sent in RESP3, but harmless.
      out->type = T::kNull;
      return next;
    }
    if (buf.size() - next < static_cast<size_t>(len) + 2) return 0;
    out->type = t;
    out->str.assign(buf.substr(next, static_cast<size_t>(len)));
    return next + static_cast<size_t>(len) + 2;
  };
  auto aggregate = [&](T t, int64_t per_entry, RespValue* into) -> size_t {
    int64_t n;
    if (!ParseInt(line, &n)) return 0;
    if (n < 0) {
      into->type = T::kNull;
      return next;
    }
    into->type = t;
    into->elements.clear();
    // Each element takes at least 3 bytes: a count beyond that is malformed, not a reason to
    // reserve gigabytes.
    if (static_cast<uint64_t>(n) * per_entry > (buf.size() - next) / 3 + 1) return 0;
    into->elements.resize(static_cast<size_t>(n * per_entry));
    size_t p = next;
    for (RespValue& e : into->elements) {
      size_t used = Parse(buf, p, &e, depth + 1);
      if (used == 0) return 0;
      p = used;
    }
    return p;
  };
  switch (type) {
    case '+':
      return simple(T::kSimple);
    case '-':
      return simple(T::kError);
    case ',':
      return simple(T::kDouble);
    case '(':
      return simple(T::kBigNumber);
    case ':':
      out->type = T::kInteger;
      return ParseInt(line, &out->integer) ? next : 0;
    case '#':
      out->type = T::kBool;
      out->integer = line == "t";
      return next;
    case '_':
      out->type = T::kNull;
      return next;
    case '$':
      return blob(T::kBulk);
    case '!':
      return blob(T::kError);
    case '=': {
      size_t end = blob(T::kVerbatim);
      if (end != 0 && out->str.size() >= 4 && out->str[3] == ':') out->str.erase(0, 4);
      return end;
    }
    case '*':
      return aggregate(T::kArray, 1, out);
    case '~':
      return aggregate(T::kSet, 1, out);
    case '>':
      return aggregate(T::kPush, 1, out);
    case '%':
      return aggregate(T::kMap, 2, out);
    case '|': {
      RespValue attributes;
      size_t after = aggregate(T::kMap, 2, &attributes);
      if (after == 0) return 0;
      return Parse(buf, after, out, depth + 1);
    }
    default:
      return 0;
  }
}

// Is `s` a number in JSON's grammar? (RESP3 doubles are, except inf and nan.)
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](size_t k) { return k < s.size() && (byte(k) & 0xC0) == 0x80; };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xE0 && c1 < 0xA0) return 0;   // Overlong.
    if (c == 0xED && c1 >= 0xA0) return 0;  // UTF-16 surrogates.
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    unsigned char c1 = byte(i + 1);
    if (c == 0xF0 && c1 < 0x90) return 0;   // Overlong.
    if (c == 0xF4 && c1 >= 0x90) return 0;  // Past U+10FFFF.
    return 4;
  }
  return 0;
}

}  // namespace

size_t ParseResp3(std::string_view buf, RespValue* out) { return Parse(buf, 0, out, 0); }

bool ParseAllResp3(std::string_view buf, std::vector<RespValue>* out) {
  size_t pos = 0;
  while (pos < buf.size()) {
    out->emplace_back();
    size_t end = Parse(buf, pos, &out->back(), 0);
    if (end == 0) return false;
    pos = end;
  }
  return true;
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy runs of bytes that need no escaping at once.
    size_t run = i;
    while (run < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++run;
    }
    out->append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    ++i;
  }
  out->push_back('"');
}

void AppendJson(const RespValue& v, std::string* out) {
  using T = RespValue::Type;
  switch (v.type) {
    case T::kSimple:
    case T::kBulk:
    case T::kVerbatim:
    case T::kBigNumber:
      AppendJsonString(v.str, out);
      return;
    case T::kError:
      out->append("{\"error\":");
      AppendJsonString(v.str, out);
      out->push_back('}');
      return;
    case T::kInteger:
      out->append(std::to_string(v.integer));
      return;
    case T::kDouble:
      if (IsJsonNumber(v.str)) {
        out->append(v.str);
      } else {
        AppendJsonString(v.str, out);
      }
      return;
    case T::kBool:
      out->append(v.integer ? "true" : "false");
      return;
    case T::kNull:
      out->append("null");
      return;
    case T::kArray:
    case T::kSet:
    case T::kPush:
      out->push_back('[');
      for (size_t i = 0; i < v.elements.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendJson(v.elements[i], out);
      }
      out->push_back(']');
      return;
    case T::kMap:
      out->push_back('{');
      for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
        if (i > 0) out->push_back(',');
        const RespValue& key = v.elements[i];
        if (key.is_string() || key.type == T::kError || key.type == T::kBigNumber ||
            key.type == T::kDouble) {
          AppendJsonString(key.str, out);
        } else if (key.type == T::kInteger) {
          AppendJsonString(std::to_string(key.integer), out);
        } else {
          std::string text;  // A key that is an aggregate: its JSON text, as a string.
          AppendJson(key, &text);
          AppendJsonString(text, out);
        }
        out->push_back(':');
        AppendJson(v.elements[i + 1], out);
      }
      out->push_back('}');
      return;
  }
}

}  // namespace shoal::http
