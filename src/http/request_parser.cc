#include "http/request_parser.h"

#include <algorithm>
#include <cctype>
#include <climits>

namespace shoal::http {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The library stops at its own compiled-in header limit (80 KiB); ours is configurable, so the
// library's is raised once to the largest value ours may take.
struct RaiseLibraryHeaderLimit {
  RaiseLibraryHeaderLimit() { http_parser_set_max_header_size(UINT32_MAX); }
};

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

bool HttpRequest::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return true;
  }
  return false;
}

void HttpRequest::Clear() {
  method = HTTP_GET;
  url.clear();
  headers.clear();
  body.clear();
  keep_alive = true;
  expect_continue = false;
}

RequestParser::RequestParser() {
  static RaiseLibraryHeaderLimit raise;
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = OnMessageBegin;
  settings_.on_url = OnUrl;
  settings_.on_header_field = OnHeaderField;
  settings_.on_header_value = OnHeaderValue;
  settings_.on_headers_complete = OnHeadersComplete;
  settings_.on_body = OnBody;
  settings_.on_message_complete = OnMessageComplete;
}

void RequestParser::Next() {
  request_.Clear();
  header_bytes_ = 0;
  last_was_value_ = false;
  started_ = false;
  headers_done_ = false;
  continued_ = false;
  complete_ = false;
  http_parser_pause(&parser_, 0);
}

RequestParser::State RequestParser::Feed(std::string_view buf, size_t* consumed) {
  if (error_status_ != 0) {
    *consumed = 0;
    return State::kError;
  }
  if (!buf.empty() && !started_) started_ = true;
  size_t n = http_parser_execute(&parser_, &settings_, buf.data(), buf.size());
  *consumed = n;
  if (complete_) return State::kComplete;
  http_errno err = HTTP_PARSER_ERRNO(&parser_);
  if (err != HPE_OK) {
    if (error_status_ == 0) {  // The library's own verdict (our callbacks set theirs).
      if (err == HPE_HEADER_OVERFLOW) {
        Fail(431, "request header fields too large");
      } else {
        Fail(400, std::string("malformed HTTP request: ") + http_errno_description(err));
      }
    }
    return State::kError;
  }
  if (parser_.upgrade) return Fail(400, "protocol upgrades are not supported"), State::kError;
  return State::kNeedMore;
}

int RequestParser::Fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return -1;
}

bool RequestParser::CountHeaderBytes(size_t len) {
  header_bytes_ += len;
  return header_bytes_ <= max_header_bytes_;
}

int RequestParser::OnMessageBegin(http_parser* p) {
  auto* self = static_cast<RequestParser*>(p->data);
  self->started_ = true;
  return 0;
}

int RequestParser::OnUrl(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (!self->CountHeaderBytes(len)) return self->Fail(431, "request line and headers too large");
  self->request_.url.append(at, len);
  return 0;
}

int RequestParser::OnHeaderField(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (!self->CountHeaderBytes(len)) return self->Fail(431, "request header fields too large");
  auto& headers = self->request_.headers;
  if (headers.empty() || self->last_was_value_) headers.emplace_back();
  self->last_was_value_ = false;
  std::string& name = headers.back().first;
  for (size_t i = 0; i < len; ++i) {
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(at[i]))));
  }
  return 0;
}

int RequestParser::OnHeaderValue(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (!self->CountHeaderBytes(len)) return self->Fail(431, "request header fields too large");
  auto& headers = self->request_.headers;
  if (headers.empty()) headers.emplace_back();
  headers.back().second.append(at, len);
  self->last_was_value_ = true;
  return 0;
}

int RequestParser::OnHeadersComplete(http_parser* p) {
  auto* self = static_cast<RequestParser*>(p->data);
  HttpRequest& r = self->request_;
  if (p->http_major != 1) return self->Fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
  // WebSocket and other upgrades (and CONNECT) would hand the socket to another protocol.
  if (p->upgrade || p->method == HTTP_CONNECT) {
    return self->Fail(400, "protocol upgrades are not supported");
  }
  r.method = static_cast<http_method>(p->method);
  r.keep_alive = http_should_keep_alive(p) != 0;
  r.expect_continue = EqualsNoCase(r.Header("expect"), "100-continue");
  // Content-Length is known up front: refuse before reading any of the body. (The library sets
  // content_length to ULLONG_MAX when the header is absent.)
  if (p->content_length != ULLONG_MAX && p->content_length > self->max_body_bytes_) {
    return self->Fail(
        413, "request body too large (limit " + std::to_string(self->max_body_bytes_) + " bytes)");
  }
  if (p->content_length != ULLONG_MAX) r.body.reserve(static_cast<size_t>(p->content_length));
  self->headers_done_ = true;
  return 0;
}

int RequestParser::OnBody(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<RequestParser*>(p->data);
  if (self->request_.body.size() + len > self->max_body_bytes_) {  // Chunked bodies.
    return self->Fail(
        413, "request body too large (limit " + std::to_string(self->max_body_bytes_) + " bytes)");
  }
  self->request_.body.append(at, len);
  return 0;
}

int RequestParser::OnMessageComplete(http_parser* p) {
  auto* self = static_cast<RequestParser*>(p->data);
  self->complete_ = true;
  http_parser_pause(p, 1);  // One request at a time: the caller answers it first.
  return 0;
}

}  // namespace shoal::http
