// Two parsers behind one function:
// - the fast path: simdjson's DOM parser (SIMD validation, UTF-8 checks), whose tape is walked
//   once into the tree (strings are copied once, from simdjson's buffer into the nodes);
// - the careful path: a plain recursive-descent parser that follows serde_json's rules and
//   error texts (position, "expected value", ...). It runs only when simdjson fails or when the
//   text may hold numbers simdjson reads differently from serde_json (integers beyond 64 bits,
//   which serde_json turns into doubles, and -0, which serde_json keeps as -0.0), so that
//   errors carry serde_json's wording and those numbers RedisJSON's values.
#include "json/parse.h"

#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/str_format.h"

namespace shoal::json {
namespace {

// ---------- Fast path ----------

bool Convert(simdjson::dom::element e, int depth, int max_depth, Value* out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::ARRAY: {
      if (depth + 1 >= max_depth) return false;
      simdjson::dom::array a = e.get_array().value_unsafe();
      Value v = Value::Array(a.size());
      for (simdjson::dom::element child : a) {
        Value c;
        if (!Convert(child, depth + 1, max_depth, &c)) return false;
        v.PushBack(std::move(c));
      }
      *out = std::move(v);
      return true;
    }
    case element_type::OBJECT: {
      if (depth + 1 >= max_depth) return false;
      simdjson::dom::object o = e.get_object().value_unsafe();
      Value v = Value::Object(o.size());
      for (simdjson::dom::key_value_pair kv : o) {
        Value c;
        if (!Convert(kv.value, depth + 1, max_depth, &c)) return false;
        // Duplicate keys: the last value wins at the first position (serde_json's map).
        v.Set(kv.key, std::move(c));
      }
      *out = std::move(v);
      return true;
    }
    case element_type::INT64:
      *out = Value(e.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      // Beyond int64: kept as a double (see parse.h).
      *out = Value(static_cast<double>(e.get_uint64().value_unsafe()));
      return true;
    case element_type::DOUBLE:
      *out = Value(e.get_double().value_unsafe());
      return true;
    case element_type::STRING:
      *out = Value(e.get_string().value_unsafe());
      return true;
    case element_type::BOOL:
      *out = Value(e.get_bool().value_unsafe());
      return true;
    case element_type::NULL_VALUE:
      *out = Value();
      return true;
  }
  return false;
}

// True when `text` has a "-0" that is a whole number token outside strings could be there
// (a cheap over-approximation: any "-0" not followed by a digit, '.', 'e' or 'E').
bool MayHaveNegativeZero(std::string_view text) {
  size_t pos = 0;
  while ((pos = text.find("-0", pos)) != std::string_view::npos) {
    size_t next = pos + 2;
    if (next >= text.size()) return true;
    char c = text[next];
    if (!(c >= '0' && c <= '9') && c != '.' && c != 'e' && c != 'E') return true;
    pos = next;
  }
  return false;
}

// ---------- Careful path (serde_json's rules and messages) ----------

class SlowParser {
 public:
  SlowParser(std::string_view text, int max_depth) : s_(text), max_depth_(max_depth) {}

  Result<Value> Run() {
    SkipWs();
    Value v;
    if (!ParseValue(&v, 0)) return Fail();
    SkipWs();
    if (pos_ < s_.size()) {
      SetError("trailing characters", pos_ + 1);
      return Fail();
    }
    return v;
  }

 private:
  Status Fail() const {
    auto [line, col] = LineCol(err_pos_);
    return Status::Error(absl::StrFormat("%s at line %d column %d", err_, line, col));
  }

  // serde_json reports the line and column of the last byte it consumed (column 0 at the start
  // of a line); err_pos_ counts bytes consumed.
  std::pair<int, int> LineCol(size_t consumed) const {
    int line = 1, col = 0;
    for (size_t i = 0; i < consumed && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 0;
      } else {
        ++col;
      }
    }
    return {line, col};
  }

  void SetError(const char* msg, size_t consumed) {
    err_ = msg;
    err_pos_ = consumed;
  }

  bool Eof() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }
  bool AtDigit() const { return !Eof() && Peek() >= '0' && Peek() <= '9'; }

  // True, with `eof_error` (one of serde_json's "EOF while parsing ..." texts) recorded, when
  // the text ends here.
  bool AtEnd(const char* eof_error) {
    if (!Eof()) return false;
    SetError(eof_error, pos_);
    return true;
  }

  void SkipWs() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool ParseValue(Value* out, int depth) {
    if (AtEnd("EOF while parsing a value")) return false;
    char c = Peek();
    switch (c) {
      case 'n':
        return ParseIdent("null", Value(), out);
      case 't':
        return ParseIdent("true", Value(true), out);
      case 'f':
        return ParseIdent("false", Value(false), out);
      case '"': {
        ++pos_;
        std::string str;
        if (!ParseString(&str)) return false;
        *out = Value(std::string_view(str));
        return true;
      }
      case '[':
        return ParseArray(out, depth);
      case '{':
        return ParseObject(out, depth);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        SetError("expected value", pos_ + 1);
        return false;
    }
  }

  bool ParseIdent(std::string_view word, Value v, Value* out) {
    for (size_t i = 0; i < word.size(); ++i) {
      if (pos_ + i >= s_.size()) {
        SetError("EOF while parsing a value", s_.size());
        return false;
      }
      if (s_[pos_ + i] != word[i]) {
        SetError("expected ident", pos_ + i + 1);
        return false;
      }
    }
    pos_ += word.size();
    *out = std::move(v);
    return true;
  }

  bool EnterContainer(int depth) {
    if (depth + 1 >= max_depth_) {  // serde_json: the 128th nested container fails
      SetError("recursion limit exceeded", pos_ + 1);
      return false;
    }
    return true;
  }

  enum class Next { kItem, kEnd, kError };

  // After an array element or an object member: consumes "," (another item follows) or `close`
  // (the container ends); anything else is an error in serde_json's words (`eof_error` at the
  // end of the text, `unexpected` before another character, "trailing comma" for ",]").
  Next AfterItem(char close, const char* eof_error, const char* unexpected) {
    SkipWs();
    if (AtEnd(eof_error)) return Next::kError;
    char c = Peek();
    if (c == ',') {
      ++pos_;
      SkipWs();
      if (!Eof() && Peek() == close) {
        SetError("trailing comma", pos_ + 1);
        return Next::kError;
      }
      return Next::kItem;
    }
    if (c == close) {
      ++pos_;
      return Next::kEnd;
    }
    SetError(unexpected, pos_ + 1);
    return Next::kError;
  }

  bool ParseArray(Value* out, int depth) {
    if (!EnterContainer(depth)) return false;
    ++pos_;  // '['
    Value arr = Value::Array();
    SkipWs();
    if (!Eof() && Peek() == ']') {
      ++pos_;
      *out = std::move(arr);
      return true;
    }
    while (true) {
      SkipWs();
      Value item;
      if (AtEnd("EOF while parsing a list")) return false;
      if (!ParseValue(&item, depth + 1)) return false;
      arr.PushBack(std::move(item));
      Next next = AfterItem(']', "EOF while parsing a list", "expected `,` or `]`");
      if (next == Next::kError) return false;
      if (next == Next::kEnd) {
        *out = std::move(arr);
        return true;
      }
    }
  }

  bool ParseObject(Value* out, int depth) {
    if (!EnterContainer(depth)) return false;
    ++pos_;  // '{'
    Value obj = Value::Object();
    SkipWs();
    if (!Eof() && Peek() == '}') {
      ++pos_;
      *out = std::move(obj);
      return true;
    }
    while (true) {
      SkipWs();
      if (AtEnd("EOF while parsing an object")) return false;
      if (Peek() != '"') {
        SetError("key must be a string", pos_ + 1);
        return false;
      }
      ++pos_;
      std::string key;
      if (!ParseString(&key)) return false;
      SkipWs();
      if (AtEnd("EOF while parsing an object")) return false;
      if (Peek() != ':') {
        SetError("expected `:`", pos_ + 1);
        return false;
      }
      ++pos_;
      SkipWs();
      Value item;
      if (!ParseValue(&item, depth + 1)) return false;
      obj.Set(key, std::move(item));
      Next next = AfterItem('}', "EOF while parsing an object", "expected `,` or `}`");
      if (next == Next::kError) return false;
      if (next == Next::kEnd) {
        *out = std::move(obj);
        return true;
      }
    }
  }

  static int HexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool ParseHex4(uint32_t* out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (AtEnd("EOF while parsing a string")) return false;
      int h = HexVal(Peek());
      ++pos_;
      if (h < 0) {
        SetError("invalid escape", pos_);
        return false;
      }
      v = v * 16 + static_cast<uint32_t>(h);
    }
    *out = v;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Length of the valid UTF-8 sequence at pos_, or 0.
  size_t Utf8SeqLen() const {
    auto b = [&](size_t i) -> unsigned {
      return pos_ + i < s_.size() ? static_cast<unsigned char>(s_[pos_ + i]) : 0x100u;
    };
    unsigned c = b(0);
    auto cont = [&](size_t i) { return (b(i) & 0xC0u) == 0x80u && b(i) < 0x100u; };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
      if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
      return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (c == 0xF0 && b(1) < 0x90) return 0;
      if (c == 0xF4 && b(1) > 0x8F) return 0;
      return 4;
    }
    return 0;
  }

  // After the opening quote; consumes the closing quote.
  bool ParseString(std::string* out) {
    while (true) {
      if (AtEnd("EOF while parsing a string")) return false;
      unsigned char c = static_cast<unsigned char>(Peek());
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        ++pos_;
        if (AtEnd("EOF while parsing a string")) return false;
        char e = Peek();
        ++pos_;
        switch (e) {
          case '"':
            out->push_back('"');
            break;
          case '\\':
            out->push_back('\\');
            break;
          case '/':
            out->push_back('/');
            break;
          case 'b':
            out->push_back('\b');
            break;
          case 'f':
            out->push_back('\f');
            break;
          case 'n':
            out->push_back('\n');
            break;
          case 'r':
            out->push_back('\r');
            break;
          case 't':
            out->push_back('\t');
            break;
          case 'u': {
            uint32_t cp;
            if (!ParseHex4(&cp)) return false;
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
              SetError("lone leading surrogate in hex escape", pos_);
              return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (pos_ + 1 >= s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
                SetError("unexpected end of hex escape", pos_ < s_.size() ? pos_ + 1 : pos_);
                return false;
              }
              pos_ += 2;
              uint32_t lo;
              if (!ParseHex4(&lo)) return false;
              if (lo < 0xDC00 || lo > 0xDFFF) {
                SetError("lone leading surrogate in hex escape", pos_);
                return false;
              }
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            AppendUtf8(cp, out);
            break;
          }
          default:
            SetError("invalid escape", pos_);
            return false;
        }
        continue;
      }
      if (c < 0x20) {
        SetError("control character (\\u0000-\\u001F) found while parsing a string", pos_ + 1);
        return false;
      }
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      size_t n = Utf8SeqLen();
      if (n == 0) {
        SetError("invalid unicode code point", pos_ + 1);
        return false;
      }
      out->append(s_.data() + pos_, n);
      pos_ += n;
    }
  }

  // One or more digits: a fraction's or an exponent's.
  bool ParseDigits() {
    if (AtEnd("EOF while parsing a value")) return false;
    if (!AtDigit()) {
      SetError("invalid number", pos_ + 1);
      return false;
    }
    while (AtDigit()) ++pos_;
    return true;
  }

  bool ParseNumber(Value* out) {
    size_t start = pos_;
    bool negative = false;
    if (Peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (AtEnd("EOF while parsing a value")) return false;
    char c = Peek();
    if (c == '0') {
      ++pos_;
      if (AtDigit()) {
        SetError("invalid number", pos_ + 1);
        return false;
      }
    } else if (c >= '1' && c <= '9') {
      while (AtDigit()) ++pos_;
    } else {
      SetError("invalid number", pos_ + 1);
      return false;
    }
    bool is_float = false;
    if (!Eof() && Peek() == '.') {
      is_float = true;
      ++pos_;
      if (!ParseDigits()) return false;
    }
    if (!Eof() && (Peek() == 'e' || Peek() == 'E')) {
      is_float = true;
      ++pos_;
      if (!Eof() && (Peek() == '+' || Peek() == '-')) ++pos_;
      if (!ParseDigits()) return false;
    }
    std::string token(s_.substr(start, pos_ - start));
    if (!is_float) {
      errno = 0;
      char* end = nullptr;
      long long i = std::strtoll(token.c_str(), &end, 10);
      if (errno == 0 && !(negative && i == 0)) {
        *out = Value(static_cast<int64_t>(i));
        return true;
      }
      // -0 and integers beyond int64 become doubles (serde_json; see parse.h).
    }
    double d = std::strtod(token.c_str(), nullptr);
    if (std::isinf(d)) {
      SetError("number out of range", pos_);
      return false;
    }
    *out = Value(d);
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  int max_depth_;
  const char* err_ = "";
  size_t err_pos_ = 0;
};

}  // namespace

Result<Value> Parse(std::string_view text, int max_depth) {
  if (!MayHaveNegativeZero(text)) {
    // One parser per thread: its buffers are reused from call to call (shard threads parse
    // many small documents). A big document gets a parser of its own, so a thread does not
    // keep buffers sized for its largest input forever.
    constexpr size_t kReuseLimit = 1 << 20;
    thread_local simdjson::dom::parser shared_parser;
    std::optional<simdjson::dom::parser> big_parser;
    if (text.size() > kReuseLimit) big_parser.emplace();
    simdjson::dom::parser& parser = big_parser ? *big_parser : shared_parser;
    simdjson::dom::element root;
    simdjson::error_code err = parser.parse(text.data(), text.size()).get(root);
    if (!err) {
      Value v;
      if (Convert(root, 0, max_depth, &v)) return v;
      // Too deep: the careful path reports where.
    }
  }
  return SlowParser(text, max_depth).Run();
}

Result<Value> ParseCarefully(std::string_view text, int max_depth) {
  return SlowParser(text, max_depth).Run();
}

}  // namespace shoal::json
