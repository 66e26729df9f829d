// Integrity checks and readers for the packed blobs an RDB value may carry: listpacks (Redis 7),
// ziplists (Redis 3.2-6.2), zipmaps (Redis < 2.6) and intsets. A payload comes from outside
// (RESTORE, a file), so every blob is checked in full before Shoal's own code, which trusts its
// invariants, touches it: as Redis's sanitize-dump-payload yes, and a little stricter where
// Shoal relies on more (exact backlen sizes, known listpack encodings).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shoal::persist {

// A listpack: header size and count, every entry's encoding, bounds and backlen, the end byte.
// `*count` receives the number of entries.
Status ValidateListpack(std::string_view lp, size_t* count);

// An intset: width 2, 4 or 8, the size matching the length, values strictly ascending. `*count`
// receives the number of values.
Status ValidateIntset(std::string_view is, size_t* count);

// A ziplist, checked in full and read into its entries' text (integers formatted in decimal).
Status ReadZiplist(std::string_view zl, std::vector<std::string>* entries);

// A zipmap (the oldest small-hash encoding), read into field, value, field, value...
Status ReadZipmap(std::string_view zm, std::vector<std::string>* entries);

}  // namespace shoal::persist
