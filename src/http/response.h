// Response: what a handler answers, and its HTTP/1.1 encoding (status line, headers with CORS,
// keep-alive or close, body).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/request_parser.h"

namespace shoal::http {

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // Extra: Location, Allow...
  bool close = false;  // Close the connection after this response.
};

// {"error": "<message>"} with `status`.
Response ErrorResponse(int status, std::string_view message);
// 405 with the Allow header.
Response MethodNotAllowed(std::string_view allow);

const char* StatusText(int status);

// Appends `r` as HTTP/1.1 bytes. `req` decides keep-alive, HEAD (headers only) and CORS (its
// Origin header against the http-cors-origins option). Returns true if the connection must
// close after it.
bool SerializeResponse(const Response& r, const HttpRequest* req, std::string* out);

// CORS preflight (OPTIONS with Access-Control-Request-Method) or a plain OPTIONS for a route
// allowing `allow`.
Response OptionsResponse(const HttpRequest& req, std::string_view allow);

}  // namespace shoal::http
