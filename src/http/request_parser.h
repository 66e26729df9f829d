// RequestParser: bytes in, HTTP/1.x requests out, one at a time, on top of the Node.js
// http-parser library (libhttp-parser, a well-kept state machine; we add only our limits).
//
// Feed() parses until one request is complete and then stops (the library is paused), so a
// pipelining client's next requests stay in the caller's buffer until this one is answered:
// responses leave in request order and a client cannot queue unbounded work.
//
// Limits, checked as the bytes arrive: the request line and headers together at most
// `max_header_bytes` (431), a body at most `max_body_bytes` (413, decided from Content-Length
// before any of the body is read, or as chunks arrive). After an error the connection answers
// and closes: the stream's framing can no longer be trusted.
#pragma once

#include <http_parser.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace shoal::http {

struct HttpRequest {
  http_method method = HTTP_GET;
  std::string url;  // As sent: path and query, percent-encoded.
  std::vector<std::pair<std::string, std::string>> headers;  // Names in lower case.
  std::string body;
  bool keep_alive = true;        // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only if asked.
  bool expect_continue = false;  // "Expect: 100-continue".

  // The first header named `name` (lower case), or empty.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  void Clear();
};

class RequestParser {
 public:
  enum class State : uint8_t {
    kNeedMore,  // All bytes consumed; no complete request yet.
    kComplete,  // request() is complete; `consumed` bytes of input belong to it.
    kError,     // error_status()/error_message() say why. Answer and close.
  };

  RequestParser();

  void set_limits(size_t max_header_bytes, size_t max_body_bytes) {
    max_header_bytes_ = max_header_bytes;
    max_body_bytes_ = max_body_bytes;
  }

  // Parses from the start of `buf`. `consumed` says how much of it was used (all of it unless
  // kComplete). Call again with the remaining bytes (and later ones) after taking the request.
  State Feed(std::string_view buf, size_t* consumed);

  HttpRequest& request() { return request_; }
  // Starts the next request (after kComplete).
  void Next();

  // True once some bytes of the next request arrived (slowloris timeouts start then).
  bool in_request() const { return started_; }
  // True right after the headers of a request with "Expect: 100-continue" were accepted: the
  // caller sends "100 Continue" once (and calls ContinueSent()).
  bool wants_continue() const { return request_.expect_continue && headers_done_ && !continued_; }
  void ContinueSent() { continued_ = true; }

  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  static int OnMessageBegin(http_parser* p);
  static int OnUrl(http_parser* p, const char* at, size_t len);
  static int OnHeaderField(http_parser* p, const char* at, size_t len);
  static int OnHeaderValue(http_parser* p, const char* at, size_t len);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t len);
  static int OnMessageComplete(http_parser* p);
  int Fail(int status, std::string message);
  bool CountHeaderBytes(size_t len);

  http_parser parser_;
  http_parser_settings settings_;
  HttpRequest request_;
  size_t max_header_bytes_ = 64 * 1024;
  size_t max_body_bytes_ = 1024 * 1024;
  size_t header_bytes_ = 0;
  bool last_was_value_ = false;  // Header callbacks: a field after a value starts a new header.
  bool started_ = false;
  bool headers_done_ = false;
  bool continued_ = false;
  bool complete_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace shoal::http
