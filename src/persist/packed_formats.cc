#include "persist/packed_formats.h"

#include <cstdint>
#include <cstring>

namespace shoal::persist {
namespace {

Status Corrupt(const char* what) { return Status::Error(std::string("corrupt payload: ") + what); }

uint64_t LoadLE(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

int64_t SignExtend(uint64_t v, int bits) {
  uint64_t sign = 1ULL << (bits - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

// ---- listpack ----

constexpr size_t kLpHeader = 6;
constexpr uint8_t kLpEof = 0xFF;
constexpr uint16_t kLpUnknownCount = 65535;

size_t LpBacklenSize(size_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

// The size of the <encoding+data> part of the entry at p, or 0 if it is malformed or does not fit
// before `end`.
size_t LpEncodedSize(const uint8_t* p, const uint8_t* end) {
  size_t avail = static_cast<size_t>(end - p);
  uint8_t b = p[0];
  size_t size;
  if (b < 0x80) {
    size = 1;
  } else if ((b & 0xC0) == 0x80) {
    size = 1 + (b & 0x3F);
  } else if ((b & 0xE0) == 0xC0) {
    size = 2;
  } else if ((b & 0xF0) == 0xE0) {
    if (avail < 2) return 0;
    size = 2 + ((static_cast<size_t>(b & 0x0F) << 8) | p[1]);
  } else {
    switch (b) {
      case 0xF0:
        if (avail < 5) return 0;
        size = 5 + LoadLE(p + 1, 4);
        break;
      case 0xF1: size = 3; break;
      case 0xF2: size = 4; break;
      case 0xF3: size = 5; break;
      case 0xF4: size = 9; break;
      default: return 0;  // 0xF5..0xFE are unused; 0xFF is the end, not an entry.
    }
  }
  return size <= avail ? size : 0;
}

// ---- ziplist ----

constexpr size_t kZlHeader = 10;
constexpr uint8_t kZlEnd = 0xFF;

}  // namespace

Status ValidateListpack(std::string_view bytes, size_t* count) {
  const auto* lp = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t size = bytes.size();
  if (size < kLpHeader + 1) return Corrupt("listpack too short");
  if (LoadLE(lp, 4) != size) return Corrupt("listpack size mismatch");
  if (lp[size - 1] != kLpEof) return Corrupt("listpack without end byte");
  const uint8_t* end = lp + size - 1;  // The EOF byte: entries must end before it.
  const uint8_t* p = lp + kLpHeader;
  size_t n = 0;
  while (p < end) {
    size_t enc = LpEncodedSize(p, end);
    if (enc == 0) return Corrupt("listpack entry malformed");
    size_t back = LpBacklenSize(enc);
    if (enc + back > static_cast<size_t>(end - p)) return Corrupt("listpack entry out of bounds");
    // The backlen, read right to left as Prev() reads it, must give back exactly `enc` in exactly
    // `back` bytes.
    const uint8_t* q = p + enc + back - 1;
    uint64_t val = 0;
    size_t used = 0;
    for (;;) {
      val |= static_cast<uint64_t>(q[0] & 127) << (7 * used);
      ++used;
      if (!(q[0] & 128)) break;
      if (used == back) return Corrupt("listpack backlen malformed");
      --q;
    }
    if (used != back || val != enc) return Corrupt("listpack backlen mismatch");
    p += enc + back;
    ++n;
  }
  uint16_t stored = static_cast<uint16_t>(LoadLE(lp + 4, 2));
  if (stored != kLpUnknownCount && stored != n) return Corrupt("listpack count mismatch");
  *count = n;
  return Status::Ok();
}

Status ValidateIntset(std::string_view bytes, size_t* count) {
  const auto* is = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() < 8) return Corrupt("intset too short");
  uint64_t width = LoadLE(is, 4);
  uint64_t len = LoadLE(is + 4, 4);
  if (width != 2 && width != 4 && width != 8) return Corrupt("intset width");
  if (8 + len * width != bytes.size()) return Corrupt("intset size mismatch");
  int64_t prev = 0;
  for (uint64_t i = 0; i < len; ++i) {
    int64_t v = SignExtend(LoadLE(is + 8 + i * width, static_cast<int>(width)),
                           static_cast<int>(8 * width));
    if (i > 0 && v <= prev) return Corrupt("intset not ascending");
    prev = v;
  }
  *count = len;
  return Status::Ok();
}

Status ReadZiplist(std::string_view bytes, std::vector<std::string>* entries) {
  const auto* zl = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t size = bytes.size();
  if (size < kZlHeader + 1) return Corrupt("ziplist too short");
  if (LoadLE(zl, 4) != size) return Corrupt("ziplist size mismatch");
  if (zl[size - 1] != kZlEnd) return Corrupt("ziplist without end byte");
  uint64_t tail = LoadLE(zl + 4, 4);
  uint64_t stored = LoadLE(zl + 8, 2);
  const uint8_t* end = zl + size - 1;
  const uint8_t* p = zl + kZlHeader;
  size_t prev_size = 0;
  const uint8_t* last = nullptr;
  entries->clear();
  while (p < end) {
    const uint8_t* start = p;
    size_t avail = static_cast<size_t>(end - p);
    // prevlen: one byte below 254, else 254 and four bytes.
    size_t prevlen;
    if (p[0] < 254) {
      prevlen = p[0];
      p += 1;
    } else if (p[0] == 254 && avail >= 5) {
      prevlen = LoadLE(p + 1, 4);
      p += 5;
    } else {
      return Corrupt("ziplist prevlen malformed");
    }
    if (prevlen != prev_size) return Corrupt("ziplist prevlen mismatch");
    if (p >= end) return Corrupt("ziplist entry out of bounds");
    avail = static_cast<size_t>(end - p);
    uint8_t b = p[0];
    std::string text;
    if ((b & 0xC0) != 0xC0) {  // A string.
      size_t len, head;
      if ((b & 0xC0) == 0x00) {
        len = b & 0x3F;
        head = 1;
      } else if ((b & 0xC0) == 0x40) {
        if (avail < 2) return Corrupt("ziplist entry out of bounds");
        len = (static_cast<size_t>(b & 0x3F) << 8) | p[1];
        head = 2;
      } else if (b == 0x80) {
        if (avail < 5) return Corrupt("ziplist entry out of bounds");
        len = (static_cast<size_t>(p[1]) << 24) | (static_cast<size_t>(p[2]) << 16) |
              (static_cast<size_t>(p[3]) << 8) | p[4];
        head = 5;
      } else {
        return Corrupt("ziplist encoding");
      }
      if (head + len > avail) return Corrupt("ziplist entry out of bounds");
      text.assign(reinterpret_cast<const char*>(p + head), len);
      p += head + len;
    } else {
      int64_t v;
      size_t n;
      switch (b) {
        case 0xC0: n = 2; break;
        case 0xD0: n = 4; break;
        case 0xE0: n = 8; break;
        case 0xF0: n = 3; break;
        case 0xFE: n = 1; break;
        default:
          if (b >= 0xF1 && b <= 0xFD) {
            n = 0;
          } else {
            return Corrupt("ziplist encoding");
          }
      }
      if (1 + n > avail) return Corrupt("ziplist entry out of bounds");
      v = n == 0 ? (b & 0x0F) - 1 : SignExtend(LoadLE(p + 1, static_cast<int>(n)), 8 * n);
      text = std::to_string(v);
      p += 1 + n;
    }
    prev_size = static_cast<size_t>(p - start);
    last = start;
    entries->push_back(std::move(text));
  }
  if (p != end) return Corrupt("ziplist entry out of bounds");
  uint64_t want_tail = last == nullptr ? kZlHeader : static_cast<uint64_t>(last - zl);
  if (tail != want_tail) return Corrupt("ziplist tail mismatch");
  if (stored != 65535 && stored != entries->size()) return Corrupt("ziplist count mismatch");
  return Status::Ok();
}

Status ReadZipmap(std::string_view bytes, std::vector<std::string>* entries) {
  const auto* zm = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t size = bytes.size();
  if (size < 2) return Corrupt("zipmap too short");
  const uint8_t* end = zm + size;
  const uint8_t* p = zm + 1;
  entries->clear();
  // A length: one byte below 254, else 254 and four bytes; 255 ends the map.
  auto read_len = [&](size_t* len) -> bool {
    if (p >= end) return false;
    if (p[0] < 254) {
      *len = *p++;
      return true;
    }
    if (p[0] == 254 && end - p >= 5) {
      *len = LoadLE(p + 1, 4);
      p += 5;
      return true;
    }
    return false;
  };
  for (;;) {
    if (p >= end) return Corrupt("zipmap without end byte");
    if (p[0] == 255) break;
    size_t flen, vlen;
    if (!read_len(&flen) || flen > static_cast<size_t>(end - p)) return Corrupt("zipmap field");
    entries->emplace_back(reinterpret_cast<const char*>(p), flen);
    p += flen;
    if (!read_len(&vlen) || p >= end) return Corrupt("zipmap value");
    size_t free_bytes = *p++;
    if (vlen > static_cast<size_t>(end - p) || free_bytes > static_cast<size_t>(end - p) - vlen) {
      return Corrupt("zipmap value");
    }
    entries->emplace_back(reinterpret_cast<const char*>(p), vlen);
    p += vlen + free_bytes;
  }
  if (p + 1 != end) return Corrupt("zipmap trailing bytes");
  if (zm[0] < 254 && zm[0] != entries->size() / 2) return Corrupt("zipmap count mismatch");
  return Status::Ok();
}

}  // namespace shoal::persist
