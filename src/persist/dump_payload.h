// DUMP / RESTORE payloads: one value in RDB object format (type byte + payload), then the RDB
// version that wrote it (2 bytes little-endian), then the CRC64 of everything before (8 bytes
// little-endian), as Redis's createDumpPayload / verifyDumpPayload define them.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/value.h"

namespace shoal::persist {

// The DUMP payload of `v` (RDB version 10, LZF compression on as under Redis's default).
Result<std::string> MakeDumpPayload(const storage::Value& v);

// Whether `payload` is at least 10 bytes, names an RDB version Shoal reads (<= 10) and carries a
// matching checksum: Redis's verifyDumpPayload (which checks the CRC even when it is 0).
bool VerifyDumpPayload(std::string_view payload);

// Decodes a verified payload into a value. Errors for corrupt or unsupported contents.
Status ParseDumpPayload(std::string_view payload, storage::Value* out);

}  // namespace shoal::persist
