// RESP3 replies in, JSON out: how the HTTP front end answers with what a command replied.
//
// The HTTP connection is a Client in RESP3 mode, so commands reply exactly as they would to a
// RESP3 client; this file reads those bytes back into a small tree (RespValue) and writes it as
// JSON:
//   map -> object (keys as strings)   array, set, push -> array   null -> null
//   simple/bulk/verbatim string -> string (verbatim without its "txt:" prefix)
//   integer -> number   double -> number (inf/nan, which JSON lacks, -> "inf"/"-inf"/"nan")
//   boolean -> true/false   big number -> string (JSON readers lose precision past 2^53)
//   error -> {"error": "<message>"} (the HTTP layer also answers 400 for a top-level error)
// Strings are bytes in RESP; JSON text is UTF-8, so a byte that is not part of valid UTF-8
// becomes U+FFFD rather than producing invalid JSON.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::http {

struct RespValue {
  enum class Type : uint8_t {
    kSimple,
    kError,
    kInteger,
    kBulk,
    kNull,
    kArray,
    kMap,
    kSet,
    kPush,
    kDouble,
    kBool,
    kBigNumber,
    kVerbatim,
  };
  Type type = Type::kNull;
  std::string str;                  // Strings, errors, double and big number text.
  int64_t integer = 0;              // Integers; booleans as 0/1.
  std::vector<RespValue> elements;  // Aggregates; a map holds key, value, key, value...

  bool is_null() const { return type == Type::kNull; }
  bool is_error() const { return type == Type::kError; }
  bool is_string() const {
    return type == Type::kSimple || type == Type::kBulk || type == Type::kVerbatim;
  }
  bool is_aggregate() const {
    return type == Type::kArray || type == Type::kMap || type == Type::kSet || type == Type::kPush;
  }
};

// Parses the reply at the start of `buf` into `out`. Returns the bytes it spans, or 0 when the
// bytes are incomplete or not RESP (which would be our bug: they come from our ReplyBuilder).
// Attributes (|) are skipped: the value that follows them is returned.
size_t ParseResp3(std::string_view buf, RespValue* out);

// Parses every reply in `buf`. Returns false if some bytes are left over or malformed.
bool ParseAllResp3(std::string_view buf, std::vector<RespValue>* out);

// Appends `v` as JSON.
void AppendJson(const RespValue& v, std::string* out);

// Appends `s` as a JSON string literal (quotes included), escaping as RFC 8259 requires.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace shoal::http
