#include "storage/intset.h"

#include <cstdlib>
#include <cstring>

namespace shoal::storage::intset {
namespace {

constexpr size_t kHeader = 8;

uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
void Store32(uint8_t* p, uint32_t v) { memcpy(p, &v, sizeof(v)); }

uint32_t WidthFor(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) return 8;
  if (v < INT16_MIN || v > INT16_MAX) return 4;
  return 2;
}

int64_t GetAt(const uint8_t* is, uint32_t width, uint32_t pos) {
  const uint8_t* p = is + kHeader + static_cast<size_t>(pos) * width;
  switch (width) {
    case 2: {
      int16_t v;
      memcpy(&v, p, sizeof(v));
      return v;
    }
    case 4: {
      int32_t v;
      memcpy(&v, p, sizeof(v));
      return v;
    }
    default: {
      int64_t v;
      memcpy(&v, p, sizeof(v));
      return v;
    }
  }
}

void SetAt(uint8_t* is, uint32_t width, uint32_t pos, int64_t v) {
  uint8_t* p = is + kHeader + static_cast<size_t>(pos) * width;
  switch (width) {
    case 2: {
      int16_t x = static_cast<int16_t>(v);
      memcpy(p, &x, sizeof(x));
      return;
    }
    case 4: {
      int32_t x = static_cast<int32_t>(v);
      memcpy(p, &x, sizeof(x));
      return;
    }
    default:
      memcpy(p, &v, sizeof(v));
  }
}

// Binary search: true and the position of `v` if present, else false and where it would go.
bool Search(const uint8_t* is, int64_t v, uint32_t* pos) {
  uint32_t width = Width(is);
  uint32_t lo = 0, hi = Size(is);
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int64_t cur = GetAt(is, width, mid);
    if (cur == v) {
      *pos = mid;
      return true;
    }
    if (cur < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *pos = lo;
  return false;
}

uint8_t* Resize(uint8_t* is, uint32_t width, uint32_t length) {
  is = static_cast<uint8_t*>(realloc(is, kHeader + static_cast<size_t>(width) * length));
  Store32(is, width);
  Store32(is + 4, length);
  return is;
}

// Widens every value to `width` and appends `v`, which is out of range of the old width, so it
// is either smaller than every value (negative) or larger than every value.
uint8_t* UpgradeAndAdd(uint8_t* is, int64_t v, uint32_t width) {
  uint32_t old_width = Width(is);
  uint32_t n = Size(is);
  is = Resize(is, width, n + 1);
  uint32_t prepend = v < 0 ? 1 : 0;
  // Back to front, so no value is overwritten before it is read.
  for (uint32_t i = n; i-- > 0;) SetAt(is, width, i + prepend, GetAt(is, old_width, i));
  SetAt(is, width, prepend ? 0 : n, v);
  return is;
}

}  // namespace

uint8_t* New() {
  uint8_t* is = static_cast<uint8_t*>(malloc(kHeader));
  Store32(is, 2);
  Store32(is + 4, 0);
  return is;
}

void Free(uint8_t* is) { free(is); }

uint8_t* Clone(const uint8_t* is) {
  size_t n = Bytes(is);
  uint8_t* out = static_cast<uint8_t*>(malloc(n));
  memcpy(out, is, n);
  return out;
}

uint32_t Size(const uint8_t* is) { return Load32(is + 4); }
uint32_t Width(const uint8_t* is) { return Load32(is); }
size_t Bytes(const uint8_t* is) { return kHeader + static_cast<size_t>(Width(is)) * Size(is); }

int64_t Get(const uint8_t* is, uint32_t pos) { return GetAt(is, Width(is), pos); }

bool Contains(const uint8_t* is, int64_t v) {
  if (WidthFor(v) > Width(is)) return false;
  uint32_t pos;
  return Search(is, v, &pos);
}

uint8_t* Add(uint8_t* is, int64_t v, bool* added) {
  uint32_t need = WidthFor(v);
  if (need > Width(is)) {
    *added = true;
    return UpgradeAndAdd(is, v, need);
  }
  uint32_t pos;
  if (Search(is, v, &pos)) {
    *added = false;
    return is;
  }
  uint32_t width = Width(is);
  uint32_t n = Size(is);
  is = Resize(is, width, n + 1);
  uint8_t* at = is + kHeader + static_cast<size_t>(pos) * width;
  memmove(at + width, at, static_cast<size_t>(n - pos) * width);
  SetAt(is, width, pos, v);
  *added = true;
  return is;
}

uint8_t* Remove(uint8_t* is, int64_t v, bool* removed) {
  uint32_t pos;
  if (WidthFor(v) > Width(is) || !Search(is, v, &pos)) {
    *removed = false;
    return is;
  }
  uint32_t width = Width(is);
  uint32_t n = Size(is);
  uint8_t* at = is + kHeader + static_cast<size_t>(pos) * width;
  memmove(at, at + width, static_cast<size_t>(n - pos - 1) * width);
  *removed = true;
  return Resize(is, width, n - 1);
}

}  // namespace shoal::storage::intset
