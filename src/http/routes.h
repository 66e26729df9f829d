// Routes: which resource a request URL names, checked before anything runs.
//
//   /health  /metrics  /command            service endpoints (reserved: not collection names)
//   /{collection}                          a collection: list (GET), create (POST)
//   /{collection}/{id}                     a document: GET, PUT, PATCH, DELETE
//
// A collection name is [A-Za-z0-9_.-]{1,100}; an id is one path segment, percent-decoded, of
// 1..200 bytes, without '/'. The document lives in the JSON key "<collection>:<id>", and the
// collection's index (the ids in order) in the sorted set "_idx:<collection>".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::http {

constexpr size_t kMaxCollectionLength = 100;
constexpr size_t kMaxIdLength = 200;

struct Route {
  enum class Kind : uint8_t {
    kNotFound,
    kBad,
    kHealth,
    kMetrics,
    kCommand,
    kCollection,
    kDocument
  };
  Kind kind = Kind::kNotFound;
  std::string collection;
  std::string id;
  std::string query;  // After '?', still percent-encoded.
  std::string error;  // kBad: why.
};

Route ParseRoute(std::string_view url);

// The document's key and the collection's index key.
std::string DocumentKey(std::string_view collection, std::string_view id);
std::string IndexKey(std::string_view collection);

// Checks an id taken from a request body (POST): same rules as one in a path. Empty if valid.
std::string CheckId(std::string_view id);

// Percent-decodes `s` ("+" stays "+": this is a path, not a form). Nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);
// Percent-encodes everything but unreserved characters (for Location headers).
std::string PercentEncode(std::string_view s);

// The value of query parameter `name` (decoded), or nullopt if absent or malformed.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace shoal::http
