// Placeholder until the set type lands (issue 3): no command creates set objects yet.
#include "storage/objects.h"

namespace shoal::storage {

void FreeSet(ObjectEncoding, void*) {}
void* CloneSet(ObjectEncoding, const void*) { return nullptr; }
size_t SetHeapBytes(ObjectEncoding, const void*) { return 0; }

}  // namespace shoal::storage
