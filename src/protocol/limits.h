// Protocol limits, with Redis 7.0's defaults.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shoal::protocol {

inline constexpr size_t kInlineMaxSize = 64 * 1024;                // PROTO_INLINE_MAX_SIZE
inline constexpr int64_t kDefaultMaxBulkLen = 512LL * 1024 * 1024;  // proto-max-bulk-len
inline constexpr int64_t kMaxMultibulkLen = 2147483647;             // INT_MAX
inline constexpr size_t kDefaultQueryBufferLimit = 1024ULL * 1024 * 1024;  // client-query-buffer-limit

}  // namespace shoal::protocol
