#include "storage/bitops.h"

#include <gtest/gtest.h>

#include <random>

namespace shoal::storage {
namespace {

std::string Bytes(std::initializer_list<uint8_t> b) { return std::string(b.begin(), b.end()); }

// A bit-by-bit model of the string, to check the word-at-a-time code against.
int BitAt(std::string_view s, int64_t i) {
  return (static_cast<uint8_t>(s[i >> 3]) >> (7 - (i & 7))) & 1;
}

TEST(BitopsTest, PopCountCountsEveryByte) {
  std::string s = Bytes({0xff, 0x01, 0x80, 0x00, 0x0f, 0xf0, 0xaa, 0x55, 0x03});
  EXPECT_EQ(PopCount(reinterpret_cast<const uint8_t*>(s.data()), s.size()),
            8 + 1 + 1 + 4 + 4 + 4 + 4 + 2);
  EXPECT_EQ(PopCount(nullptr, 0), 0u);
}

TEST(BitopsTest, FirstBitNotFoundRules) {
  std::string zeros(10, '\0'), ones(10, '\xff');
  auto p = [](const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); };
  EXPECT_EQ(FirstBit(p(zeros), 10, 1), -1);
  EXPECT_EQ(FirstBit(p(zeros), 10, 0), 0);
  EXPECT_EQ(FirstBit(p(ones), 10, 0), 80);  // The zero right after the string.
  EXPECT_EQ(FirstBit(p(ones), 10, 1), 0);
  std::string s = zeros;
  s[9] = 0x10;
  EXPECT_EQ(FirstBit(p(s), 10, 1), 9 * 8 + 3);
}

TEST(BitopsTest, CountBitsInRangeBytesAndBits) {
  std::string s = "foobar";
  EXPECT_EQ(CountBitsInRange(s, 0, -1, false), 26);
  EXPECT_EQ(CountBitsInRange(s, 0, 0, false), 4);
  EXPECT_EQ(CountBitsInRange(s, 1, 1, false), 6);
  EXPECT_EQ(CountBitsInRange(s, 5, 30, true), 17);
  EXPECT_EQ(CountBitsInRange(s, -1, -2, false), 0);    // Reversed negative range.
  EXPECT_EQ(CountBitsInRange(s, 100, 200, false), 0);  // Past the end.
  EXPECT_EQ(CountBitsInRange(s, -100, 100, false), 26);
  EXPECT_EQ(CountBitsInRange("", 0, -1, true), 0);
}

TEST(BitopsTest, FindBitInRangeFollowsRedisRules) {
  std::string s = Bytes({0xff, 0xf0, 0x00});
  EXPECT_EQ(FindBitInRange(s, 0, 0, -1, false, false), 12);
  EXPECT_EQ(FindBitInRange(s, 1, 2, -1, false, false), -1);
  EXPECT_EQ(FindBitInRange(s, 0, 2, -1, false, false), 16);
  std::string ones = Bytes({0xff, 0xff});
  EXPECT_EQ(FindBitInRange(ones, 0, 0, -1, false, false), 16);  // Implicit end: zero padding.
  EXPECT_EQ(FindBitInRange(ones, 0, 0, -1, true, false), -1);   // Explicit end: none in range.
  EXPECT_EQ(FindBitInRange(ones, 0, 5, 3, true, true), -1);
  EXPECT_EQ(FindBitInRange(s, 0, 3, 13, true, true), 12);
  EXPECT_EQ(FindBitInRange(s, 1, 13, 20, true, true), -1);
  EXPECT_EQ(FindBitInRange(s, 1, 5, 2, true, false), -1);  // Empty range.
  EXPECT_EQ(FindBitInRange("", 0, 0, -1, false, false), -1);
}

TEST(BitopsTest, RangesAgreeWithABitByBitModel) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s(rng() % 20, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? 0xff : rng() % 3 == 0 ? 0 : rng());
    bool bit_unit = rng() % 2;
    int64_t total = static_cast<int64_t>(s.size()) * (bit_unit ? 8 : 1);
    int64_t start = static_cast<int64_t>(rng() % 200) - 100;
    int64_t end = static_cast<int64_t>(rng() % 200) - 100;
    // The model resolves the range the simple way.
    int64_t a = start < 0 ? std::max<int64_t>(0, start + total) : start;
    int64_t b = std::min(end < 0 ? std::max<int64_t>(0, end + total) : end, total - 1);
    int64_t from = bit_unit ? a : a * 8, to = bit_unit ? b : b * 8 + 7;
    int64_t ones = 0, first[2] = {-1, -1};
    for (int64_t i = from; a <= b && i <= to; ++i) {
      int v = BitAt(s, i);
      ones += v;
      if (first[v] < 0) first[v] = i;
    }
    int64_t want_count = (start < 0 && end < 0 && start > end) ? 0 : ones;
    EXPECT_EQ(CountBitsInRange(s, start, end, bit_unit), want_count);
    for (int bit = 0; bit < 2; ++bit) {
      EXPECT_EQ(FindBitInRange(s, bit, start, end, true, bit_unit), first[bit])
          << "iter " << iter << " bit " << bit;
    }
  }
}

TEST(BitopsTest, BitOpPadsShortSourcesWithZeros) {
  std::vector<std::string_view> srcs = {"\xff\x0f", "\x0f"};
  EXPECT_EQ(BitOp(BitOpKind::kAnd, srcs), Bytes({0x0f, 0x00}));
  EXPECT_EQ(BitOp(BitOpKind::kOr, srcs), Bytes({0xff, 0x0f}));
  EXPECT_EQ(BitOp(BitOpKind::kXor, srcs), Bytes({0xf0, 0x0f}));
  EXPECT_EQ(BitOp(BitOpKind::kNot, {"\x0f\xf0"}), Bytes({0xf0, 0x0f}));
  EXPECT_EQ(BitOp(BitOpKind::kAnd, {"", ""}), "");
  EXPECT_EQ(BitOp(BitOpKind::kAnd, {"", "ab"}), Bytes({0, 0}));
}

TEST(BitopsTest, FieldsReadAndWriteMostSignificantBitFirst) {
  std::string s(4, '\0');
  auto* p = reinterpret_cast<uint8_t*>(s.data());
  SetBits(p, 4, 8, 0xab);
  EXPECT_EQ(s, Bytes({0x0a, 0xb0, 0, 0}));
  EXPECT_EQ(GetUnsignedBits(s, 4, 8), 0xabu);
  EXPECT_EQ(GetSignedBits(s, 4, 8), -0x55);
  EXPECT_EQ(GetUnsignedBits(s, 28, 16), 0u);  // Past the end reads zeros.
  SetBits(p, 0, 32, 0xffffffff);
  EXPECT_EQ(GetSignedBits(s, 0, 64), static_cast<int64_t>(0xffffffff00000000ull));
  EXPECT_EQ(GetSignedBits(s, 0, 1), -1);
  EXPECT_EQ(GetUnsignedBits(s, 0, 1), 1u);
}

TEST(BitopsTest, UnsignedOverflow) {
  uint64_t r = 12345;
  EXPECT_EQ(CheckUnsignedOverflow(250, 5, 8, BitfieldOverflow::kWrap, &r), 0);
  EXPECT_EQ(CheckUnsignedOverflow(250, 10, 8, BitfieldOverflow::kWrap, &r), 1);
  EXPECT_EQ(r, 4u);
  EXPECT_EQ(CheckUnsignedOverflow(250, 10, 8, BitfieldOverflow::kSat, &r), 1);
  EXPECT_EQ(r, 255u);
  EXPECT_EQ(CheckUnsignedOverflow(5, -10, 8, BitfieldOverflow::kSat, &r), -1);
  EXPECT_EQ(r, 0u);
  EXPECT_EQ(CheckUnsignedOverflow(5, -10, 8, BitfieldOverflow::kWrap, &r), -1);
  EXPECT_EQ(r, 251u);
  r = 7;
  EXPECT_EQ(CheckUnsignedOverflow(5, -10, 8, BitfieldOverflow::kFail, &r), -1);
  EXPECT_EQ(r, 7u);
  // SET u8 -1: a negative value reads as a huge unsigned one, so it saturates to the maximum.
  EXPECT_EQ(CheckUnsignedOverflow(~uint64_t{0}, 0, 8, BitfieldOverflow::kSat, &r), 1);
  EXPECT_EQ(r, 255u);
  EXPECT_EQ(CheckUnsignedOverflow(0, INT64_MAX, 63, BitfieldOverflow::kSat, &r), 0);
  EXPECT_EQ(CheckUnsignedOverflow(1, INT64_MAX, 63, BitfieldOverflow::kSat, &r), 1);
}

TEST(BitopsTest, SignedOverflow) {
  int64_t r = 0;
  EXPECT_EQ(CheckSignedOverflow(120, 7, 8, BitfieldOverflow::kWrap, &r), 0);
  EXPECT_EQ(CheckSignedOverflow(120, 8, 8, BitfieldOverflow::kWrap, &r), 1);
  EXPECT_EQ(r, -128);
  EXPECT_EQ(CheckSignedOverflow(-120, -9, 8, BitfieldOverflow::kWrap, &r), -1);
  EXPECT_EQ(r, 127);
  EXPECT_EQ(CheckSignedOverflow(-120, -9, 8, BitfieldOverflow::kSat, &r), -1);
  EXPECT_EQ(r, -128);
  EXPECT_EQ(CheckSignedOverflow(INT64_MAX, 1, 64, BitfieldOverflow::kWrap, &r), 1);
  EXPECT_EQ(r, INT64_MIN);
  EXPECT_EQ(CheckSignedOverflow(INT64_MIN, -1, 64, BitfieldOverflow::kSat, &r), -1);
  EXPECT_EQ(r, INT64_MIN);
  EXPECT_EQ(CheckSignedOverflow(-1, 0, 1, BitfieldOverflow::kSat, &r), 0);
  EXPECT_EQ(CheckSignedOverflow(1, 0, 1, BitfieldOverflow::kSat, &r), 1);
  EXPECT_EQ(r, 0);
  EXPECT_EQ(CheckSignedOverflow(300, 0, 8, BitfieldOverflow::kWrap, &r), 1);  // SET i8 300.
  EXPECT_EQ(r, 44);
  EXPECT_EQ(CheckSignedOverflow(-300, 0, 8, BitfieldOverflow::kSat, &r), -1);  // SET i8 -300.
  EXPECT_EQ(r, -128);
  // Redis's quirk: a value so negative that max - value wraps saturates to the maximum.
  EXPECT_EQ(CheckSignedOverflow(INT64_MIN, 0, 16, BitfieldOverflow::kSat, &r), 1);
  EXPECT_EQ(r, 32767);
  EXPECT_EQ(CheckSignedOverflow(INT64_MIN + 40000, 0, 16, BitfieldOverflow::kSat, &r), -1);
  EXPECT_EQ(r, -32768);
}

}  // namespace
}  // namespace shoal::storage
