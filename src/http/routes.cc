#include "http/routes.h"

namespace shoal::http {

namespace {

bool ValidCollection(std::string_view c) {
  if (c.empty() || c.size() > kMaxCollectionLength) return false;
  for (char ch : c) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string CheckId(std::string_view id) {
  if (id.empty()) return "document id must not be empty";
  if (id.size() > kMaxIdLength) {
    return "document id longer than " + std::to_string(kMaxIdLength) + " bytes";
  }
  if (id.find('/') != std::string_view::npos) return "document id must not contain '/'";
  return "";
}

Route ParseRoute(std::string_view url) {
  Route r;
  size_t q = url.find('?');
  if (q != std::string_view::npos) {
    r.query.assign(url.substr(q + 1));
    url = url.substr(0, q);
  }
  size_t hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  if (url.empty() || url[0] != '/') return r;  // Absolute-form or '*': not ours.
  std::string_view rest = url.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);  // "/c/" is "/c".
  if (rest.empty()) return r;
  size_t slash = rest.find('/');
  std::string_view first = rest.substr(0, slash);
  if (slash == std::string_view::npos) {
    if (first == "health") return r.kind = Route::Kind::kHealth, r;
    if (first == "metrics") return r.kind = Route::Kind::kMetrics, r;
    if (first == "command") return r.kind = Route::Kind::kCommand, r;
  }
  std::optional<std::string> collection = PercentDecode(first);
  if (!collection || !ValidCollection(*collection) || *collection == "health" ||
      *collection == "metrics" || *collection == "command") {
    r.kind = Route::Kind::kBad;
    r.error =
        "invalid collection name (1 to 100 of A-Z a-z 0-9 _ . -; not health, metrics or "
        "command)";
    return r;
  }
  r.collection = std::move(*collection);
  if (slash == std::string_view::npos) return r.kind = Route::Kind::kCollection, r;
  std::string_view id_part = rest.substr(slash + 1);
  if (id_part.find('/') != std::string_view::npos) return r;  // Deeper paths name nothing.
  std::optional<std::string> id = PercentDecode(id_part);
  if (!id) {
    r.kind = Route::Kind::kBad;
    r.error = "malformed percent-encoding in document id";
    return r;
  }
  std::string why = CheckId(*id);
  if (!why.empty()) {
    r.kind = Route::Kind::kBad;
    r.error = why;
    return r;
  }
  r.id = std::move(*id);
  r.kind = Route::Kind::kDocument;
  return r;
}

std::string DocumentKey(std::string_view collection, std::string_view id) {
  std::string key;
  key.reserve(collection.size() + 1 + id.size());
  key.append(collection).push_back(':');
  key.append(id);
  return key;
}

std::string IndexKey(std::string_view collection) { return "_idx:" + std::string(collection); }

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (key == name) {
      std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      return PercentDecode(value);
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return std::nullopt;
}

}  // namespace shoal::http
