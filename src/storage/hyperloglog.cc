#include "storage/hyperloglog.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace shoal::storage {
namespace {

constexpr size_t kCardOffset = 8;    // The cached cardinality's 8 bytes in the header.
constexpr uint8_t kStaleBit = 0x80;  // In the cardinality's last byte.
constexpr int kRegisterMax = 63;     // 6 bits.
constexpr int kSparseValMax = 32;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;
constexpr int kSparseXZeroMaxLen = 16384;
// 1 / (2 ln 2): the bias constant of the estimator as the number of registers grows.
constexpr double kAlphaInf = 0.721347520444481703680;

// ---- sparse opcodes ----

bool IsZero(uint8_t op) { return (op & 0xc0) == 0x00; }
bool IsXZero(uint8_t op) { return (op & 0xc0) == 0x40; }
bool IsVal(uint8_t op) { return (op & 0x80) != 0; }
int ZeroLen(uint8_t op) { return (op & 0x3f) + 1; }
int XZeroLen(uint8_t op, uint8_t next) { return (((op & 0x3f) << 8) | next) + 1; }
int ValValue(uint8_t op) { return ((op >> 2) & 0x1f) + 1; }
int ValLen(uint8_t op) { return (op & 0x3) + 1; }
uint8_t ZeroOp(int len) { return static_cast<uint8_t>((len - 1) & 0x3f); }
uint8_t ValOp(int value, int len) {
  return static_cast<uint8_t>(0x80 | ((value - 1) << 2) | (len - 1));
}
// Writes a run of `len` zero registers as one opcode (ZERO if it fits, else XZERO); returns the
// number of bytes written.
int PutZeros(uint8_t* out, int len) {
  if (len <= kSparseZeroMaxLen) {
    out[0] = ZeroOp(len);
    return 1;
  }
  out[0] = static_cast<uint8_t>(0x40 | ((len - 1) >> 8));
  out[1] = static_cast<uint8_t>((len - 1) & 0xff);
  return 2;
}

// Walks the sparse opcodes of `hll`, calling zeros(first, n) and vals(first, n, value) for each
// run. The byte after an XZERO opcode cut off by the end reads as zero (Redis reads its string's
// terminator there). Returns the number of registers covered, or -1 when a VAL run would pass
// register 16383 (the walk stops there, as Redis's does).
template <typename Zeros, typename Vals>
int64_t WalkSparse(std::string_view hll, Zeros zeros, Vals vals) {
  const auto* p = reinterpret_cast<const uint8_t*>(hll.data());
  size_t i = kHllHeaderSize, n = hll.size();
  int64_t idx = 0;
  while (i < n) {
    uint8_t op = p[i];
    if (IsZero(op)) {
      zeros(idx, ZeroLen(op));
      idx += ZeroLen(op);
      i += 1;
    } else if (IsXZero(op)) {
      int len = XZeroLen(op, i + 1 < n ? p[i + 1] : 0);
      zeros(idx, len);
      idx += len;
      i += 2;
    } else {
      int len = ValLen(op);
      if (idx + len > static_cast<int64_t>(kHllRegisters)) return -1;
      vals(idx, len, ValValue(op));
      idx += len;
      i += 1;
    }
  }
  return idx;
}

// ---- dense registers ----

int DenseGet(const uint8_t* regs, size_t i) {
  size_t byte = i * 6 / 8, shift = i * 6 & 7;
  unsigned b0 = regs[byte];
  unsigned b1 = byte + 1 < kHllRegisters * 6 / 8 ? regs[byte + 1] : 0;
  return static_cast<int>(((b0 >> shift) | (b1 << (8 - shift))) & kRegisterMax);
}

void DenseSet(uint8_t* regs, size_t i, int value) {
  size_t byte = i * 6 / 8, shift = i * 6 & 7;
  unsigned v = static_cast<unsigned>(value);
  regs[byte] = static_cast<uint8_t>((regs[byte] & ~(kRegisterMax << shift)) | (v << shift));
  if (byte + 1 < kHllRegisters * 6 / 8) {
    unsigned hi = 8 - shift;
    regs[byte + 1] = static_cast<uint8_t>((regs[byte + 1] & ~(kRegisterMax >> hi)) | (v >> hi));
  }
}

// Raises a dense register; 1 if it grew.
int DenseRaise(uint8_t* regs, uint32_t index, uint8_t count) {
  if (DenseGet(regs, index) >= count) return 0;
  DenseSet(regs, index, count);
  return 1;
}

int PromoteAndRaise(HllBuffer& hll, uint32_t index, uint8_t count) {
  if (!HllToDense(hll)) return -1;
  uint8_t* p = hll.Resize(hll.view().size());
  // Promotion happens only for a register that needs to grow, so this reports 1.
  return DenseRaise(p + kHllHeaderSize, index, count);
}

// After an edit: merges neighbouring VAL opcodes of equal value (while their lengths fit one
// opcode), looking at five opcodes starting from `from`, exactly as Redis does: the bytes of the
// result depend on this window. Returns the new length of the HLL.
size_t MergeAdjacentVals(uint8_t* p, size_t size, size_t from) {
  size_t i = from;
  for (int budget = 5; i < size && budget > 0; --budget) {
    uint8_t op = p[i];
    if (IsXZero(op)) {
      i += 2;
      continue;
    }
    if (IsZero(op)) {
      ++i;
      continue;
    }
    if (i + 1 < size && IsVal(p[i + 1]) && ValValue(op) == ValValue(p[i + 1])) {
      int len = ValLen(op) + ValLen(p[i + 1]);
      if (len <= kSparseValMaxLen) {
        p[i + 1] = ValOp(ValValue(op), len);
        memmove(p + i, p + i + 1, size - i - 1);
        --size;
        continue;  // Try the merged opcode against its new right neighbour.
      }
    }
    ++i;
  }
  return size;
}

int SparseRaise(HllBuffer& hll, uint32_t index, uint8_t count, size_t sparse_max_bytes) {
  if (count > kSparseValMax) return PromoteAndRaise(hll, index, count);
  std::string_view s = hll.view();
  const auto* b = reinterpret_cast<const uint8_t*>(s.data());
  const size_t size = s.size();

  // Find the opcode covering `index`: it starts at byte `at` and covers [first, first + span).
  size_t at = kHllHeaderSize, prev = 0;
  bool has_prev = false;
  int64_t first = 0, span = 0;
  size_t oplen = 1;
  while (at < size) {
    uint8_t op = b[at];
    oplen = 1;
    if (IsZero(op)) {
      span = ZeroLen(op);
    } else if (IsVal(op)) {
      span = ValLen(op);
    } else {
      // An XZERO cut off by the end reads its second byte as zero (Redis's string terminator).
      span = XZeroLen(op, at + 1 < size ? b[at + 1] : 0);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = at;
    has_prev = true;
    at += oplen;
    first += span;
  }
  if (at >= size) return -1;  // The opcodes cover fewer registers than `index`.
  const uint8_t op = b[at];
  const size_t merge_from = has_prev ? prev : kHllHeaderSize;

  uint8_t* p;
  size_t new_size = size;
  if ((IsVal(op) || IsZero(op)) && span == 1) {
    // A run of one register (VAL or ZERO): rewrite the opcode in place.
    if (IsVal(op) && ValValue(op) >= count) return 0;
    p = hll.Resize(size);
    p[at] = ValOp(count, 1);
  } else {
    if (IsVal(op) && ValValue(op) >= count) return 0;
    // Split the run into [first, index) | index | (index, last], the outer parts keeping the
    // run's old value (zero for ZERO/XZERO).
    uint8_t seq[5];
    int n = 0;
    const int64_t last = first + span - 1;
    const int before = static_cast<int>(index - first), after = static_cast<int>(last - index);
    if (IsVal(op)) {
      if (before > 0) seq[n++] = ValOp(ValValue(op), before);
      seq[n++] = ValOp(count, 1);
      if (after > 0) seq[n++] = ValOp(ValValue(op), after);
    } else {
      if (before > 0) n += PutZeros(seq + n, before);
      seq[n++] = ValOp(count, 1);
      if (after > 0) n += PutZeros(seq + n, after);
    }
    const int64_t delta = n - static_cast<int64_t>(oplen);
    if (delta > 0 && size + delta > sparse_max_bytes) return PromoteAndRaise(hll, index, count);
    new_size = size + delta;
    // Only a cut-off XZERO (at + oplen > size) has no tail; Redis then copies the new opcodes
    // past the new end, where they are lost. Reproduced, as the bytes are visible to clients.
    const size_t tail = at + oplen < size ? size - at - oplen : 0;
    // Grow before moving the tail right; shrink only after moving it left.
    p = hll.Resize(std::max(size, new_size));
    memmove(p + at + n, p + at + oplen, tail);
    memcpy(p + at, seq, std::min<size_t>(n, new_size - at));
  }
  size_t merged = MergeAdjacentVals(p, new_size, merge_from);
  if (merged != std::max(size, new_size)) p = hll.Resize(merged);
  HllInvalidateCache(p);
  return 1;
}

// Ertl's sigma and tau functions, iterated to convergence as the paper gives them.
double Sigma(double x) {
  if (x == 1.0) return INFINITY;
  double y = 1.0, z = x, prev;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev != z);
  return z;
}

double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0, z = 1 - x, prev;
  do {
    x = std::sqrt(x);
    prev = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (prev != z);
  return z / 3;
}

// The estimate from the histogram of register values (histo[v] = registers holding v).
uint64_t Estimate(const int* histo) {
  const double m = kHllRegisters;
  double z = m * Tau((m - histo[kHllQ + 1]) / m);
  for (int j = kHllQ; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * Sigma(histo[0] / m);
  return static_cast<uint64_t>(std::llround(kAlphaInf * m * m / z));
}

}  // namespace

uint64_t MurmurHash64A(const void* key, size_t len, uint64_t seed) {
  // Austin Appleby's MurmurHash2, 64-bit version for 64-bit platforms (public domain), reading
  // little-endian words as Redis does on x86. The length is mixed in as a C int would be.
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  const int r = 47;
  uint64_t h = seed ^ (static_cast<uint64_t>(static_cast<int64_t>(static_cast<int>(len))) * m);
  const auto* data = static_cast<const uint8_t*>(key);
  const uint8_t* end = data + (len - (len & 7));
  for (; data != end; data += 8) {
    uint64_t k;
    memcpy(&k, data, sizeof(k));
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  switch (len & 7) {
    case 7:
      h ^= static_cast<uint64_t>(data[6]) << 48;
      [[fallthrough]];
    case 6:
      h ^= static_cast<uint64_t>(data[5]) << 40;
      [[fallthrough]];
    case 5:
      h ^= static_cast<uint64_t>(data[4]) << 32;
      [[fallthrough]];
    case 4:
      h ^= static_cast<uint64_t>(data[3]) << 24;
      [[fallthrough]];
    case 3:
      h ^= static_cast<uint64_t>(data[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint64_t>(data[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint64_t>(data[0]);
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

void HllHash(std::string_view element, uint32_t* index, uint8_t* count) {
  uint64_t hash = MurmurHash64A(element.data(), element.size(), 0xadc83b19ULL);
  *index = static_cast<uint32_t>(hash & (kHllRegisters - 1));
  hash >>= kHllP;
  hash |= uint64_t{1} << kHllQ;  // Bounds the count at Q + 1.
  *count = static_cast<uint8_t>(__builtin_ctzll(hash) + 1);
}

void ValueHllBuffer::Assign(std::string_view bytes) {
  bool had_expire = v_->has_expire();
  *v_ = Value::RawString(bytes);
  v_->MutableString(bytes.size());  // Marks it raw; no reallocation at the same size.
  v_->set_has_expire(had_expire);
}

std::string HllEmpty() {
  std::string s(kHllHeaderSize, '\0');
  memcpy(s.data(), "HYLL", 4);
  s[4] = static_cast<char>(kHllSparse);
  uint8_t xzero[2];
  PutZeros(xzero, kSparseXZeroMaxLen);
  s.append(reinterpret_cast<const char*>(xzero), 2);
  return s;
}

bool HllIsValid(std::string_view s) {
  if (s.size() < kHllHeaderSize || s.substr(0, 4) != "HYLL") return false;
  uint8_t enc = static_cast<uint8_t>(s[4]);
  if (enc > kHllSparse) return false;
  return enc != kHllDense || s.size() == kHllDenseSize;
}

int HllAdd(HllBuffer& hll, std::string_view element, size_t sparse_max_bytes) {
  uint32_t index;
  uint8_t count;
  HllHash(element, &index, &count);
  return HllSetRegister(hll, index, count, sparse_max_bytes);
}

int HllSetRegister(HllBuffer& hll, uint32_t index, uint8_t count, size_t sparse_max_bytes) {
  std::string_view s = hll.view();
  if (static_cast<uint8_t>(s[4]) == kHllSparse) {
    return SparseRaise(hll, index, count, sparse_max_bytes);
  }
  if (DenseGet(reinterpret_cast<const uint8_t*>(s.data()) + kHllHeaderSize, index) >= count) {
    return 0;
  }
  uint8_t* p = hll.Resize(s.size());
  DenseSet(p + kHllHeaderSize, index, count);
  return 1;
}

bool HllToDense(HllBuffer& hll) {
  std::string_view s = hll.view();
  if (static_cast<uint8_t>(s[4]) == kHllDense) return true;
  std::string dense(kHllDenseSize, '\0');
  memcpy(dense.data(), s.data(), kHllHeaderSize);
  dense[4] = static_cast<char>(kHllDense);
  auto* regs = reinterpret_cast<uint8_t*>(dense.data()) + kHllHeaderSize;
  int64_t covered = WalkSparse(
      s, [](int64_t, int) {},
      [&](int64_t first, int len, int value) {
        for (int k = 0; k < len; ++k) DenseSet(regs, first + k, value);
      });
  if (covered != static_cast<int64_t>(kHllRegisters)) return false;
  hll.Assign(dense);
  return true;
}

bool HllMergeInto(std::string_view hll, uint8_t* max) {
  if (HllIsDense(hll)) {
    const auto* regs = reinterpret_cast<const uint8_t*>(hll.data()) + kHllHeaderSize;
    for (size_t i = 0; i < kHllRegisters; ++i) {
      uint8_t v = static_cast<uint8_t>(DenseGet(regs, i));
      if (v > max[i]) max[i] = v;
    }
    return true;
  }
  int64_t covered = WalkSparse(
      hll, [](int64_t, int) {},
      [&](int64_t first, int len, int value) {
        for (int k = 0; k < len; ++k) {
          if (value > max[first + k]) max[first + k] = static_cast<uint8_t>(value);
        }
      });
  return covered == static_cast<int64_t>(kHllRegisters);
}

std::optional<uint64_t> HllCount(std::string_view hll) {
  // 64 slots: a register holds at most 63 (6 bits), whatever a client wrote into it.
  int histo[64] = {0};
  if (HllIsDense(hll)) {
    const auto* regs = reinterpret_cast<const uint8_t*>(hll.data()) + kHllHeaderSize;
    for (size_t i = 0; i < kHllRegisters; ++i) ++histo[DenseGet(regs, i)];
  } else {
    // Unlike a merge, counting adds up every run (even past register 16383) and only then
    // checks that they covered exactly 16384 registers.
    int64_t covered = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(hll.data());
    for (size_t i = kHllHeaderSize; i < hll.size();) {
      uint8_t op = p[i];
      int len;
      if (IsZero(op)) {
        len = ZeroLen(op);
        histo[0] += len;
        i += 1;
      } else if (IsXZero(op)) {
        len = XZeroLen(op, i + 1 < hll.size() ? p[i + 1] : 0);
        histo[0] += len;
        i += 2;
      } else {
        len = ValLen(op);
        histo[ValValue(op)] += len;
        i += 1;
      }
      covered += len;
    }
    if (covered != static_cast<int64_t>(kHllRegisters)) return std::nullopt;
  }
  return Estimate(histo);
}

uint64_t HllCountRegisters(const uint8_t* registers) {
  int histo[256] = {0};  // Merged registers are bytes; real ones never pass 63.
  for (size_t i = 0; i < kHllRegisters; ++i) ++histo[registers[i]];
  return Estimate(histo);
}

std::optional<uint64_t> HllCachedCount(std::string_view hll) {
  const auto* card = reinterpret_cast<const uint8_t*>(hll.data()) + kCardOffset;
  if (card[7] & kStaleBit) return std::nullopt;
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | card[i];
  return v;
}

void HllSetCachedCount(uint8_t* hll, uint64_t count) {
  for (int i = 0; i < 8; ++i) hll[kCardOffset + i] = static_cast<uint8_t>(count >> (8 * i));
}

void HllInvalidateCache(uint8_t* hll) { hll[kCardOffset + 7] |= kStaleBit; }

}  // namespace shoal::storage
