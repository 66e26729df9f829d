// Placeholder until the hash type lands (issue 3): no command creates hash objects yet.
#include "storage/objects.h"

namespace shoal::storage {

void FreeHash(ObjectEncoding, void*) {}
void* CloneHash(ObjectEncoding, const void*) { return nullptr; }
size_t HashHeapBytes(ObjectEncoding, const void*) { return 0; }

}  // namespace shoal::storage
