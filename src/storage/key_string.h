// KeyString: a key's bytes in 20 bytes of space. Keys up to 19 bytes (most real keys, and
// redis-benchmark's "key:000000012345") live inline with no allocation; longer keys point to a
// heap copy. Keeping this at 20 bytes is what lets a whole keyspace entry fit in 48 bytes.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace shoal::storage {

class KeyString {
 public:
  static constexpr size_t kInlineMax = 19;

  KeyString() { data_[kTagByte] = 0; }
  explicit KeyString(std::string_view s) {
    data_[kTagByte] = 0;
    Init(s);
  }
  ~KeyString() { Free(); }
  KeyString(const KeyString&) = delete;
  KeyString& operator=(const KeyString&) = delete;

  std::string_view view() const {
    if (!is_heap()) return std::string_view(data_, inline_len());
    return std::string_view(heap_ptr(), heap_len());
  }
  size_t size() const { return is_heap() ? heap_len() : inline_len(); }
  bool is_heap() const { return (static_cast<uint8_t>(data_[kTagByte]) & kHeapBit) != 0; }
  // Bytes allocated outside this object (for memory estimates).
  size_t heap_bytes() const { return is_heap() ? heap_len() : 0; }

  void Reset(std::string_view s) {
    Free();
    Init(s);
  }

  // One spare bit the owning Db uses to remember whether the running snapshot has saved this key
  // (storage/db.h). Kept across Reset.
  bool mark() const { return (static_cast<uint8_t>(data_[kTagByte]) & kMarkBit) != 0; }
  void set_mark(bool on) {
    uint8_t tag = static_cast<uint8_t>(data_[kTagByte]);
    data_[kTagByte] = static_cast<char>(on ? (tag | kMarkBit) : (tag & ~kMarkBit));
  }

 private:
  static constexpr size_t kTagByte = 19;
  static constexpr uint8_t kHeapBit = 0x80;
  static constexpr uint8_t kMarkBit = 0x40;
  static constexpr uint8_t kLenMask = 0x1F;  // Inline lengths are at most 19.

  size_t inline_len() const { return static_cast<uint8_t>(data_[kTagByte]) & kLenMask; }

  void Init(std::string_view s) {
    const uint8_t mark = static_cast<uint8_t>(data_[kTagByte]) & kMarkBit;
    if (s.size() <= kInlineMax) {
      memcpy(data_, s.data(), s.size());
      data_[kTagByte] = static_cast<char>(s.size() | mark);
    } else {
      char* p = static_cast<char*>(malloc(s.size()));
      memcpy(p, s.data(), s.size());
      uint32_t len = static_cast<uint32_t>(s.size());
      memcpy(data_, &p, sizeof(p));
      memcpy(data_ + 8, &len, sizeof(len));
      data_[kTagByte] = static_cast<char>(kHeapBit | mark);
    }
  }
  void Free() {
    if (is_heap()) free(heap_ptr());
    data_[kTagByte] = static_cast<char>(static_cast<uint8_t>(data_[kTagByte]) & kMarkBit);
  }
  char* heap_ptr() const {
    char* p;
    memcpy(&p, data_, sizeof(p));
    return p;
  }
  uint32_t heap_len() const {
    uint32_t len;
    memcpy(&len, data_ + 8, sizeof(len));
    return len;
  }

  char data_[20];
};

static_assert(sizeof(KeyString) == 20);

}  // namespace shoal::storage
