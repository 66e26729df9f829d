// JSON memory accounting: the bytes held by every JSON document of the process, for INFO's
// used_memory_json. Each thread keeps its own counter (shards create, change and free documents;
// the lazy-free thread frees big ones), so counting costs one uncontended add; INFO sums them.
#pragma once

#include <cstdint>

namespace shoal::storage {

// Adds `delta` (negative when memory is given back) to this thread's counter.
void AddJsonBytes(int64_t delta);

// The sum of every thread's counter: bytes held by live JSON documents.
int64_t TotalJsonBytes();

}  // namespace shoal::storage
