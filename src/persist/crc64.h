// Redis's CRC64 (redis/src/crc64.c): the Jones polynomial 0xad93d23594c935a9, reflected input and
// output, initial value 0, no final xor. crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
// It checks DUMP payloads and the tail of every RDB file, so the snapshot writer runs it over
// gigabytes: slice-by-8 tables, eight input bytes per step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace shoal::persist {

// Continues a CRC over `len` more bytes: crc64(crc64(0, a), b) == crc64(0, a + b).
uint64_t Crc64(uint64_t crc, const void* data, size_t len);
inline uint64_t Crc64(uint64_t crc, std::string_view s) { return Crc64(crc, s.data(), s.size()); }

}  // namespace shoal::persist
