// Constants of Redis's RDB format (version 10, Redis 7.0), shared by the value codec
// (rdb_encoder / rdb_decoder), DUMP/RESTORE payloads and the snapshot file code.
//
// A value is written as one type byte followed by its payload. Lengths use Redis's length
// encoding (rdb_encoder.h); strings may be stored as integers or LZF-compressed, flagged by the
// top two bits of their length byte being 11 (kEncVal).
#pragma once

#include <cstdint>

namespace shoal::persist {

// Redis 7.0 writes version 10 and reads up to it; a DUMP payload names the version it was made by.
inline constexpr uint16_t kRdbVersion = 10;

// Object type ids (the type byte of a value).
namespace rdb_type {
inline constexpr uint8_t kString = 0;
inline constexpr uint8_t kList = 1;  // Plain list of strings (Redis < 3.2).
inline constexpr uint8_t kSet = 2;
inline constexpr uint8_t kZSet = 3;  // Scores as text (Redis < 3.0 wrote this).
inline constexpr uint8_t kHash = 4;
inline constexpr uint8_t kZSet2 = 5;  // Scores as binary doubles.
inline constexpr uint8_t kModule = 6;   // Pre-module2 format: Redis itself refuses to load it.
inline constexpr uint8_t kModule2 = 7;
inline constexpr uint8_t kHashZipmap = 9;
inline constexpr uint8_t kListZiplist = 10;
inline constexpr uint8_t kSetIntset = 11;
inline constexpr uint8_t kZSetZiplist = 12;
inline constexpr uint8_t kHashZiplist = 13;
inline constexpr uint8_t kListQuicklist = 14;
inline constexpr uint8_t kStreamListpacks = 15;
inline constexpr uint8_t kHashListpack = 16;
inline constexpr uint8_t kZSetListpack = 17;
inline constexpr uint8_t kListQuicklist2 = 18;
inline constexpr uint8_t kStreamListpacks2 = 19;
// 20 (set listpack) and 21 (stream listpacks 3) arrived with Redis 7.2 (RDB 11): never written,
// refused when read.
inline constexpr uint8_t kMaxKnown = 19;
}  // namespace rdb_type

// Opcodes of an RDB file, where a type byte would otherwise stand.
namespace rdb_opcode {
inline constexpr uint8_t kFunction2 = 0xF5;
inline constexpr uint8_t kFunction = 0xF6;  // Pre-release 7.0 format.
inline constexpr uint8_t kModuleAux = 0xF7;
inline constexpr uint8_t kIdle = 0xF8;
inline constexpr uint8_t kFreq = 0xF9;
inline constexpr uint8_t kAux = 0xFA;
inline constexpr uint8_t kResizeDb = 0xFB;
inline constexpr uint8_t kExpireTimeMs = 0xFC;
inline constexpr uint8_t kExpireTime = 0xFD;
inline constexpr uint8_t kSelectDb = 0xFE;
inline constexpr uint8_t kEof = 0xFF;
}  // namespace rdb_opcode

// The length encoding: the top two bits of the first byte.
namespace rdb_len {
inline constexpr uint8_t k6Bit = 0;     // 00xxxxxx
inline constexpr uint8_t k14Bit = 1;    // 01xxxxxx xxxxxxxx (big-endian)
inline constexpr uint8_t k32Bit = 0x80;  // 10000000 + 4 bytes big-endian
inline constexpr uint8_t k64Bit = 0x81;  // 10000001 + 8 bytes big-endian
inline constexpr uint8_t kEncVal = 3;   // 11xxxxxx: a specially encoded string follows
}  // namespace rdb_len

// Special string encodings (the low six bits after kEncVal): 0xC0 | these.
namespace rdb_enc {
inline constexpr uint8_t kInt8 = 0;
inline constexpr uint8_t kInt16 = 1;
inline constexpr uint8_t kInt32 = 2;
inline constexpr uint8_t kLzf = 3;
}  // namespace rdb_enc

// Quicklist 2 node containers.
inline constexpr uint64_t kQuicklistNodePlain = 1;
inline constexpr uint64_t kQuicklistNodePacked = 2;

// Module values (type kModule2): a 64-bit module id (name and encoding version), then opcodes
// each followed by a value, up to kModuleOpEof.
namespace rdb_module_op {
inline constexpr uint64_t kEof = 0;
inline constexpr uint64_t kSInt = 1;
inline constexpr uint64_t kUInt = 2;
inline constexpr uint64_t kFloat = 3;
inline constexpr uint64_t kDouble = 4;
inline constexpr uint64_t kString = 5;
}  // namespace rdb_module_op

// RedisJSON's module type: "ReJSON-RL", encoding version 3 (RedisJSON 2.x).
inline constexpr uint64_t kReJsonModuleId = 0x45e25238df912c03ULL;
inline constexpr char kReJsonModuleName[] = "ReJSON-RL";
inline constexpr int kReJsonEncVer = 3;

}  // namespace shoal::persist
