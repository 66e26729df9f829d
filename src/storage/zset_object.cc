// Placeholder until the zset type lands (issue 3): no command creates zset objects yet.
#include "storage/objects.h"

namespace shoal::storage {

void FreeZSet(ObjectEncoding, void*) {}
void* CloneZSet(ObjectEncoding, const void*) { return nullptr; }
size_t ZSetHeapBytes(ObjectEncoding, const void*) { return 0; }

}  // namespace shoal::storage
