// LazyFree: gives a big value's memory back on a background thread, so that UNLINK of a
// million-element collection does not stall its shard (Redis's lazyfree). The value must already
// be unreachable: only memory crosses threads, never a key anyone can still look up.
#pragma once

#include "storage/value.h"

namespace shoal::storage {

// True when freeing `v` inline could take long: collections in their large encodings. Small
// (listpack, intset) ones are one allocation and are freed on the spot.
bool WorthFreeingLazily(const Value& v);

// Frees `v` on the background freer thread (started on first use).
void FreeLazily(Value v);

// Waits until everything handed over so far has been freed (tests, shutdown).
void DrainLazyFree();

}  // namespace shoal::storage
