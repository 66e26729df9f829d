#include "persist/dump_payload.h"

#include "persist/crc64.h"
#include "persist/rdb_decoder.h"
#include "persist/rdb_encoder.h"
#include "persist/rdb_format.h"

namespace shoal::persist {
namespace {

constexpr size_t kFooterSize = 10;  // Version (2) + CRC64 (8).

}  // namespace

Result<std::string> MakeDumpPayload(const storage::Value& v) {
  std::string out;
  RdbEncoder enc(&out);
  if (Status s = enc.Object(v); !s.ok()) return s;
  enc.Byte(kRdbVersion & 0xFF);
  enc.Byte(kRdbVersion >> 8);
  enc.Int64LE(static_cast<int64_t>(Crc64(0, out)));
  return out;
}

bool VerifyDumpPayload(std::string_view payload) {
  if (payload.size() < kFooterSize) return false;
  const auto* footer = reinterpret_cast<const uint8_t*>(payload.data() + payload.size() - 10);
  uint16_t version = static_cast<uint16_t>(footer[0] | footer[1] << 8);
  if (version > kRdbVersion) return false;
  uint64_t crc = Crc64(0, payload.data(), payload.size() - 8);
  uint64_t stored = 0;
  for (int i = 7; i >= 0; --i) stored = (stored << 8) | footer[2 + i];
  return crc == stored;
}

Status ParseDumpPayload(std::string_view payload, storage::Value* out) {
  if (payload.size() < kFooterSize) return Status::Error("corrupt payload: too short");
  RdbDecoder dec(payload.substr(0, payload.size() - kFooterSize));
  uint8_t type;
  if (Status s = dec.Byte(&type); !s.ok()) return s;
  return dec.ReadObject(type, out);
}

}  // namespace shoal::persist
