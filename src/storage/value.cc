#include "storage/value.h"

#include <malloc.h>

#include <climits>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "common/strings.h"
#include "storage/objects.h"

namespace shoal::storage {

std::string_view TypeName(ValueType t) {
  switch (t) {
    case ValueType::kString: return "string";
    case ValueType::kList: return "list";
    case ValueType::kSet: return "set";
    case ValueType::kZSet: return "zset";
    case ValueType::kHash: return "hash";
    case ValueType::kStream: return "stream";
    case ValueType::kJson: return "ReJSON-RL";
  }
  return "none";
}

std::string_view ObjectEncodingName(ObjectEncoding e) {
  switch (e) {
    case ObjectEncoding::kListpack: return "listpack";
    case ObjectEncoding::kQuicklist: return "quicklist";
    case ObjectEncoding::kIntset: return "intset";
    case ObjectEncoding::kHashtable: return "hashtable";
    case ObjectEncoding::kSkiplist: return "skiplist";
    case ObjectEncoding::kJsonTree: return "raw";
  }
  return "unknown";
}

Value Value::Object(ValueType t, ObjectEncoding enc, void* object) {
  Value out;
  out.b_[12] = static_cast<uint8_t>(t);
  out.b_[13] = static_cast<uint8_t>(enc);
  memcpy(out.b_, &object, sizeof(object));
  return out;
}

Value Value::Int(int64_t v) {
  Value out;
  out.SetStringHeader(StringEncoding::kInt, 0);
  memcpy(out.b_, &v, sizeof(v));
  return out;
}

Value Value::String(std::string_view s) {
  if (s.size() <= kMaxInt64Chars) {
    if (std::optional<int64_t> v = ParseInt64(s)) return Int(*v);
  }
  return RawString(s);
}

Value Value::RawString(std::string_view s) {
  Value out;
  if (s.size() <= kInlineMax) {
    out.SetStringHeader(StringEncoding::kInline, static_cast<uint8_t>(s.size()));
    memcpy(out.b_, s.data(), s.size());
  } else {
    out.SetStringHeader(StringEncoding::kHeap, 0);
    char* p = static_cast<char*>(malloc(s.size()));
    memcpy(p, s.data(), s.size());
    out.SetHeap(p, static_cast<uint32_t>(s.size()));
  }
  return out;
}

Value Value::Clone() const {
  if (!is_string()) return Object(type(), object_encoding(), CloneObject(type(), object_encoding(), object()));
  Value out;
  switch (encoding()) {
    case StringEncoding::kInt:
    case StringEncoding::kInline:
      memcpy(out.b_, b_, sizeof(b_));
      break;
    case StringEncoding::kHeap: {
      out = RawString(std::string_view(heap_ptr(), heap_len()));
      out.b_[15] = b_[15];
      break;
    }
  }
  out.set_has_expire(false);  // Expiry belongs to the key, not the value.
  return out;
}

void Value::Release() {
  if (type() == ValueType::kString) {
    if (encoding() == StringEncoding::kHeap) free(heap_ptr());
  } else {
    FreeObject(type(), object_encoding(), object());
  }
}

std::string_view Value::GetString(std::string* scratch) const {
  switch (encoding()) {
    case StringEncoding::kInt: {
      char buf[24];
      char* end = absl::numbers_internal::FastIntToBuffer(int_value(), buf);
      scratch->assign(buf, end - buf);
      return *scratch;
    }
    case StringEncoding::kInline:
      return std::string_view(reinterpret_cast<const char*>(b_), b_[14]);
    case StringEncoding::kHeap:
      return std::string_view(heap_ptr(), heap_len());
  }
  return {};
}

void Value::AppendTo(std::string* out) const {
  if (encoding() == StringEncoding::kInt) {
    char buf[24];
    char* end = absl::numbers_internal::FastIntToBuffer(int_value(), buf);
    out->append(buf, end - buf);
    return;
  }
  std::string unused;
  out->append(GetString(&unused));
}

size_t Value::string_size() const {
  switch (encoding()) {
    case StringEncoding::kInt: {
      char buf[24];
      return absl::numbers_internal::FastIntToBuffer(int_value(), buf) - buf;
    }
    case StringEncoding::kInline: return b_[14];
    case StringEncoding::kHeap: return heap_len();
  }
  return 0;
}

std::string_view Value::EncodingName() const {
  switch (type()) {
    case ValueType::kString:
      switch (encoding()) {
        case StringEncoding::kInt: return "int";
        case StringEncoding::kInline: return (b_[15] & kRawFlag) ? "raw" : "embstr";
        case StringEncoding::kHeap:
          return (b_[15] & kRawFlag) || heap_len() > kEmbstrLimit ? "raw" : "embstr";
      }
      break;
    default: return ObjectEncodingName(object_encoding());
  }
  return "unknown";
}

int64_t Value::RefCount() const {
  if (is_int() && int_value() >= 0 && int_value() < 10000) return INT_MAX;
  return 1;
}

char* Value::MutableString(size_t new_size) {
  uint8_t flags = b_[15];
  if (encoding() != StringEncoding::kHeap) {
    std::string scratch;
    std::string current(GetString(&scratch));
    char* p = static_cast<char*>(malloc(std::max<size_t>(new_size, 1)));
    memcpy(p, current.data(), std::min(current.size(), new_size));
    if (new_size > current.size()) memset(p + current.size(), 0, new_size - current.size());
    SetStringHeader(StringEncoding::kHeap, 0);
    SetHeap(p, static_cast<uint32_t>(new_size));
  } else {
    char* p = heap_ptr();
    size_t old = heap_len();
    size_t capacity = malloc_usable_size(p);
    if (new_size > capacity) {
      // Grow geometrically (as Redis's sdsMakeRoomFor does) so repeated APPENDs are amortized.
      size_t want = new_size < 1024 * 1024 ? new_size * 2 : new_size + 1024 * 1024;
      p = static_cast<char*>(realloc(p, want));
    }
    if (new_size > old) memset(p + old, 0, new_size - old);
    SetHeap(p, static_cast<uint32_t>(new_size));
  }
  b_[15] = flags | kRawFlag;
  return heap_ptr();
}

size_t Value::heap_bytes() const {
  if (is_string() && encoding() == StringEncoding::kHeap) return malloc_usable_size(heap_ptr());
  if (!is_string()) return ObjectHeapBytes(type(), object_encoding(), object());
  return 0;
}

}  // namespace shoal::storage
