// The one hash function for keys: it picks a key's shard and its bucket within the shard.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace shoal {

inline uint64_t HashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace shoal
