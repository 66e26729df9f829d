// JSON memory accounting for INFO's used_memory_json: the bytes held by every JSON document of
// the process. The trees are counted by the JSON library itself (json::TotalHeapBytes); what is
// counted here are the JsonObject headers around them. Each thread keeps its own counter (shards
// create and free documents; the lazy-free thread frees big ones), so counting costs one
// uncontended add; INFO sums them.
#pragma once

#include <cstdint>

namespace shoal::storage {

// Adds `delta` (negative when memory is given back) to this thread's counter.
void AddJsonBytes(int64_t delta);

// Bytes held by live JSON documents: every thread's counter plus json::TotalHeapBytes().
int64_t TotalJsonBytes();

}  // namespace shoal::storage
