#include "http/response.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "http/resp3_to_json.h"
#include "server/server_state.h"

namespace shoal::http {

namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string item = Trim(s.substr(0, comma));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    s = s.substr(comma + 1);
  }
  return out;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The Access-Control-Allow-Origin value for `origin`, or empty when it is not allowed (or CORS
// is off: http-cors-origins is empty).
std::string AllowedOrigin(std::string_view origin, bool* vary) {
  *vary = false;
  if (origin.empty()) return "";
  std::string conf = server::ServerState::Get().config.GetString("http-cors-origins");
  if (conf.empty()) return "";
  for (const std::string& allowed : SplitList(conf)) {
    if (allowed == "*") return "*";
    if (allowed == origin) {
      *vary = true;  // The answer depends on Origin: caches must key on it.
      return std::string(origin);
    }
  }
  *vary = true;
  return "";
}

// The Date header's value (RFC 9110 requires it from a server with a clock), formatted once per
// second per thread.
const std::string& HttpDate() {
  thread_local time_t last = 0;
  thread_local std::string text;
  time_t now = time(nullptr);
  if (now != last) {
    last = now;
    tm gmt;
    gmtime_r(&now, &gmt);
    char buf[64];
    size_t n = strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &gmt);
    text.assign(buf, n);
  }
  return text;
}

}  // namespace

const char* StatusText(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.body = "{\"error\":";
  AppendJsonString(message, &r.body);
  r.body.push_back('}');
  return r;
}

Response MethodNotAllowed(std::string_view allow) {
  Response r = ErrorResponse(405, "method not allowed here (allowed: " + std::string(allow) + ")");
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

bool SerializeResponse(const Response& r, const HttpRequest* req, std::string* out) {
  bool close = r.close || req == nullptr || !req->keep_alive;
  out->append("HTTP/1.1 ");
  out->append(std::to_string(r.status));
  out->push_back(' ');
  out->append(StatusText(r.status));
  out->append("\r\nDate: ");
  out->append(HttpDate());
  out->append("\r\n");
  const bool has_body = r.status != 204 && r.status != 304;
  if (has_body) {
    out->append("Content-Type: ");
    out->append(r.content_type);
    out->append("\r\nContent-Length: ");
    out->append(std::to_string(r.body.size()));
    out->append("\r\n");
  }
  for (const auto& [k, v] : r.headers) {
    out->append(k);
    out->append(": ");
    out->append(v);
    out->append("\r\n");
  }
  if (req != nullptr) {
    bool already = false;  // A preflight answer carries its own CORS headers.
    for (const auto& [k, v] : r.headers) already |= k == "Access-Control-Allow-Origin";
    bool vary = false;
    std::string origin = already ? "" : AllowedOrigin(req->Header("origin"), &vary);
    if (!origin.empty()) {
      out->append("Access-Control-Allow-Origin: ");
      out->append(origin);
      out->append("\r\n");
    }
    if (vary && !already) out->append("Vary: Origin\r\n");
  }
  if (close) {
    out->append("Connection: close\r\n");
  } else if (req->Header("connection").size() > 0 &&
             EqualsNoCase(req->Header("connection"), "keep-alive")) {
    out->append("Connection: keep-alive\r\n");  // HTTP/1.0 clients asked for it.
  }
  out->append("\r\n");
  if (has_body && (req == nullptr || req->method != HTTP_HEAD)) out->append(r.body);
  return close;
}

Response OptionsResponse(const HttpRequest& req, std::string_view allow) {
  Response r;
  r.status = 204;
  r.headers.emplace_back("Allow", std::string(allow));
  std::string_view method = req.Header("access-control-request-method");
  if (method.empty()) return r;  // A plain OPTIONS: just what the route allows.
  // A CORS preflight.
  server::Config& config = server::ServerState::Get().config;
  bool vary = false;
  std::string origin = AllowedOrigin(req.Header("origin"), &vary);
  if (origin.empty()) return ErrorResponse(403, "CORS: origin not allowed");
  std::string methods = config.GetString("http-cors-methods");
  bool method_ok = false;
  for (const std::string& m : SplitList(methods)) method_ok |= EqualsNoCase(m, method);
  if (!method_ok) return ErrorResponse(403, "CORS: method not allowed");
  r.headers.emplace_back("Access-Control-Allow-Origin", origin);
  r.headers.emplace_back("Access-Control-Allow-Methods", methods);
  std::string headers = config.GetString("http-cors-headers");
  if (!headers.empty()) r.headers.emplace_back("Access-Control-Allow-Headers", headers);
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  r.headers.emplace_back("Vary", "Origin");
  return r;
}

}  // namespace shoal::http
