#include "storage/bitops.h"

#include <algorithm>
#include <cstring>

namespace shoal::storage {

uint64_t PopCount(const uint8_t* p, size_t n) {
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, sizeof(w));
    count += static_cast<uint64_t>(__builtin_popcountll(w));
  }
  for (; i < n; ++i) count += static_cast<uint64_t>(__builtin_popcount(p[i]));
  return count;
}

int64_t FirstBit(const uint8_t* p, size_t n, int bit) {
  // Bytes made only of the other bit are skipped, eight at a time where possible.
  const uint8_t skip = bit ? 0x00 : 0xff;
  const uint64_t skip_word = bit ? 0 : ~uint64_t{0};
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t w;
    memcpy(&w, p + i, sizeof(w));
    if (w != skip_word) break;
    i += 8;
  }
  while (i < n && p[i] == skip) ++i;
  if (i == n) return bit ? -1 : static_cast<int64_t>(n) * 8;
  uint8_t b = bit ? p[i] : static_cast<uint8_t>(~p[i]);  // The bit sought is now a 1.
  return static_cast<int64_t>(i) * 8 + (__builtin_clz(static_cast<unsigned>(b)) - 24);
}

namespace {

// Redis's range resolution shared by BITCOUNT and BITPOS: negative indexes count from the end
// (`total` units), then both ends are clamped into [0, total - 1]. The result may be empty
// (start > end).
void ResolveRange(int64_t total, int64_t* start, int64_t* end) {
  if (*start < 0) *start += total;
  if (*end < 0) *end += total;
  if (*start < 0) *start = 0;
  if (*end < 0) *end = 0;
  if (*end >= total) *end = total - 1;
}

// The first `bit` among bits [from, to] of p (both inclusive, within the buffer), or -1.
int64_t FirstBitBetween(const uint8_t* p, uint64_t from, uint64_t to, int bit) {
  uint64_t first_byte = from >> 3, last_byte = to >> 3;
  // Bits of a byte outside [from, to] are forced to the value not sought.
  auto masked = [&](uint64_t byte) {
    uint8_t b = p[byte];
    uint8_t keep = 0xff;
    if (byte == first_byte) keep &= static_cast<uint8_t>(0xff >> (from & 7));
    if (byte == last_byte) keep &= static_cast<uint8_t>(0xff << (7 - (to & 7)));
    return bit ? static_cast<uint8_t>(b & keep) : static_cast<uint8_t>(b | ~keep);
  };
  uint8_t b = masked(first_byte);
  int64_t pos = FirstBit(&b, 1, bit);
  if (pos >= 0 && pos < 8) return static_cast<int64_t>(first_byte) * 8 + pos;
  if (first_byte == last_byte) return -1;
  if (last_byte - first_byte > 1) {
    size_t n = last_byte - first_byte - 1;
    pos = FirstBit(p + first_byte + 1, n, bit);
    if (pos >= 0 && pos < static_cast<int64_t>(n) * 8) {
      return static_cast<int64_t>(first_byte + 1) * 8 + pos;
    }
  }
  b = masked(last_byte);
  pos = FirstBit(&b, 1, bit);
  if (pos >= 0 && pos < 8) return static_cast<int64_t>(last_byte) * 8 + pos;
  return -1;
}

}  // namespace

int64_t CountBitsInRange(std::string_view s, int64_t start, int64_t end, bool bit_unit) {
  // Both ends negative and reversed: empty, decided before any clamping (as Redis does).
  if (start < 0 && end < 0 && start > end) return 0;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  int64_t total = static_cast<int64_t>(s.size()) * (bit_unit ? 8 : 1);
  ResolveRange(total, &start, &end);
  if (start > end) return 0;
  if (!bit_unit) return static_cast<int64_t>(PopCount(p + start, end - start + 1));
  uint64_t first_byte = start >> 3, last_byte = end >> 3;
  int64_t count = static_cast<int64_t>(PopCount(p + first_byte, last_byte - first_byte + 1));
  // Take away the bits of the edge bytes that lie outside the range.
  count -= __builtin_popcount(p[first_byte] & ~(0xffu >> (start & 7)) & 0xff);
  count -= __builtin_popcount(p[last_byte] & ((1u << (7 - (end & 7))) - 1));
  return count;
}

int64_t FindBitInRange(std::string_view s, int bit, int64_t start, int64_t end, bool end_given,
                       bool bit_unit) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  int64_t total = static_cast<int64_t>(s.size()) * (bit_unit ? 8 : 1);
  ResolveRange(total, &start, &end);
  if (start > end) return -1;
  uint64_t from = bit_unit ? start : start * 8;
  uint64_t to = bit_unit ? end : end * 8 + 7;
  int64_t pos = FirstBitBetween(p, from, to, bit);
  if (pos >= 0 || bit == 1) return pos;
  // No clear bit: past an implicit end the string goes on with zeros; an explicit end stops.
  return end_given ? -1 : static_cast<int64_t>(to) + 1;
}

std::string BitOp(BitOpKind op, const std::vector<std::string_view>& sources) {
  size_t maxlen = 0;
  for (std::string_view s : sources) maxlen = std::max(maxlen, s.size());
  std::string out(maxlen, '\0');
  if (maxlen == 0) return out;
  auto* r = reinterpret_cast<uint8_t*>(out.data());
  if (op == BitOpKind::kNot) {
    const auto* s = reinterpret_cast<const uint8_t*>(sources[0].data());
    for (size_t i = 0; i < maxlen; ++i) r[i] = static_cast<uint8_t>(~s[i]);
    return out;
  }
  memcpy(r, sources[0].data(), sources[0].size());  // Zero-padded by construction.
  for (size_t k = 1; k < sources.size(); ++k) {
    const auto* s = reinterpret_cast<const uint8_t*>(sources[k].data());
    size_t len = sources[k].size();
    switch (op) {
      case BitOpKind::kAnd:
        for (size_t i = 0; i < len; ++i) r[i] &= s[i];
        memset(r + len, 0, maxlen - len);  // AND with the zero padding.
        break;
      case BitOpKind::kOr:
        for (size_t i = 0; i < len; ++i) r[i] |= s[i];
        break;
      case BitOpKind::kXor:
        for (size_t i = 0; i < len; ++i) r[i] ^= s[i];
        break;
      case BitOpKind::kNot:
        break;
    }
  }
  return out;
}

uint64_t GetUnsignedBits(std::string_view s, uint64_t offset, int bits) {
  uint64_t v = 0;
  for (int i = 0; i < bits; ++i) {
    uint64_t pos = offset + i;
    uint64_t byte = pos >> 3;
    int bitval = byte < s.size() ? (static_cast<uint8_t>(s[byte]) >> (7 - (pos & 7))) & 1 : 0;
    v = (v << 1) | static_cast<uint64_t>(bitval);
  }
  return v;
}

int64_t GetSignedBits(std::string_view s, uint64_t offset, int bits) {
  uint64_t v = GetUnsignedBits(s, offset, bits);
  if (bits < 64 && (v & (uint64_t{1} << (bits - 1)))) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

void SetBits(uint8_t* p, uint64_t offset, int bits, uint64_t value) {
  for (int i = 0; i < bits; ++i) {
    uint64_t pos = offset + i;
    uint8_t mask = static_cast<uint8_t>(0x80 >> (pos & 7));
    if ((value >> (bits - 1 - i)) & 1) {
      p[pos >> 3] |= mask;
    } else {
      p[pos >> 3] &= static_cast<uint8_t>(~mask);
    }
  }
}

int CheckUnsignedOverflow(uint64_t value, int64_t incr, int bits, BitfieldOverflow mode,
                          uint64_t* result) {
  const uint64_t max = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  const __int128 sum = static_cast<__int128>(value) + incr;
  int dir = 0;
  if (value > max || sum > static_cast<__int128>(max)) {
    dir = 1;
  } else if (sum < 0) {
    dir = -1;
  }
  if (dir == 0) return 0;
  if (mode == BitfieldOverflow::kWrap) {
    *result = (value + static_cast<uint64_t>(incr)) & max;
  } else if (mode == BitfieldOverflow::kSat) {
    *result = dir > 0 ? max : 0;
  }
  return dir;
}

int CheckSignedOverflow(int64_t value, int64_t incr, int bits, BitfieldOverflow mode,
                        int64_t* result) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  // Redis compares the increment with the room left, max - value and min - value, computed in
  // 64 bits. For fields under 64 bits, a value so negative that max - value wraps around (SET of
  // a huge negative number) therefore counts as an overflow upwards: SAT stores the maximum.
  // The 64-bit field only looks at the room on the side the value is on, where it cannot wrap.
  const int64_t room_up =
      static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  const int64_t room_down =
      static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  int dir = 0;
  if (value > max || (bits != 64 && incr > room_up) || (value >= 0 && incr > 0 && incr > room_up)) {
    dir = 1;
  } else if (value < min || (bits != 64 && incr < room_down) ||
             (value < 0 && incr < 0 && incr < room_down)) {
    dir = -1;
  }
  if (dir == 0) return 0;
  if (mode == BitfieldOverflow::kWrap) {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      // Keep the low `bits` bits and sign-extend from the field's top bit.
      uint64_t high = ~uint64_t{0} << bits;
      c = (c & (uint64_t{1} << (bits - 1))) ? (c | high) : (c & ~high);
    }
    *result = static_cast<int64_t>(c);
  } else if (mode == BitfieldOverflow::kSat) {
    *result = dir > 0 ? max : min;
  }
  return dir;
}

}  // namespace shoal::storage
