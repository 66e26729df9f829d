// Placeholder until the list type lands (issue 3): no command creates list objects yet.
#include "storage/objects.h"

namespace shoal::storage {

void FreeList(ObjectEncoding, void*) {}
void* CloneList(ObjectEncoding, const void*) { return nullptr; }
size_t ListHeapBytes(ObjectEncoding, const void*) { return 0; }

}  // namespace shoal::storage
