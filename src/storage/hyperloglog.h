// HyperLogLog in Redis's exact byte representation, so that GET of a PFADD'ed key, a DUMP, or a
// value SET by a client is interchangeable with Redis's.
//
// hll := header registers
// header (16 bytes) := "HYLL" | encoding: uint8 (0 dense, 1 sparse) | 3 unused bytes (zero) |
//                      cardinality: uint64 little endian, the last cached PFCOUNT; the top bit of
//                      its last byte set means "stale, recompute"
// Registers: 16384 (P = 14), one per hash bucket, each the longest run of trailing zeros + 1 seen
// for the hashes of that bucket (MurmurHash64A, seed 0xadc83b19; the low 14 bits pick the bucket).
//   dense  := 16384 6-bit registers, 12288 bytes; register i occupies bits [6i, 6i + 6) counting
//             from the least significant bit of each byte (so it may straddle two bytes)
//   sparse := opcodes covering the 16384 registers in order:
//             00xxxxxx           ZERO:  xxxxxx + 1 (1..64) registers at zero
//             01xxxxxx yyyyyyyy  XZERO: the 14-bit xxxxxxyyyyyyyy + 1 (1..16384) registers at zero
//             1vvvvvxx           VAL:   xx + 1 (1..4) registers at vvvvv + 1 (1..32)
// A new HLL is sparse (one XZERO). It turns dense, for good, when a register needs a value above
// 32 or when the sparse form would outgrow hll-sparse-max-bytes (header included).
//
// Updates edit the sparse form in place the way Redis does (split the opcode covering the
// register, then merge equal neighbouring VALs in a small window), because the resulting bytes
// are visible to clients. One corner of corrupted values is not reproduced: a sparse value ending
// in an XZERO cut in half reads its missing byte as zero here, where Redis reads the byte past
// its string's end, which an earlier split of such an opcode may have left non-zero.
// The estimator is Ertl's improved one ("New cardinality estimation algorithms for HyperLogLog
// sketches", 2017), computed in the same order as Redis so that PFCOUNT answers the same number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/value.h"

namespace shoal::storage {

inline constexpr int kHllP = 14;
inline constexpr int kHllQ = 64 - kHllP;  // Hash bits left for the run of zeros.
inline constexpr size_t kHllRegisters = size_t{1} << kHllP;
inline constexpr size_t kHllHeaderSize = 16;
inline constexpr size_t kHllDenseSize = kHllHeaderSize + kHllRegisters * 6 / 8;
inline constexpr uint8_t kHllDense = 0;
inline constexpr uint8_t kHllSparse = 1;

uint64_t MurmurHash64A(const void* key, size_t len, uint64_t seed);

// The register `element` lands in and the value it proposes for it (1..Q+1).
void HllHash(std::string_view element, uint32_t* index, uint8_t* count);

// The bytes of an HLL whose value lives somewhere that may need to grow or be replaced (a key's
// Value, or a std::string in tests).
class HllBuffer {
 public:
  virtual ~HllBuffer() = default;
  virtual std::string_view view() const = 0;
  // Sets the length to `n` (keeping the prefix, zero-filling growth); returns the bytes.
  virtual uint8_t* Resize(size_t n) = 0;
  // Replaces the whole content (sparse to dense promotion).
  virtual void Assign(std::string_view bytes) = 0;
};

class StringHllBuffer : public HllBuffer {
 public:
  explicit StringHllBuffer(std::string* s) : s_(s) {}
  std::string_view view() const override { return *s_; }
  uint8_t* Resize(size_t n) override {
    s_->resize(n);
    return reinterpret_cast<uint8_t*>(s_->data());
  }
  void Assign(std::string_view bytes) override { s_->assign(bytes); }

 private:
  std::string* s_;
};

// A key's string Value. Edits turn it "raw", as Redis unshares the string it modifies.
class ValueHllBuffer : public HllBuffer {
 public:
  explicit ValueHllBuffer(Value* v) : v_(v) {}
  std::string_view view() const override { return v_->GetString(&scratch_); }
  uint8_t* Resize(size_t n) override { return reinterpret_cast<uint8_t*>(v_->MutableString(n)); }
  void Assign(std::string_view bytes) override;

 private:
  Value* v_;
  mutable std::string scratch_;  // Unused for HLLs (never integers), required by GetString.
};

// The 18 bytes of an empty HLL: sparse, one XZERO over every register, cardinality 0 cached.
std::string HllEmpty();

// Redis's shape checks (isHLLObjectOrReply): long enough for a header, "HYLL", a known encoding,
// and exactly the dense size if dense. The registers themselves are checked only when read.
bool HllIsValid(std::string_view s);
inline bool HllIsDense(std::string_view s) { return s[4] == static_cast<char>(kHllDense); }

// PFADD of one element: 1 if a register grew, 0 if not, -1 if the HLL is corrupted.
// REQUIRES: HllIsValid(hll.view()).
int HllAdd(HllBuffer& hll, std::string_view element, size_t sparse_max_bytes);
// Raises register `index` to `count` if lower, as HllAdd does. Same results.
int HllSetRegister(HllBuffer& hll, uint32_t index, uint8_t count, size_t sparse_max_bytes);
// Converts a sparse HLL to dense (the header, cached cardinality included, is kept). False if
// the sparse opcodes do not cover exactly 16384 registers. A dense HLL is left alone.
bool HllToDense(HllBuffer& hll);

// max[i] = max(max[i], register i) over kHllRegisters bytes. False if the HLL is corrupted.
// REQUIRES: HllIsValid(hll).
bool HllMergeInto(std::string_view hll, uint8_t* max);

// The estimated cardinality; nullopt if the HLL is corrupted. REQUIRES: HllIsValid(hll).
std::optional<uint64_t> HllCount(std::string_view hll);
// The estimated cardinality of kHllRegisters one-byte registers (a merge of several HLLs).
uint64_t HllCountRegisters(const uint8_t* registers);

// The cached cardinality in the header, if not marked stale.
std::optional<uint64_t> HllCachedCount(std::string_view hll);
void HllSetCachedCount(uint8_t* hll, uint64_t count);
void HllInvalidateCache(uint8_t* hll);

}  // namespace shoal::storage
