// libFuzzer target for the RESP parser: any bytes, fed whole and fed in pieces, must parse to the
// same commands and the same error, without crashing or reading out of bounds.
//
//   scripts/fuzz.sh [seconds]     builds with clang (-fsanitize=fuzzer,address,undefined) and runs
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/parse_transcript.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> whole = shoal::protocol::ParseTranscript(input, input.size() + 1);
  std::vector<std::string> pieces = shoal::protocol::ParseTranscript(input, 1 + size % 7);
  // Inline requests may legitimately differ by chunking only for the "too big" limits, which
  // fuzz inputs never reach (they are far below 64 KiB), so transcripts must agree.
  if (whole != pieces) __builtin_trap();
  return 0;
}
