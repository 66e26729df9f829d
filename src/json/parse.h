// Parsing JSON text into a json::Value tree with simdjson (validates UTF-8 and structure).
//
// Numbers: integers that fit int64 stay integers; everything with a fraction or exponent
// (1.0, 1e3) is a double, -0 is the double -0.0 and integers beyond 64 bits become doubles (all
// as serde_json, which RedisJSON uses). One difference: serde_json keeps integers between 2^63
// and 2^64 exact (u64); here they become doubles. Numbers beyond double's range (1E400) are
// errors ("number out of range"), as in RedisJSON.
// Objects with a repeated key keep the last value at the first key's position (serde_json's
// insertion-ordered map does the same).
#pragma once

#include <string_view>

#include "common/status.h"
#include "json/value.h"

namespace shoal::json {

// RedisJSON rejects documents nested deeper than this (serde_json's recursion limit).
inline constexpr int kDefaultMaxDepth = 128;

// Parses one JSON text (surrounding whitespace allowed, nothing else). Errors are
// Status::Error whose message is serde_json's text as RedisJSON replies it (no "ERR " prefix:
// RedisJSON passes serde_json's message through as the whole error line), e.g.
// "expected value at line 1 column 1", "trailing characters at line 1 column 3",
// "recursion limit exceeded at line 1 column 128". Containers may nest at most max_depth - 1
// deep (serde_json's limit of 128 accepts 127 nested arrays and rejects 128).
Result<Value> Parse(std::string_view text, int max_depth = kDefaultMaxDepth);

// The careful parser alone: a plain recursive-descent parser with serde_json's rules, which
// Parse() falls back to for error texts and for numbers simdjson reads differently. Slower;
// exposed so tests can check both parsers agree.
Result<Value> ParseCarefully(std::string_view text, int max_depth = kDefaultMaxDepth);

}  // namespace shoal::json
