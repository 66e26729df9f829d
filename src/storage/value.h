// Value: what a key holds, in 16 bytes.
//
// Strings take one of three encodings, chosen as Redis chooses its own so that OBJECT ENCODING
// answers the same:
//   int     - a canonical decimal integer of at most 20 characters, stored as an int64;
//   inline  - up to 12 bytes stored in the Value itself (reported "embstr");
//   heap    - a malloc'd buffer; reported "embstr" up to 44 bytes unless modified in place by
//             APPEND/SETRANGE (then "raw", as in Redis), and "raw" beyond 44 bytes.
// Collections (list, hash, set, zset) hold one pointer to their object here; [13] then says which
// encoding that object uses (ObjectEncoding), so a small hash costs exactly its listpack bytes.
// The object's owner module (list_object.h, hash_object.h...) knows how to read it; Value only
// frees and clones it through objects.h.
//
// Layout: bytes [0,12) payload (int64 | inline bytes | pointer + uint32 length | object pointer),
// [12] type, [13] encoding, [14] inline length, [15] flags.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace shoal::storage {

// kJson: a JSON document (json/document.h), TYPE "ReJSON-RL" as RedisJSON's module type.
enum class ValueType : uint8_t { kString = 0, kList, kSet, kZSet, kHash, kStream, kJson };

enum class StringEncoding : uint8_t { kInt = 0, kInline, kHeap };

// How a collection object is laid out; OBJECT ENCODING reports these names.
// kJsonTree: a JSON document's tree; OBJECT ENCODING says "raw", as Redis does for every module
// value.
enum class ObjectEncoding : uint8_t {
  kListpack = 0,
  kQuicklist,
  kIntset,
  kHashtable,
  kSkiplist,
  kJsonTree
};
std::string_view ObjectEncodingName(ObjectEncoding e);

// The name TYPE reports.
std::string_view TypeName(ValueType t);

class Value {
 public:
  static constexpr size_t kInlineMax = 12;
  // Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
  static constexpr size_t kEmbstrLimit = 44;

  Value() { SetStringHeader(StringEncoding::kInline, 0); }
  ~Value() { Release(); }
  Value(Value&& o) noexcept {
    memcpy(b_, o.b_, sizeof(b_));
    o.SetStringHeader(StringEncoding::kInline, 0);
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      Release();
      memcpy(b_, o.b_, sizeof(b_));
      o.SetStringHeader(StringEncoding::kInline, 0);
    }
    return *this;
  }
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  // Stores `s` as Redis's tryObjectEncoding would: as an integer when it is one.
  static Value String(std::string_view s);
  // Stores `s` as bytes even if it looks like an integer (INCRBYFLOAT's results).
  static Value RawString(std::string_view s);
  static Value Int(int64_t v);
  // A collection of type `t` (not kString) owning `object`, laid out as `enc`.
  static Value Object(ValueType t, ObjectEncoding enc, void* object);
  // A deep copy (COPY, GETSET's old value...).
  Value Clone() const;

  ValueType type() const { return static_cast<ValueType>(b_[12]); }
  bool is_string() const { return type() == ValueType::kString; }
  StringEncoding encoding() const { return static_cast<StringEncoding>(b_[13]); }
  bool is_int() const { return is_string() && encoding() == StringEncoding::kInt; }
  int64_t int_value() const {
    int64_t v;
    memcpy(&v, b_, sizeof(v));
    return v;
  }

  // Collections. REQUIRES: !is_string().
  void* object() const { return heap_ptr(); }
  ObjectEncoding object_encoding() const { return static_cast<ObjectEncoding>(b_[13]); }
  // Swaps in a new object (after a conversion, or a realloc of a listpack). The old one is the
  // caller's to free, if it differs.
  void set_object(ObjectEncoding enc, void* object) {
    b_[13] = static_cast<uint8_t>(enc);
    memcpy(b_, &object, sizeof(object));
  }

  // The string's bytes. Integers are formatted into `scratch`, which must outlive the view.
  std::string_view GetString(std::string* scratch) const;
  // Appends the string's bytes to `out` (no scratch needed).
  void AppendTo(std::string* out) const;
  size_t string_size() const;

  // OBJECT ENCODING's answer.
  std::string_view EncodingName() const;
  // OBJECT REFCOUNT's answer: Redis shares integers 0..9999, reported as INT_MAX.
  int64_t RefCount() const;

  // Turns the value into a heap string of `new_size` bytes (keeping the current prefix, zero-
  // filling any growth) and returns its bytes for in-place edits. Marks the value "raw", as Redis
  // does after APPEND and SETRANGE. REQUIRES: is_string().
  char* MutableString(size_t new_size);

  bool has_expire() const { return (b_[15] & kHasExpireFlag) != 0; }
  void set_has_expire(bool v) {
    b_[15] = v ? (b_[15] | kHasExpireFlag) : (b_[15] & ~kHasExpireFlag);
  }
  // Heap bytes owned by this value (approximate; for memory estimates).
  size_t heap_bytes() const;

 private:
  static constexpr uint8_t kHasExpireFlag = 0x01;
  static constexpr uint8_t kRawFlag = 0x02;  // Modified in place: reported "raw".

  void SetStringHeader(StringEncoding enc, uint8_t inline_len) {
    b_[12] = static_cast<uint8_t>(ValueType::kString);
    b_[13] = static_cast<uint8_t>(enc);
    b_[14] = inline_len;
    b_[15] = 0;
  }
  char* heap_ptr() const {
    char* p;
    memcpy(&p, b_, sizeof(p));
    return p;
  }
  uint32_t heap_len() const {
    uint32_t n;
    memcpy(&n, b_ + 8, sizeof(n));
    return n;
  }
  void SetHeap(char* p, uint32_t len) {
    memcpy(b_, &p, sizeof(p));
    memcpy(b_ + 8, &len, sizeof(len));
  }
  void Release();

  alignas(8) uint8_t b_[16];
};

static_assert(sizeof(Value) == 16);

}  // namespace shoal::storage
