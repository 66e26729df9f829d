#include "storage/listpack.h"

#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "common/strings.h"

namespace shoal::storage::lp {

namespace {

constexpr uint16_t kUnknownCount = 65535;
constexpr size_t kMaxSafeBytes = 1ULL << 30;

uint32_t TotalBytes(const uint8_t* lp) {
  return static_cast<uint32_t>(lp[0]) | static_cast<uint32_t>(lp[1]) << 8 |
         static_cast<uint32_t>(lp[2]) << 16 | static_cast<uint32_t>(lp[3]) << 24;
}
void SetTotalBytes(uint8_t* lp, uint32_t v) {
  lp[0] = v & 0xFF;
  lp[1] = (v >> 8) & 0xFF;
  lp[2] = (v >> 16) & 0xFF;
  lp[3] = (v >> 24) & 0xFF;
}
uint16_t StoredCount(const uint8_t* lp) { return static_cast<uint16_t>(lp[4] | lp[5] << 8); }
void SetStoredCount(uint8_t* lp, uint16_t v) {
  lp[4] = v & 0xFF;
  lp[5] = v >> 8;
}
void AdjustCount(uint8_t* lp, int delta) {
  uint16_t n = StoredCount(lp);
  if (n == kUnknownCount) return;  // Length() recounts.
  int64_t next = static_cast<int64_t>(n) + delta;
  SetStoredCount(lp, next >= kUnknownCount ? kUnknownCount : static_cast<uint16_t>(next));
}

uint64_t ReadLE(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
void WriteLE(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
int64_t SignExtend(uint64_t v, int bits) {
  uint64_t sign = 1ULL << (bits - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

// Size of an entry's <encoding+data> part.
size_t EncodedSize(const uint8_t* p) {
  uint8_t b = p[0];
  if (b < 0x80) return 1;
  if ((b & 0xC0) == 0x80) return 1 + (b & 0x3F);
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 2 + ((static_cast<size_t>(b & 0x0F) << 8) | p[1]);
  switch (b) {
    case 0xF0: return 5 + ReadLE(p + 1, 4);
    case 0xF1: return 3;
    case 0xF2: return 4;
    case 0xF3: return 5;
    case 0xF4: return 9;
  }
  return 1;  // EOF.
}

size_t BacklenSize(size_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

// The most significant 7-bit group comes first; every byte but the first carries 0x80, so that
// reading right to left, 0x80 means "more to the left".
void WriteBacklen(uint8_t* out, size_t l) {
  size_t n = BacklenSize(l);
  for (size_t i = 0; i < n; ++i) {
    size_t shift = 7 * (n - 1 - i);
    uint8_t group = static_cast<uint8_t>((l >> shift) & 127);
    out[i] = i == 0 ? group : (group | 128);
  }
}

size_t EntryTotalSize(const uint8_t* p) {
  size_t enc = EncodedSize(p);
  return enc + BacklenSize(enc);
}

// An element encoded for writing: a header (and integer payload) plus optional string bytes.
struct Encoded {
  uint8_t head[9];
  size_t head_len = 0;
  std::string_view str;
  size_t encoded_size() const { return head_len + str.size(); }
  size_t total_size() const { return encoded_size() + BacklenSize(encoded_size()); }
};

void EncodeInt(int64_t v, Encoded* e) {
  if (v >= 0 && v <= 127) {
    e->head[0] = static_cast<uint8_t>(v);
    e->head_len = 1;
  } else if (v >= -4096 && v <= 4095) {
    uint64_t u = v < 0 ? (1ULL << 13) + v : static_cast<uint64_t>(v);
    e->head[0] = static_cast<uint8_t>(0xC0 | (u >> 8));
    e->head[1] = static_cast<uint8_t>(u & 0xFF);
    e->head_len = 2;
  } else if (v >= -32768 && v <= 32767) {
    e->head[0] = 0xF1;
    WriteLE(e->head + 1, static_cast<uint64_t>(v), 2);
    e->head_len = 3;
  } else if (v >= -8388608 && v <= 8388607) {
    e->head[0] = 0xF2;
    WriteLE(e->head + 1, static_cast<uint64_t>(v), 3);
    e->head_len = 4;
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    e->head[0] = 0xF3;
    WriteLE(e->head + 1, static_cast<uint64_t>(v), 4);
    e->head_len = 5;
  } else {
    e->head[0] = 0xF4;
    WriteLE(e->head + 1, static_cast<uint64_t>(v), 8);
    e->head_len = 9;
  }
}

// Strings that are canonical integers are stored as integers, as Redis's lpEncodeGetType does.
void Encode(std::string_view s, Encoded* e) {
  if (s.size() <= kMaxInt64Chars) {
    if (std::optional<int64_t> v = ParseInt64(s)) return EncodeInt(*v, e);
  }
  size_t n = s.size();
  if (n < 64) {
    e->head[0] = static_cast<uint8_t>(0x80 | n);
    e->head_len = 1;
  } else if (n < 4096) {
    e->head[0] = static_cast<uint8_t>(0xE0 | (n >> 8));
    e->head[1] = static_cast<uint8_t>(n & 0xFF);
    e->head_len = 2;
  } else {
    e->head[0] = 0xF0;
    WriteLE(e->head + 1, n, 4);
    e->head_len = 5;
  }
  e->str = s;
}

void WriteEntry(uint8_t* dst, const Encoded& e) {
  memcpy(dst, e.head, e.head_len);
  if (!e.str.empty()) memcpy(dst + e.head_len, e.str.data(), e.str.size());
  WriteBacklen(dst + e.encoded_size(), e.encoded_size());
}

// Replaces `old_size` bytes at `offset` with `e` (old_size 0 inserts). Returns the new buffer.
uint8_t* Splice(uint8_t* lp, size_t offset, size_t old_size, const Encoded* e) {
  size_t total = TotalBytes(lp);
  size_t new_size = e != nullptr ? e->total_size() : 0;
  size_t new_total = total - old_size + new_size;
  size_t tail = total - offset - old_size;
  if (new_total > total) {
    lp = static_cast<uint8_t*>(realloc(lp, new_total));
    memmove(lp + offset + new_size, lp + offset + old_size, tail);
  } else {
    memmove(lp + offset + new_size, lp + offset + old_size, tail);
    lp = static_cast<uint8_t*>(realloc(lp, new_total));
  }
  if (e != nullptr) WriteEntry(lp + offset, *e);
  SetTotalBytes(lp, static_cast<uint32_t>(new_total));
  return lp;
}

}  // namespace

std::string_view Item::View(std::string* scratch) const {
  if (!is_int) return str;
  char buf[24];
  char* end = absl::numbers_internal::FastIntToBuffer(ival, buf);
  scratch->assign(buf, end - buf);
  return *scratch;
}

bool Item::Equals(std::string_view s) const {
  if (!is_int) return str == s;
  if (s.size() > kMaxInt64Chars) return false;
  std::optional<int64_t> v = ParseInt64(s);
  return v && *v == ival;
}

uint8_t* New(size_t capacity) {
  uint8_t* lp = static_cast<uint8_t*>(malloc(capacity > kHeaderSize + 1 ? capacity : kHeaderSize + 1));
  SetTotalBytes(lp, kHeaderSize + 1);
  SetStoredCount(lp, 0);
  lp[kHeaderSize] = kEof;
  return lp;
}

void Free(uint8_t* lp) { free(lp); }

uint8_t* Clone(const uint8_t* lp) {
  size_t n = TotalBytes(lp);
  uint8_t* out = static_cast<uint8_t*>(malloc(n));
  memcpy(out, lp, n);
  return out;
}

size_t Bytes(const uint8_t* lp) { return TotalBytes(lp); }

size_t Length(const uint8_t* lp) {
  uint16_t n = StoredCount(lp);
  if (n != kUnknownCount) return n;
  size_t count = 0;
  for (const uint8_t* p = First(lp); p != nullptr; p = Next(lp, p)) ++count;
  // Cache the count once it fits again, as Redis does: the header is not part of the value.
  if (count < kUnknownCount) SetStoredCount(const_cast<uint8_t*>(lp), static_cast<uint16_t>(count));
  return count;
}

size_t EntrySize(std::string_view s) {
  Encoded e;
  Encode(s, &e);
  return e.total_size();
}

uint8_t* First(uint8_t* lp) {
  uint8_t* p = lp + kHeaderSize;
  return *p == kEof ? nullptr : p;
}

uint8_t* Last(uint8_t* lp) {
  uint8_t* eof = lp + TotalBytes(lp) - 1;
  return Prev(lp, eof);
}

uint8_t* Next(uint8_t* lp, uint8_t* p) {
  uint8_t* q = p + EntryTotalSize(p);
  return *q == kEof ? nullptr : q;
}

uint8_t* Prev(uint8_t* lp, uint8_t* p) {
  if (p == lp + kHeaderSize) return nullptr;
  // Read the previous entry's backlen right to left.
  uint8_t* q = p - 1;
  size_t len = 0;
  size_t shift = 0;
  size_t bytes = 0;
  while (true) {
    len |= static_cast<size_t>(*q & 127) << shift;
    ++bytes;
    if (!(*q & 128)) break;
    shift += 7;
    --q;
  }
  return p - bytes - len;
}

uint8_t* Seek(uint8_t* lp, int64_t index) {
  int64_t len = static_cast<int64_t>(Length(lp));
  if (index < 0) index += len;
  if (index < 0 || index >= len) return nullptr;
  if (index < len / 2) {
    uint8_t* p = First(lp);
    for (int64_t i = 0; i < index; ++i) p = Next(lp, p);
    return p;
  }
  uint8_t* p = Last(lp);
  for (int64_t i = len - 1; i > index; --i) p = Prev(lp, p);
  return p;
}

Item Get(const uint8_t* p) {
  Item it;
  uint8_t b = p[0];
  if (b < 0x80) {
    it.is_int = true;
    it.ival = b;
  } else if ((b & 0xC0) == 0x80) {
    it.str = std::string_view(reinterpret_cast<const char*>(p + 1), b & 0x3F);
  } else if ((b & 0xE0) == 0xC0) {
    it.is_int = true;
    it.ival = SignExtend((static_cast<uint64_t>(b & 0x1F) << 8) | p[1], 13);
  } else if ((b & 0xF0) == 0xE0) {
    size_t n = (static_cast<size_t>(b & 0x0F) << 8) | p[1];
    it.str = std::string_view(reinterpret_cast<const char*>(p + 2), n);
  } else {
    switch (b) {
      case 0xF0:
        it.str = std::string_view(reinterpret_cast<const char*>(p + 5), ReadLE(p + 1, 4));
        break;
      case 0xF1: it.is_int = true; it.ival = SignExtend(ReadLE(p + 1, 2), 16); break;
      case 0xF2: it.is_int = true; it.ival = SignExtend(ReadLE(p + 1, 3), 24); break;
      case 0xF3: it.is_int = true; it.ival = SignExtend(ReadLE(p + 1, 4), 32); break;
      case 0xF4: it.is_int = true; it.ival = static_cast<int64_t>(ReadLE(p + 1, 8)); break;
    }
  }
  return it;
}

void AppendTo(const uint8_t* p, std::string* out) {
  Item it = Get(p);
  if (!it.is_int) {
    out->append(it.str);
    return;
  }
  char buf[24];
  char* end = absl::numbers_internal::FastIntToBuffer(it.ival, buf);
  out->append(buf, end - buf);
}

uint8_t* Find(uint8_t* lp, uint8_t* p, std::string_view s, unsigned skip) {
  // Decide once whether `s` can only match integer entries or only string entries: a canonical
  // integer is always stored as one.
  std::optional<int64_t> as_int;
  if (s.size() <= kMaxInt64Chars) as_int = ParseInt64(s);
  while (p != nullptr) {
    Item it = Get(p);
    if (as_int ? (it.is_int && it.ival == *as_int) : (!it.is_int && it.str == s)) return p;
    p = Next(lp, p);
    for (unsigned i = 0; i < skip && p != nullptr; ++i) p = Next(lp, p);
  }
  return nullptr;
}

uint8_t* Insert(uint8_t* lp, std::string_view s, uint8_t* p, Where where, uint8_t** newp) {
  Encoded e;
  Encode(s, &e);
  size_t offset = p - lp;
  size_t old_size = 0;
  if (where == Where::kAfter) {
    offset += EntryTotalSize(p);
  } else if (where == Where::kReplace) {
    old_size = EntryTotalSize(p);
  }
  lp = Splice(lp, offset, old_size, &e);
  if (where != Where::kReplace) AdjustCount(lp, 1);
  if (newp != nullptr) *newp = lp + offset;
  return lp;
}

uint8_t* Append(uint8_t* lp, std::string_view s) {
  Encoded e;
  Encode(s, &e);
  lp = Splice(lp, TotalBytes(lp) - 1, 0, &e);
  AdjustCount(lp, 1);
  return lp;
}

uint8_t* AppendInt(uint8_t* lp, int64_t v) {
  Encoded e;
  EncodeInt(v, &e);
  lp = Splice(lp, TotalBytes(lp) - 1, 0, &e);
  AdjustCount(lp, 1);
  return lp;
}

uint8_t* Prepend(uint8_t* lp, std::string_view s) {
  Encoded e;
  Encode(s, &e);
  lp = Splice(lp, kHeaderSize, 0, &e);
  AdjustCount(lp, 1);
  return lp;
}

uint8_t* Replace(uint8_t* lp, uint8_t** p, std::string_view s) {
  return Insert(lp, s, *p, Where::kReplace, p);
}

uint8_t* Delete(uint8_t* lp, uint8_t** p) { return DeleteRange(lp, p, 1); }

uint8_t* DeleteRange(uint8_t* lp, uint8_t** p, size_t count) {
  size_t offset = *p - lp;
  uint8_t* end = *p;
  size_t deleted = 0;
  while (deleted < count && *end != kEof) {
    end += EntryTotalSize(end);
    ++deleted;
  }
  lp = Splice(lp, offset, end - (lp + offset), nullptr);
  AdjustCount(lp, -static_cast<int>(deleted));
  *p = lp[offset] == kEof ? nullptr : lp + offset;
  return lp;
}

uint8_t* DeleteRange(uint8_t* lp, int64_t index, size_t count) {
  uint8_t* p = Seek(lp, index);
  if (p == nullptr || count == 0) return lp;
  return DeleteRange(lp, &p, count);
}

bool SafeToAdd(const uint8_t* lp, size_t add) {
  return (lp != nullptr ? TotalBytes(lp) : 0) + add <= kMaxSafeBytes;
}

}  // namespace shoal::storage::lp
