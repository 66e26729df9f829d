// Intset: the compact encoding of a set whose members are all integers (OBJECT ENCODING "intset").
//
// Layout, one malloc'd blob (the same as Redis's intset, so small sets cost what they cost there):
//   width: uint32 (2, 4 or 8) | length: uint32 | values: int<width>[length]
// Values are distinct and ascending, little-endian, all stored at the narrowest width that fits
// the widest of them. Adding a value that needs a wider width upgrades the whole blob; removing
// never downgrades (as in Redis). Ascending order is what SMEMBERS, SSCAN and the set algebra
// replies show for intsets, so it must stay exactly this.
//
// Functions that may move the blob return its new address; the old one is then invalid.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shoal::storage::intset {

// An empty intset of width 2.
uint8_t* New();
void Free(uint8_t* is);
uint8_t* Clone(const uint8_t* is);

uint32_t Size(const uint8_t* is);
uint32_t Width(const uint8_t* is);
// Bytes of the blob (header included).
size_t Bytes(const uint8_t* is);

// The value at `pos`. REQUIRES: pos < Size(is).
int64_t Get(const uint8_t* is, uint32_t pos);
bool Contains(const uint8_t* is, int64_t v);

// Adds `v` if absent; `*added` says whether it was.
[[nodiscard]] uint8_t* Add(uint8_t* is, int64_t v, bool* added);
// Removes `v` if present; `*removed` says whether it was.
[[nodiscard]] uint8_t* Remove(uint8_t* is, int64_t v, bool* removed);

}  // namespace shoal::storage::intset
