// Bit-level operations on string values, as Redis's bitmap commands see them: bit 0 is the most
// significant bit of byte 0, and a string is followed by an endless run of zero bits.
//
// Pure functions over bytes: the commands (commands/bitmap_commands.cc, bitfield_command.cc)
// parse arguments, look keys up and reply; everything here is unit-tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::storage {

// Set bits in p[0, n).
uint64_t PopCount(const uint8_t* p, size_t n);

// Position of the first bit equal to `bit` in p[0, n). Not found: -1 when looking for a 1, and
// n * 8 when looking for a 0 (the zero bit right after the string, as Redis's redisBitpos says).
int64_t FirstBit(const uint8_t* p, size_t n, int bit);

// BITCOUNT key start end [BYTE|BIT]: `start`/`end` count bytes, or bits if `bit_unit`; negative
// ones count from the end. The range is clamped to the string as Redis clamps it.
int64_t CountBitsInRange(std::string_view s, int64_t start, int64_t end, bool bit_unit);

// BITPOS key bit [start [end [BYTE|BIT]]]: the first `bit` in the range (clamped as Redis does),
// or -1 when an empty range was asked for. When no 0 bit is found in a range whose end was not
// given, the answer is the bit right after the string; with an explicit end it is -1.
int64_t FindBitInRange(std::string_view s, int bit, int64_t start, int64_t end, bool end_given,
                       bool bit_unit);

enum class BitOpKind : uint8_t { kAnd, kOr, kXor, kNot };

// BITOP: the result has the length of the longest source; shorter (and missing, i.e. empty)
// sources count as zero-padded. NOT takes exactly one source.
std::string BitOp(BitOpKind op, const std::vector<std::string_view>& sources);

// ---- BITFIELD ----

// The `bits`-wide (1..64) integer at bit `offset` of `s`, most significant bit first; bits past
// the end of `s` read as zero.
uint64_t GetUnsignedBits(std::string_view s, uint64_t offset, int bits);
// The same field sign-extended from its top bit.
int64_t GetSignedBits(std::string_view s, uint64_t offset, int bits);
// Writes the low `bits` bits of `value` at bit `offset`. REQUIRES: the field fits in p.
void SetBits(uint8_t* p, uint64_t offset, int bits, uint64_t value);

enum class BitfieldOverflow : uint8_t { kWrap, kSat, kFail };

// Whether value + incr fits a `bits`-wide field: 0 if it does, 1 if it overflows, -1 if it
// underflows, decided exactly as Redis decides (see the signed case's quirk in bitops.cc). A
// `value` already outside the field's range (SET's argument; for unsigned fields a negative
// argument reads as a huge number) is out of range by itself. On overflow, *result receives the
// wrapped (kWrap) or saturated (kSat) value; with kFail it is left alone (nothing is written).
int CheckUnsignedOverflow(uint64_t value, int64_t incr, int bits, BitfieldOverflow mode,
                          uint64_t* result);
int CheckSignedOverflow(int64_t value, int64_t incr, int bits, BitfieldOverflow mode,
                        int64_t* result);

}  // namespace shoal::storage
