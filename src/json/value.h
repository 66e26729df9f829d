// json::Value: a compact, mutable JSON document tree (the in-memory form of a JSON key).
//
// Every node is 16 bytes with a tagged payload:
//   null / true / false            tag only
//   integer (int64) / double       8-byte payload; kept distinct because JSON.TYPE reports
//                                  "integer" vs "number" as RedisJSON does
//   string                         up to 14 bytes inline, longer ones in one heap block
//   array                          pointer to one heap block {size, capacity, Value[]}
//   object                         pointer to one heap block {size, capacity, hash index,
//                                  Member[]}; members keep insertion order (as RedisJSON);
//                                  objects with more than kObjectIndexThreshold members get an
//                                  open-addressing hash index so key lookup is O(1)
// Values are move-only (a move is a 16-byte copy that leaves the source null); Clone() makes a
// deep copy. A Value is trivially relocatable, which arrays rely on (they grow with realloc).
//
// Not thread-safe: a document belongs to one shard and is touched by that shard's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace shoal::json {

enum class Type : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

// RedisJSON's JSON.TYPE names: "null", "boolean", "integer", "number", "string", "array",
// "object".
std::string_view TypeName(Type type);

struct Member;

class Value {
 public:
  // Objects with more members than this get a hash index; smaller ones are scanned (faster
  // than hashing for a handful of short keys, and no index memory).
  static constexpr uint32_t kObjectIndexThreshold = 16;
  // The longest string kept inside the 16-byte node.
  static constexpr size_t kInlineStringMax = 14;
  static constexpr size_t kMaxStringSize = UINT32_MAX;

  Value() { Reset(); }  // null
  explicit Value(bool b) { SetTag(b ? Tag::kTrue : Tag::kFalse); }
  explicit Value(int64_t i) {
    SetTag(Tag::kInt);
    std::memcpy(buf_, &i, 8);
  }
  explicit Value(double d) {
    SetTag(Tag::kDouble);
    std::memcpy(buf_, &d, 8);
  }
  // Other integer types go through int64 explicitly (avoids bool/int overload surprises).
  explicit Value(int i) : Value(static_cast<int64_t>(i)) {}
  explicit Value(std::string_view s) { InitString(s); }
  explicit Value(const char* s) : Value(std::string_view(s)) {}

  static Value Null() { return Value(); }
  static Value String(std::string_view s) { return Value(s); }
  // Empty containers; `capacity` reserves room for that many children up front.
  static Value Array(size_t capacity = 0);
  static Value Object(size_t capacity = 0);

  Value(Value&& other) noexcept {
    std::memcpy(static_cast<void*>(this), &other, sizeof(Value));
    other.Reset();
  }
  Value& operator=(Value&& other) noexcept {
    if (this != &other) {
      Destroy();
      std::memcpy(static_cast<void*>(this), &other, sizeof(Value));
      other.Reset();
    }
    return *this;
  }
  Value(const Value&) = delete;  // Deep copies are explicit: Clone().
  Value& operator=(const Value&) = delete;
  ~Value() { Destroy(); }

  Value Clone() const;

  // --- Type ---
  Type type() const;
  bool is_null() const { return tag() == Tag::kNull; }
  bool is_bool() const { return tag() == Tag::kTrue || tag() == Tag::kFalse; }
  bool is_int() const { return tag() == Tag::kInt; }
  bool is_double() const { return tag() == Tag::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return tag() == Tag::kInlineString || tag() == Tag::kHeapString; }
  bool is_array() const { return tag() == Tag::kArray; }
  bool is_object() const { return tag() == Tag::kObject; }
  bool is_container() const { return is_array() || is_object(); }

  // --- Scalars (the caller checks the type first; wrong-type access is a bug) ---
  bool as_bool() const { return tag() == Tag::kTrue; }
  int64_t as_int() const {
    int64_t i;
    std::memcpy(&i, buf_, 8);
    return i;
  }
  double as_double() const {
    double d;
    std::memcpy(&d, buf_, 8);
    return d;
  }
  // An integer or a double as a double (for arithmetic and comparisons).
  double number() const { return is_int() ? static_cast<double>(as_int()) : as_double(); }
  std::string_view as_string() const;

  // Appends to a string value in place (JSON.STRAPPEND). Strings hold at most kMaxStringSize
  // bytes (a 32-bit length): the caller refuses an append that would pass it.
  void AppendString(std::string_view tail);

  // --- Containers: arrays and objects ---
  // Children of an array, or members of an object; 0 for scalars.
  size_t size() const;
  bool empty() const { return size() == 0; }
  // Removes all children of an array or object (JSON.CLEAR); keeps the type.
  void ClearChildren();

  // --- Arrays ---
  std::span<Value> items();
  std::span<const Value> items() const;
  Value& operator[](size_t i) { return items()[i]; }
  const Value& operator[](size_t i) const { return items()[i]; }
  void Reserve(size_t capacity);  // arrays and objects
  void PushBack(Value v);
  // Inserts before position `pos` (0..size()).
  void Insert(size_t pos, Value v);
  // Removes and returns the element at `pos` (< size()).
  Value Erase(size_t pos);
  // Keeps only [start, stop) (clamped to size(); start >= stop empties it); JSON.ARRTRIM.
  void KeepRange(size_t start, size_t stop);

  // --- Objects ---
  std::span<Member> members();
  std::span<const Member> members() const;
  // The member value for `key`, or nullptr. O(1) for indexed objects, a scan for small ones.
  Value* Find(std::string_view key);
  const Value* Find(std::string_view key) const;
  // Position of `key` among members(), or -1.
  ptrdiff_t FindIndex(std::string_view key) const;
  // Sets `key` to `v`: replaces the value in place if the key exists (keeping its position),
  // else appends a new member. Returns the stored value.
  Value& Set(std::string_view key, Value v);
  // Appends a member without checking for an existing key (the parser uses it after its own
  // duplicate check; a duplicate here would break lookups).
  Value& AppendMember(std::string_view key, Value v);
  // Removes the member `key`; returns false if absent.
  bool EraseKey(std::string_view key);
  // Removes and returns the value of the member at position `pos` (< size()); later members
  // move up one position (insertion order is kept).
  Value EraseMember(size_t pos);

  // --- Whole-tree operations ---
  // Deep equality. Numbers compare by value across int/double (1 == 1.0), as RedisJSON's
  // filter equality and ARRINDEX do; object member order does not matter.
  bool Equals(const Value& other) const;
  // Bytes used by this subtree: sizeof(Value) for this node plus every heap block it owns
  // (strings, arrays, objects and their indexes, recursively), as requested from the allocator
  // (its size-class rounding not included). O(nodes): for JSON.DEBUG MEMORY.
  size_t MemoryUsage() const;
  // Bytes owned outside this node (MemoryUsage() - sizeof(Value)).
  size_t HeapUsage() const;

 private:
  enum class Tag : uint8_t {
    kNull,
    kFalse,
    kTrue,
    kInt,
    kDouble,
    kInlineString,
    kHeapString,
    kArray,
    kObject
  };
  friend struct ValueAccess;

  Tag tag() const { return tag_; }
  void SetTag(Tag t) {
    std::memset(buf_, 0, sizeof(buf_));
    aux_ = 0;
    tag_ = t;
  }
  void Reset() { SetTag(Tag::kNull); }
  void Destroy() {
    if (tag_ >= Tag::kHeapString) DestroySlow();
  }
  void DestroySlow();
  void InitString(std::string_view s);
  template <typename T>
  T* ptr() const {
    T* p;
    std::memcpy(&p, buf_, sizeof(p));
    return p;
  }
  void set_ptr(const void* p) { std::memcpy(buf_, &p, sizeof(p)); }
  uint32_t heap_len() const {
    uint32_t n;
    std::memcpy(&n, buf_ + 8, 4);
    return n;
  }
  void set_heap_len(uint32_t n) { std::memcpy(buf_ + 8, &n, 4); }

  // Bytes 0..7: number or pointer; 8..11: heap string length; 0..13: inline string bytes.
  alignas(8) char buf_[14];
  uint8_t aux_;  // Inline string length.
  Tag tag_;
};

static_assert(sizeof(Value) == 16, "json::Value must stay 16 bytes");

// Heap bytes held by all json::Values, kept as running counters as blocks are allocated and
// freed (no walk; the same figures HeapUsage() adds up). Counted per thread: the thread that
// allocates adds, the thread that frees subtracts, so a lazy-free thread that frees a
// document built by a shard goes negative and only the sum over threads is meaningful.
// ThreadHeapBytes() is this thread's counter (a shard can diff it around a write to get the
// write's memory delta); TotalHeapBytes() sums every thread, exited ones included (for INFO).
// A value may be destroyed on any thread (the counter of the destroying thread is used).
int64_t ThreadHeapBytes();
int64_t TotalHeapBytes();

// Container nesting of `v`: 0 for a scalar, 1 for [] or {}, 2 for [[]], ... Commands that put
// a value at a path check match depth + NestingDepth(value) against the parse limit, so no
// document grows deeper than a parsed one could be (deep trees would exhaust the stack of the
// recursive walks: serialize, clone, free).
int NestingDepth(const Value& v);

// One object member. The key is a string Value (short keys inline, no extra allocation).
struct Member {
  Value key;
  Value value;
  std::string_view name() const { return key.as_string(); }
};

}  // namespace shoal::json
