#include "persist/crc64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace shoal::persist {
namespace {

// The plain bit-at-a-time definition, to check the table-driven version against.
uint64_t BitwiseCrc64(uint64_t crc, const std::string& s) {
  for (unsigned char c : s) {
    crc ^= c;
    for (int i = 0; i < 8; ++i) crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
  }
  return crc;
}

TEST(Crc64Test, RedisCheckValue) {
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
  EXPECT_EQ(Crc64(0, ""), 0u);
}

TEST(Crc64Test, MatchesBitwiseDefinitionAndChains) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string s(rng() % 300, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(Crc64(0, s), BitwiseCrc64(0, s));
    size_t cut = s.empty() ? 0 : rng() % s.size();
    EXPECT_EQ(Crc64(Crc64(0, s.substr(0, cut)), s.substr(cut)), Crc64(0, s));
  }
}

}  // namespace
}  // namespace shoal::persist
