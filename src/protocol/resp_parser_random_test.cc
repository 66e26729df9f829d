// The fuzz target's property (tests/fuzz/resp_parser_fuzz.cc), checked deterministically in every
// test run: random and mutated requests parse the same whether they arrive whole or in pieces.
#include <gtest/gtest.h>

#include <random>

#include "protocol/parse_transcript.h"

namespace shoal::protocol {
namespace {

std::string RandomRequest(std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, 9);
  std::string s;
  int n = 1 + pick(rng);
  if (pick(rng) < 3) {  // Inline.
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + std::string(1 + pick(rng), 'a' + pick(rng));
    return s + "\r\n";
  }
  s = "*" + std::to_string(n) + "\r\n";
  for (int i = 0; i < n; ++i) {
    std::string arg(pick(rng) * 3, static_cast<char>(rng()));
    s += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return s;
}

TEST(RespParserRandomTest, WholeAndPiecesAgree) {
  std::mt19937 rng(12345);
  const char kNoise[] = {'*', '$', '\r', '\n', '-', '0', '9', ' ', '"', '\'', '\\', 'x', '\0'};
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    int requests = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < requests; ++i) input += RandomRequest(rng);
    // Mutate a few bytes into protocol-significant characters.
    int mutations = static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !input.empty(); ++m) {
      input[rng() % input.size()] = kNoise[rng() % sizeof(kNoise)];
    }
    auto whole = ParseTranscript(input, input.size() + 1);
    for (size_t chunk : {1, 2, 3, 7, 64}) {
      ASSERT_EQ(ParseTranscript(input, chunk), whole) << "round " << round << " chunk " << chunk;
    }
  }
}

}  // namespace
}  // namespace shoal::protocol
