#include "json/serialize.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace shoal::json {
namespace {

// Which bytes need escaping: 0 = none, else the letter of the short escape, or 'u' for \u00XX.
struct EscapeTable {
  char t[256];
  constexpr EscapeTable() : t() {
    for (int c = 0; c < 0x20; ++c) t[c] = 'u';
    t['\b'] = 'b';
    t['\f'] = 'f';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['"'] = '"';
    t['\\'] = '\\';
  }
};
constexpr EscapeTable kEscape;

class Writer {
 public:
  Writer(const FormatOptions* opts, std::string* out) : opts_(opts), out_(out) {}

  void Write(const Value& v) {
    switch (v.type()) {
      case Type::kNull:
        out_->append("null", 4);
        return;
      case Type::kBool:
        if (v.as_bool()) {
          out_->append("true", 4);
        } else {
          out_->append("false", 5);
        }
        return;
      case Type::kInt:
        AppendInt(v.as_int(), out_);
        return;
      case Type::kDouble:
        AppendDouble(v.as_double(), out_);
        return;
      case Type::kString:
        AppendJsonString(v.as_string(), out_);
        return;
      case Type::kArray: {
        auto items = v.items();
        out_->push_back('[');
        ++depth_;
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) out_->push_back(',');
          NewLine();
          Write(items[i]);
        }
        --depth_;
        if (!items.empty()) NewLine();
        out_->push_back(']');
        return;
      }
      case Type::kObject: {
        auto members = v.members();
        out_->push_back('{');
        ++depth_;
        for (size_t i = 0; i < members.size(); ++i) {
          if (i > 0) out_->push_back(',');
          NewLine();
          AppendJsonString(members[i].name(), out_);
          out_->push_back(':');
          if (opts_ != nullptr) out_->append(opts_->space);
          Write(members[i].value);
        }
        --depth_;
        if (!members.empty()) NewLine();
        out_->push_back('}');
        return;
      }
    }
  }

 private:
  // RedisJSON's formatter: NEWLINE, then INDENT once per open container.
  void NewLine() {
    if (opts_ == nullptr) return;
    out_->append(opts_->newline);
    if (!opts_->indent.empty()) {
      for (int i = 0; i < depth_; ++i) out_->append(opts_->indent);
    }
  }

  const FormatOptions* opts_;
  std::string* out_;
  int depth_ = 0;
};

}  // namespace

// True if any of the 8 bytes in `w` is a control character, '"' or '\\' (bit tricks: a byte is
// below 0x20, or equal to 0x22 / 0x5C).
inline bool NeedsEscape8(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t lt20 = (w - kOnes * 0x20) & ~w;
  uint64_t q = w ^ (kOnes * '"');
  uint64_t eq_quote = (q - kOnes) & ~q;
  uint64_t b = w ^ (kOnes * '\\');
  uint64_t eq_bslash = (b - kOnes) & ~b;
  return ((lt20 | eq_quote | eq_bslash) & kHigh) != 0;
}

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  size_t i = 0;
  while (i < s.size()) {
    // Most strings have nothing to escape: skip 8 clean bytes at a time.
    if (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!NeedsEscape8(w)) {
        i += 8;
        continue;
      }
    }
    char e = kEscape.t[static_cast<unsigned char>(s[i])];
    if (e == 0) {
      ++i;
      continue;
    }
    out->append(s.data() + run, i - run);
    run = i + 1;
    if (e == 'u') {
      unsigned char c = static_cast<unsigned char>(s[i]);
      char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      out->append(buf, 6);
    } else {
      char buf[2] = {'\\', e};
      out->append(buf, 2);
    }
    ++i;
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendInt(int64_t i, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), i);
  out->append(buf, r.ptr - buf);
}

// Ryu's layout (as serde_json prints f64): with the shortest round-trip digits d1..dn and the
// decimal exponent k such that the value is 0.d1..dn x 10^k:
//   0 < k <= 16, n <= k      digits, zeros up to k, ".0"          (1e15 -> 1000000000000000.0)
//   0 < k <= 16, n > k       digits with '.' after k of them      (3.14)
//   -5 < k <= 0              "0." then -k zeros, digits           (0.0001)
//   otherwise                d1[.d2..dn] "e" k-1                  (1e16, 1.5e-7, 1e300)
void AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) {
    // Not reachable from parsed JSON; arithmetic callers reject overflow before storing.
    out->append("null");
    return;
  }
  if (d == 0) {
    out->append(std::signbit(d) ? "-0.0" : "0.0");
    return;
  }
  char sci[40];
  auto r = std::to_chars(sci, sci + sizeof(sci) - 1, d, std::chars_format::scientific);
  *r.ptr = '\0';  // atoi below reads the exponent up to here
  // sci: [-]d[.ddd]e(+|-)XX
  const char* p = sci;
  const char* end = r.ptr;
  if (*p == '-') {
    out->push_back('-');
    ++p;
  }
  char digits[20];
  int n = 0;
  const char* q = p;
  for (; q < end && *q != 'e'; ++q) {
    if (*q != '.') digits[n++] = *q;
  }
  int exp10 = std::atoi(q + 1);  // value = d1.d2..dn x 10^exp10
  int k = exp10 + 1;
  if (k > 0 && k <= 16) {
    if (n <= k) {
      out->append(digits, n);
      out->append(static_cast<size_t>(k - n), '0');
      out->append(".0");
    } else {
      out->append(digits, k);
      out->push_back('.');
      out->append(digits + k, n - k);
    }
  } else if (k > -5 && k <= 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-k), '0');
    out->append(digits, n);
  } else {
    out->push_back(digits[0]);
    if (n > 1) {
      out->push_back('.');
      out->append(digits + 1, n - 1);
    }
    out->push_back('e');
    char buf[8];
    auto er = std::to_chars(buf, buf + sizeof(buf), k - 1);
    out->append(buf, er.ptr - buf);
  }
}

void AppendJson(const Value& v, std::string* out) { Writer(nullptr, out).Write(v); }

void AppendJson(const Value& v, const FormatOptions& options, std::string* out) {
  Writer(options.compact() ? nullptr : &options, out).Write(v);
}

std::string ToJson(const Value& v) {
  std::string out;
  out.reserve(EstimateJsonSize(v));
  AppendJson(v, &out);
  return out;
}

std::string ToJson(const Value& v, const FormatOptions& options) {
  std::string out;
  out.reserve(EstimateJsonSize(v));
  AppendJson(v, options, &out);
  return out;
}

size_t EstimateJsonSize(const Value& v) {
  switch (v.type()) {
    case Type::kNull:
    case Type::kBool:
      return 5;
    case Type::kInt:
    case Type::kDouble:
      return 12;
    case Type::kString:
      return v.as_string().size() + 2;
    case Type::kArray: {
      size_t n = 2;
      for (const Value& c : v.items()) n += EstimateJsonSize(c) + 1;
      return n;
    }
    case Type::kObject: {
      size_t n = 2;
      for (const Member& m : v.members()) n += m.name().size() + 4 + EstimateJsonSize(m.value);
      return n;
    }
  }
  return 0;
}

}  // namespace shoal::json
