#include "storage/hyperloglog.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace shoal::storage {
namespace {

std::string Hex(std::string_view s) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Element(int i) {
  std::string s = std::to_string(i);
  s.insert(s.begin(), 'e');
  return s;
}

// Adds e<from>..e<to - 1>; returns how many adds changed a register.
int AddRange(std::string* hll, int from, int to, size_t sparse_max = 3000) {
  StringHllBuffer buf(hll);
  int updated = 0;
  for (int i = from; i < to; ++i) {
    int r = HllAdd(buf, Element(i), sparse_max);
    EXPECT_GE(r, 0);
    updated += r;
  }
  return updated;
}

// Registers decoded through a merge, for comparing HLLs of different encodings.
std::vector<uint8_t> Registers(std::string_view hll) {
  std::vector<uint8_t> regs(kHllRegisters, 0);
  EXPECT_TRUE(HllMergeInto(hll, regs.data()));
  return regs;
}

TEST(HyperLogLogTest, EmptyIsSparseWithOneXZero) {
  std::string h = HllEmpty();
  EXPECT_EQ(Hex(h),
            "48594c4c"
            "01000000"
            "0000000000000000"
            "7fff");
  EXPECT_EQ(h.size(), 18u);
  EXPECT_EQ(h.substr(0, 5), std::string("HYLL\x01", 5));
  EXPECT_EQ(Hex(h.substr(16)), "7fff");
  EXPECT_TRUE(HllIsValid(h));
  EXPECT_EQ(HllCachedCount(h), 0u);
  EXPECT_EQ(HllCount(h), 0u);
}

TEST(HyperLogLogTest, MurmurHashMatchesTheReferenceBehaviour) {
  // The same bytes give the same hash whatever their alignment, and every tail length mixes.
  std::string s = "xabcdefghijklmnop";
  EXPECT_EQ(MurmurHash64A(s.data() + 1, 16, 0xadc83b19),
            MurmurHash64A("abcdefghijklmnop", 16, 0xadc83b19));
  for (size_t len = 1; len < 9; ++len) {
    EXPECT_NE(MurmurHash64A(s.data(), len, 0xadc83b19),
              MurmurHash64A(s.data(), len - 1, 0xadc83b19));
  }
}

TEST(HyperLogLogTest, SparseBytesMatchRedis) {
  // PFADD g x y z on Redis 7.0, then GET g.
  std::string h = HllEmpty();
  StringHllBuffer buf(&h);
  for (std::string_view e : {"x", "y", "z"}) EXPECT_EQ(HllAdd(buf, e, 3000), 1);
  HllInvalidateCache(reinterpret_cast<uint8_t*>(h.data()));
  EXPECT_EQ(Hex(h),
            "48594c4c01000000"
            "0000000000000080"
            "61848058cd8845a08408");
  EXPECT_EQ(HllCachedCount(h), std::nullopt);
  EXPECT_EQ(HllCount(h), 3u);
  HllSetCachedCount(reinterpret_cast<uint8_t*>(h.data()), 3);
  EXPECT_EQ(HllCachedCount(h), 3u);
  EXPECT_EQ(HllAdd(buf, "x", 3000), 0);  // Already counted: nothing changes.
  EXPECT_EQ(HllCachedCount(h), 3u);
}

TEST(HyperLogLogTest, CountsMatchRedis) {
  // Figures from Redis 7.0: e0..e999 stays sparse (1906 bytes) and counts 1008; e0..e4999 is
  // dense and counts 4968; e0..e99999 counts 100853.
  std::string h = HllEmpty();
  AddRange(&h, 0, 1000);
  EXPECT_EQ(h.size(), 1906u);
  EXPECT_EQ(h[4], kHllSparse);
  EXPECT_EQ(HllCount(h), 1008u);
  AddRange(&h, 1000, 5000);
  EXPECT_EQ(h.size(), kHllDenseSize);
  EXPECT_EQ(h[4], kHllDense);
  EXPECT_EQ(HllCount(h), 4968u);
  AddRange(&h, 5000, 100000);
  EXPECT_EQ(HllCount(h), 100853u);

  // The union of e0..e99999 and e50000..e149999 counts 149907.
  std::string h2 = HllEmpty();
  AddRange(&h2, 50000, 150000);
  std::vector<uint8_t> max(kHllRegisters, 0);
  ASSERT_TRUE(HllMergeInto(h, max.data()));
  ASSERT_TRUE(HllMergeInto(h2, max.data()));
  EXPECT_EQ(HllCountRegisters(max.data()), 149907u);
}

TEST(HyperLogLogTest, SparseAndDenseHoldTheSameRegisters) {
  std::string sparse = HllEmpty(), dense = HllEmpty();
  AddRange(&sparse, 0, 1500, /*sparse_max=*/1 << 20);
  AddRange(&dense, 0, 1500, /*sparse_max=*/0);  // Promoted at the first split.
  EXPECT_EQ(sparse[4], kHllSparse);
  EXPECT_EQ(dense[4], kHllDense);
  EXPECT_EQ(Registers(sparse), Registers(dense));
  EXPECT_EQ(HllCount(sparse), HllCount(dense));
  StringHllBuffer buf(&sparse);
  ASSERT_TRUE(HllToDense(buf));
  EXPECT_EQ(sparse.substr(16), dense.substr(16));
}

TEST(HyperLogLogTest, SparseStaysMinimalForRandomRegisterUpdates) {
  // Random raises through the sparse path must keep every register as a plain array would.
  std::mt19937 rng(3);
  std::string h = HllEmpty();
  StringHllBuffer buf(&h);
  std::vector<uint8_t> model(kHllRegisters, 0);
  for (int i = 0; i < 4000; ++i) {
    uint32_t index = rng() % 300;  // A narrow range: runs get split and merged a lot.
    uint8_t count = static_cast<uint8_t>(1 + rng() % 5);
    int r = HllSetRegister(buf, index, count, 1 << 20);
    EXPECT_EQ(r, count > model[index] ? 1 : 0);
    if (count > model[index]) model[index] = count;
  }
  EXPECT_EQ(h[4], kHllSparse);
  EXPECT_EQ(Registers(h), model);
}

TEST(HyperLogLogTest, LargeCountsPromoteToDense) {
  std::string h = HllEmpty();
  StringHllBuffer buf(&h);
  EXPECT_EQ(HllSetRegister(buf, 5, 33, 3000), 1);  // Above what a VAL opcode holds.
  EXPECT_EQ(h.size(), kHllDenseSize);
  std::vector<uint8_t> regs = Registers(h);
  EXPECT_EQ(regs[5], 33);
  EXPECT_EQ(regs[4] + regs[6], 0);
  EXPECT_EQ(HllSetRegister(buf, 5, 20, 3000), 0);
}

TEST(HyperLogLogTest, ShapeChecks) {
  std::string h = HllEmpty();
  EXPECT_FALSE(HllIsValid(h.substr(0, 15)));
  EXPECT_FALSE(HllIsValid("HYLX" + h.substr(4)));
  std::string bad_enc = h;
  bad_enc[4] = 2;
  EXPECT_FALSE(HllIsValid(bad_enc));
  std::string dense = h;
  StringHllBuffer buf(&dense);
  ASSERT_TRUE(HllToDense(buf));
  EXPECT_TRUE(HllIsValid(dense));
  EXPECT_FALSE(HllIsValid(dense + "x"));
}

TEST(HyperLogLogTest, CorruptedSparseIsDetectedWhenRead) {
  std::string h = HllEmpty();
  AddRange(&h, 0, 10);
  std::string longer = h + "hello";  // Extra opcodes: more than 16384 registers.
  EXPECT_EQ(HllCount(longer), std::nullopt);
  std::vector<uint8_t> regs(kHllRegisters, 0);
  EXPECT_FALSE(HllMergeInto(longer, regs.data()));
  StringHllBuffer buf(&longer);
  EXPECT_FALSE(HllToDense(buf));
  std::string shorter = h.substr(0, h.size() - 1);  // Fewer than 16384 registers.
  EXPECT_EQ(HllCount(shorter), std::nullopt);
}

TEST(HyperLogLogTest, CutOffXZeroIsSplitAsRedisSplitsIt) {
  // A corrupted sparse HLL ending in half an XZERO: the missing byte reads as zero, and the split
  // keeps only the opcodes that fit the new length (Redis 7.0 leaves exactly these bytes).
  std::string h = HllEmpty().substr(0, 16) + std::string("\x00\x00\x01\xbc\x6c", 5);
  StringHllBuffer buf(&h);
  EXPECT_EQ(HllAdd(buf, "el2580", 3000), 1);
  EXPECT_EQ(h.size(), 24u);
  EXPECT_EQ(HllCount(h), std::nullopt);
}

}  // namespace
}  // namespace shoal::storage
