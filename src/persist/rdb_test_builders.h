// Test helpers that build the old packed formats Redis 7.0 still reads but no longer writes
// (ziplists, zipmaps), so that their decoding can be tested without a Redis 3.x / 2.x at hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace shoal::persist::testing {

inline void PutLE(std::string* out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// A ziplist as Redis 3.2-6.2 wrote it: small integers in the 4-bit immediate form, others as
// int16/int32/int64, everything else as strings with 6, 14 or 32-bit lengths.
inline std::string BuildZiplist(const std::vector<std::string>& entries) {
  std::string body;
  size_t prev = 0, last_off = 10;
  for (const std::string& e : entries) {
    std::string entry;
    if (prev < 254) {
      entry.push_back(static_cast<char>(prev));
    } else {
      entry.push_back(static_cast<char>(254));
      PutLE(&entry, prev, 4);
    }
    std::optional<int64_t> iv = ParseInt64(e);
    if (iv && std::to_string(*iv) == e) {
      if (*iv >= 0 && *iv <= 12) {
        entry.push_back(static_cast<char>(0xF1 + *iv));
      } else if (*iv >= INT16_MIN && *iv <= INT16_MAX) {
        entry.push_back(static_cast<char>(0xC0));
        PutLE(&entry, static_cast<uint64_t>(*iv), 2);
      } else if (*iv >= INT32_MIN && *iv <= INT32_MAX) {
        entry.push_back(static_cast<char>(0xD0));
        PutLE(&entry, static_cast<uint64_t>(*iv), 4);
      } else {
        entry.push_back(static_cast<char>(0xE0));
        PutLE(&entry, static_cast<uint64_t>(*iv), 8);
      }
    } else if (e.size() < 64) {
      entry.push_back(static_cast<char>(e.size()));
      entry += e;
    } else if (e.size() < 16384) {
      entry.push_back(static_cast<char>(0x40 | (e.size() >> 8)));
      entry.push_back(static_cast<char>(e.size() & 0xFF));
      entry += e;
    } else {
      entry.push_back(static_cast<char>(0x80));
      for (int i = 3; i >= 0; --i) entry.push_back(static_cast<char>(e.size() >> (8 * i)));
      entry += e;
    }
    last_off = 10 + body.size();
    prev = entry.size();
    body += entry;
  }
  std::string zl;
  PutLE(&zl, 10 + body.size() + 1, 4);
  PutLE(&zl, last_off, 4);
  PutLE(&zl, entries.size() < 65535 ? entries.size() : 65535, 2);
  zl += body;
  zl.push_back(static_cast<char>(0xFF));
  return zl;
}

// A zipmap (Redis < 2.6 small hashes): count byte, then len field len free value, then 0xFF.
inline std::string BuildZipmap(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string zm;
  zm.push_back(static_cast<char>(pairs.size() < 254 ? pairs.size() : 254));
  auto put_len = [&](size_t n) {
    if (n < 254) {
      zm.push_back(static_cast<char>(n));
    } else {
      zm.push_back(static_cast<char>(254));
      PutLE(&zm, n, 4);
    }
  };
  for (const auto& [f, v] : pairs) {
    put_len(f.size());
    zm += f;
    put_len(v.size());
    zm.push_back(2);  // Two free bytes after the value, as an update that shrank it leaves.
    zm += v;
    zm.append(2, '\0');
  }
  zm.push_back(static_cast<char>(0xFF));
  return zm;
}

}  // namespace shoal::persist::testing
