// Test support for the parser's chunking property, shared by the randomized unit test and the
// libFuzzer target: parse bytes as a connection receives them, `chunk` bytes at a time, and
// record every command and the error (if any) in order.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "protocol/resp_parser.h"

namespace shoal::protocol {

inline std::vector<std::string> ParseTranscript(const std::string& data, size_t chunk) {
  std::vector<std::string> out;
  RespParser parser;
  std::string buf;
  size_t fed = 0;
  ArgList args;
  for (;;) {
    if (fed < data.size()) {
      size_t n = std::min(chunk, data.size() - fed);
      buf.append(data, fed, n);
      fed += n;
    }
    for (;;) {
      size_t used = 0;
      ParseState st = buf.empty() ? ParseState::kNeedMore : parser.Parse(buf, &args, &used);
      if (st == ParseState::kNeedMore) break;
      if (st == ParseState::kError) {
        out.push_back("err|" + parser.error());
        return out;
      }
      if (st == ParseState::kCommand) {
        std::string line = "cmd";
        for (auto a : args) line += "|" + std::string(a);
        out.push_back(line);
      }
      buf.erase(0, used);
    }
    if (fed == data.size()) return out;
  }
}

}  // namespace shoal::protocol
