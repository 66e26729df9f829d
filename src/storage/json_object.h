// A JSON key's value: a Value of type kJson holding a JsonObject, which owns the document tree
// (json::Value) and an estimate of its size.
//
// Memory: INFO's used_memory_json is exact and costs no walk: json::TotalHeapBytes() (the tree
// library's running counters) plus the JsonObject headers counted here (json_memory.h).
// `accounted` is this document's own figure (the lazy-free decision reads it): MakeJson measures
// the whole tree; a command that changes a document reports what it changed with
// AdjustJsonBytes (a delta measured on the subtrees it touched, so a write costs in proportion to
// what it changes). Deltas miss what containers reserve as they grow, so once the changes since
// the last exact count add up to a quarter of the document it is counted again (amortized O(1)
// per changed byte); the figure stays within about that much of the truth.
#pragma once

#include <cstdint>

#include "json/value.h"
#include "storage/value.h"

namespace shoal::storage {

struct JsonObject {
  json::Value root;
  int64_t accounted = 0;  // Bytes this document adds to used_memory_json.
  int64_t churn = 0;      // Sum of |delta| since the last exact count.
};

// A kJson value owning `root`, accounted in full.
Value MakeJson(json::Value root);

// REQUIRES: v.type() == ValueType::kJson.
inline JsonObject& JsonOf(const Value& v) { return *static_cast<JsonObject*>(v.object()); }
inline json::Value& JsonRoot(const Value& v) { return JsonOf(v).root; }

// Adds `delta` bytes to the document's (and the process's) JSON memory.
void AdjustJsonBytes(const Value& v, int64_t delta);

// Counts the document again, exactly (after a change too scattered to measure locally).
void RecountJsonBytes(const Value& v);

// Replaces the whole tree of `v` (JSON.SET at the root of an existing key), re-accounting it.
void ReplaceJsonRoot(const Value& v, json::Value root);

}  // namespace shoal::storage
