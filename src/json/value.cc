#include "json/value.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "common/hash.h"

namespace shoal::json {

// Heap blocks. Both start with {size, capacity}; children follow the header. Values are
// trivially relocatable, so growing is a realloc.
struct ArrayRep {
  uint32_t size;
  uint32_t cap;
  Value* data() { return reinterpret_cast<Value*>(this + 1); }
};
static_assert(sizeof(ArrayRep) == 8);

struct ObjectRep {
  uint32_t size;
  uint32_t cap;
  // Open-addressing table of member positions + 1 (0 = empty slot); nullptr while small.
  // index_cap is a power of two, at least twice the member capacity (load <= 1/2).
  uint32_t* index;
  uint32_t index_cap;
  uint32_t pad;
  Member* data() { return reinterpret_cast<Member*>(this + 1); }
};
static_assert(sizeof(ObjectRep) % 8 == 0);

namespace {

// ---- Heap byte counting (see value.h): one counter per thread, summed on demand ----

struct ThreadCounter;

struct CounterRegistry {
  std::mutex mu;
  std::vector<ThreadCounter*> live;
  std::atomic<int64_t> retired{0};  // counts of exited threads
};

CounterRegistry& Registry() {
  static CounterRegistry* r = new CounterRegistry();  // Never destroyed: threads may outlive
  return *r;                                          // static destruction.
}

struct ThreadCounter {
  // Written by its thread only (plain load + store, no locked instruction); read by
  // TotalHeapBytes() from any thread.
  std::atomic<int64_t> bytes{0};
  ThreadCounter() {
    CounterRegistry& r = Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.live.push_back(this);
  }
  ~ThreadCounter() {
    CounterRegistry& r = Registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.live.erase(std::find(r.live.begin(), r.live.end(), this));
    r.retired.fetch_add(bytes.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
};

thread_local ThreadCounter t_counter;

inline void Count(int64_t delta) {
  std::atomic<int64_t>& b = t_counter.bytes;
  b.store(b.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

void* Allocate(size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) throw std::bad_alloc();  // Out of memory is fatal, as everywhere in shoal.
  Count(static_cast<int64_t>(bytes));
  return p;
}
void* Reallocate(void* p, size_t old_bytes, size_t bytes) {
  void* q = std::realloc(p, bytes);
  if (q == nullptr) throw std::bad_alloc();
  Count(static_cast<int64_t>(bytes) - static_cast<int64_t>(old_bytes));
  return q;
}
void Free(void* p, size_t bytes) {
  if (p == nullptr) return;
  std::free(p);
  Count(-static_cast<int64_t>(bytes));
}

size_t ArrayBytes(size_t cap) { return sizeof(ArrayRep) + cap * sizeof(Value); }
size_t ObjectBytes(size_t cap) { return sizeof(ObjectRep) + cap * sizeof(Member); }

size_t GrowCapacity(size_t cap, size_t need) {
  size_t next = cap < 4 ? 4 : cap + cap / 2;
  return next < need ? need : next;
}

uint32_t IndexCapFor(uint32_t members_cap) {
  uint32_t c = 16;
  while (c < members_cap * 2) c <<= 1;
  return c;
}

ArrayRep* NewArrayRep(size_t cap) {
  auto* rep = static_cast<ArrayRep*>(Allocate(ArrayBytes(cap)));
  rep->size = 0;
  rep->cap = static_cast<uint32_t>(cap);
  return rep;
}

ObjectRep* NewObjectRep(size_t cap) {
  auto* rep = static_cast<ObjectRep*>(Allocate(ObjectBytes(cap)));
  rep->size = 0;
  rep->cap = static_cast<uint32_t>(cap);
  rep->index = nullptr;
  rep->index_cap = 0;
  rep->pad = 0;
  return rep;
}

// Rebuilds the hash index of `rep` from its members (after growth or an erase), creating it
// once the object passes the threshold and dropping it below.
void RebuildIndex(ObjectRep* rep) {
  if (rep->size <= Value::kObjectIndexThreshold) {
    Free(rep->index, rep->index_cap * sizeof(uint32_t));
    rep->index = nullptr;
    rep->index_cap = 0;
    return;
  }
  uint32_t want = IndexCapFor(rep->cap);
  if (rep->index == nullptr || rep->index_cap < want) {
    Free(rep->index, rep->index_cap * sizeof(uint32_t));
    rep->index = static_cast<uint32_t*>(Allocate(want * sizeof(uint32_t)));
    rep->index_cap = want;
  }
  std::memset(rep->index, 0, rep->index_cap * sizeof(uint32_t));
  uint32_t mask = rep->index_cap - 1;
  Member* m = rep->data();
  for (uint32_t i = 0; i < rep->size; ++i) {
    uint32_t slot = static_cast<uint32_t>(HashKey(m[i].name())) & mask;
    while (rep->index[slot] != 0) slot = (slot + 1) & mask;
    rep->index[slot] = i + 1;
  }
}

void IndexInsert(ObjectRep* rep, uint32_t pos) {
  uint32_t mask = rep->index_cap - 1;
  uint32_t slot = static_cast<uint32_t>(HashKey(rep->data()[pos].name())) & mask;
  while (rep->index[slot] != 0) slot = (slot + 1) & mask;
  rep->index[slot] = pos + 1;
}

ptrdiff_t ObjectFind(ObjectRep* rep, std::string_view key) {
  Member* m = rep->data();
  if (rep->index == nullptr) {
    for (uint32_t i = 0; i < rep->size; ++i) {
      if (m[i].name() == key) return i;
    }
    return -1;
  }
  uint32_t mask = rep->index_cap - 1;
  uint32_t slot = static_cast<uint32_t>(HashKey(key)) & mask;
  while (uint32_t e = rep->index[slot]) {
    if (m[e - 1].name() == key) return e - 1;
    slot = (slot + 1) & mask;
  }
  return -1;
}

}  // namespace

struct ValueAccess {
  static ArrayRep* arr(const Value& v) { return v.ptr<ArrayRep>(); }
  static ObjectRep* obj(const Value& v) { return v.ptr<ObjectRep>(); }
  static void set_arr(Value& v, ArrayRep* rep) { v.set_ptr(rep); }
  static void set_obj(Value& v, ObjectRep* rep) { v.set_ptr(rep); }
};

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kInt:
      return "integer";
    case Type::kDouble:
      return "number";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
  }
  return "null";
}

Value Value::Array(size_t capacity) {
  Value v;
  v.SetTag(Tag::kArray);
  v.set_ptr(NewArrayRep(capacity));
  return v;
}

Value Value::Object(size_t capacity) {
  Value v;
  v.SetTag(Tag::kObject);
  v.set_ptr(NewObjectRep(capacity));
  return v;
}

void Value::InitString(std::string_view s) {
  if (s.size() <= kInlineStringMax) {
    SetTag(Tag::kInlineString);
    if (!s.empty()) std::memcpy(buf_, s.data(), s.size());
    aux_ = static_cast<uint8_t>(s.size());
    return;
  }
  SetTag(Tag::kHeapString);
  char* p = static_cast<char*>(Allocate(s.size()));
  std::memcpy(p, s.data(), s.size());
  set_ptr(p);
  set_heap_len(static_cast<uint32_t>(s.size()));
}

void Value::DestroySlow() {
  switch (tag_) {
    case Tag::kHeapString:
      Free(ptr<char>(), heap_len());
      break;
    case Tag::kArray: {
      ArrayRep* rep = ptr<ArrayRep>();
      Value* d = rep->data();
      for (uint32_t i = 0; i < rep->size; ++i) d[i].~Value();
      Free(rep, ArrayBytes(rep->cap));
      break;
    }
    case Tag::kObject: {
      ObjectRep* rep = ptr<ObjectRep>();
      Member* d = rep->data();
      for (uint32_t i = 0; i < rep->size; ++i) d[i].~Member();
      Free(rep->index, rep->index_cap * sizeof(uint32_t));
      Free(rep, ObjectBytes(rep->cap));
      break;
    }
    default:
      break;
  }
  Reset();
}

Type Value::type() const {
  switch (tag_) {
    case Tag::kNull:
      return Type::kNull;
    case Tag::kFalse:
    case Tag::kTrue:
      return Type::kBool;
    case Tag::kInt:
      return Type::kInt;
    case Tag::kDouble:
      return Type::kDouble;
    case Tag::kInlineString:
    case Tag::kHeapString:
      return Type::kString;
    case Tag::kArray:
      return Type::kArray;
    case Tag::kObject:
      return Type::kObject;
  }
  return Type::kNull;
}

std::string_view Value::as_string() const {
  if (tag_ == Tag::kInlineString) return std::string_view(buf_, aux_);
  return std::string_view(ptr<char>(), heap_len());
}

void Value::AppendString(std::string_view tail) {
  if (tail.empty()) return;
  std::string_view cur = as_string();
  size_t n = cur.size() + tail.size();
  if (n <= kInlineStringMax) {
    std::memcpy(buf_ + cur.size(), tail.data(), tail.size());
    aux_ = static_cast<uint8_t>(n);
    return;
  }
  if (tag_ == Tag::kInlineString) {
    char* p = static_cast<char*>(Allocate(n));
    std::memcpy(p, buf_, cur.size());
    std::memcpy(p + cur.size(), tail.data(), tail.size());
    SetTag(Tag::kHeapString);
    set_ptr(p);
    set_heap_len(static_cast<uint32_t>(n));
    return;
  }
  // tail may point into this string (STRAPPEND of itself is not possible through the API, but
  // stay safe): copy it before realloc moves the block.
  std::string_view src = tail;
  std::string tmp;
  if (tail.data() >= cur.data() && tail.data() < cur.data() + cur.size()) {
    tmp.assign(tail);
    src = tmp;
  }
  char* p = static_cast<char*>(Reallocate(ptr<char>(), cur.size(), n));
  std::memcpy(p + cur.size(), src.data(), src.size());
  set_ptr(p);
  set_heap_len(static_cast<uint32_t>(n));
}

size_t Value::size() const {
  if (tag_ == Tag::kArray) return ptr<ArrayRep>()->size;
  if (tag_ == Tag::kObject) return ptr<ObjectRep>()->size;
  return 0;
}

void Value::ClearChildren() {
  if (tag_ == Tag::kArray) {
    ArrayRep* rep = ptr<ArrayRep>();
    for (uint32_t i = 0; i < rep->size; ++i) rep->data()[i].~Value();
    rep->size = 0;
  } else if (tag_ == Tag::kObject) {
    ObjectRep* rep = ptr<ObjectRep>();
    for (uint32_t i = 0; i < rep->size; ++i) rep->data()[i].~Member();
    rep->size = 0;
    RebuildIndex(rep);
  }
}

std::span<Value> Value::items() {
  if (tag_ != Tag::kArray) return {};
  ArrayRep* rep = ptr<ArrayRep>();
  return {rep->data(), rep->size};
}

std::span<const Value> Value::items() const {
  if (tag_ != Tag::kArray) return {};
  ArrayRep* rep = ptr<ArrayRep>();
  return {rep->data(), rep->size};
}

void Value::Reserve(size_t capacity) {
  if (tag_ == Tag::kArray) {
    ArrayRep* rep = ptr<ArrayRep>();
    if (capacity <= rep->cap) return;
    rep = static_cast<ArrayRep*>(Reallocate(rep, ArrayBytes(rep->cap), ArrayBytes(capacity)));
    rep->cap = static_cast<uint32_t>(capacity);
    set_ptr(rep);
  } else if (tag_ == Tag::kObject) {
    ObjectRep* rep = ptr<ObjectRep>();
    if (capacity <= rep->cap) return;
    rep = static_cast<ObjectRep*>(Reallocate(rep, ObjectBytes(rep->cap), ObjectBytes(capacity)));
    rep->cap = static_cast<uint32_t>(capacity);
    set_ptr(rep);
    if (rep->index != nullptr) RebuildIndex(rep);
  }
}

void Value::PushBack(Value v) {
  ArrayRep* rep = ptr<ArrayRep>();
  if (rep->size == rep->cap) {
    Reserve(GrowCapacity(rep->cap, rep->size + 1));
    rep = ptr<ArrayRep>();
  }
  std::memcpy(static_cast<void*>(rep->data() + rep->size), &v, sizeof(Value));
  v.Reset();
  ++rep->size;
}

void Value::Insert(size_t pos, Value v) {
  ArrayRep* rep = ptr<ArrayRep>();
  if (rep->size == rep->cap) {
    Reserve(GrowCapacity(rep->cap, rep->size + 1));
    rep = ptr<ArrayRep>();
  }
  Value* d = rep->data();
  std::memmove(static_cast<void*>(d + pos + 1), d + pos, (rep->size - pos) * sizeof(Value));
  std::memcpy(static_cast<void*>(d + pos), &v, sizeof(Value));
  v.Reset();
  ++rep->size;
}

Value Value::Erase(size_t pos) {
  ArrayRep* rep = ptr<ArrayRep>();
  Value* d = rep->data();
  Value out(std::move(d[pos]));
  d[pos].~Value();  // A moved-from null: nothing to free, ends its lifetime before the shift.
  std::memmove(static_cast<void*>(d + pos), d + pos + 1, (rep->size - pos - 1) * sizeof(Value));
  --rep->size;
  return out;
}

void Value::KeepRange(size_t start, size_t stop) {
  ArrayRep* rep = ptr<ArrayRep>();
  Value* d = rep->data();
  if (stop > rep->size) stop = rep->size;
  if (start > stop) start = stop;  // an empty range: everything goes (each element once)
  for (size_t i = 0; i < start; ++i) d[i].~Value();
  for (size_t i = stop; i < rep->size; ++i) d[i].~Value();
  if (start > 0 && stop > start) {
    std::memmove(static_cast<void*>(d), d + start, (stop - start) * sizeof(Value));
  }
  rep->size = static_cast<uint32_t>(stop > start ? stop - start : 0);
}

std::span<Member> Value::members() {
  if (tag_ != Tag::kObject) return {};
  ObjectRep* rep = ptr<ObjectRep>();
  return {rep->data(), rep->size};
}

std::span<const Member> Value::members() const {
  if (tag_ != Tag::kObject) return {};
  ObjectRep* rep = ptr<ObjectRep>();
  return {rep->data(), rep->size};
}

ptrdiff_t Value::FindIndex(std::string_view key) const {
  if (tag_ != Tag::kObject) return -1;
  return ObjectFind(ptr<ObjectRep>(), key);
}

Value* Value::Find(std::string_view key) {
  ptrdiff_t i = FindIndex(key);
  return i < 0 ? nullptr : &ptr<ObjectRep>()->data()[i].value;
}

const Value* Value::Find(std::string_view key) const {
  ptrdiff_t i = FindIndex(key);
  return i < 0 ? nullptr : &ptr<ObjectRep>()->data()[i].value;
}

Value& Value::Set(std::string_view key, Value v) {
  ptrdiff_t i = FindIndex(key);
  if (i >= 0) {
    Value& slot = ptr<ObjectRep>()->data()[i].value;
    slot = std::move(v);
    return slot;
  }
  return AppendMember(key, std::move(v));
}

Value& Value::AppendMember(std::string_view key, Value v) {
  ObjectRep* rep = ptr<ObjectRep>();
  if (rep->size == rep->cap) {
    Reserve(GrowCapacity(rep->cap, rep->size + 1));
    rep = ptr<ObjectRep>();
  }
  Member* m = new (rep->data() + rep->size) Member{Value(key), std::move(v)};
  uint32_t pos = rep->size++;
  if (rep->index != nullptr) {
    IndexInsert(rep, pos);
  } else if (rep->size > kObjectIndexThreshold) {
    RebuildIndex(rep);
  }
  return m->value;
}

Value Value::EraseMember(size_t pos) {
  ObjectRep* rep = ptr<ObjectRep>();
  Member* d = rep->data();
  Value out(std::move(d[pos].value));
  d[pos].~Member();
  std::memmove(static_cast<void*>(d + pos), d + pos + 1, (rep->size - pos - 1) * sizeof(Member));
  --rep->size;
  // Positions after `pos` shifted: the index stores positions, so it is rebuilt (O(n), like
  // the shift itself).
  if (rep->index != nullptr) RebuildIndex(rep);
  return out;
}

bool Value::EraseKey(std::string_view key) {
  ptrdiff_t i = FindIndex(key);
  if (i < 0) return false;
  EraseMember(static_cast<size_t>(i));
  return true;
}

Value Value::Clone() const {
  switch (tag_) {
    case Tag::kHeapString:
      return Value(as_string());
    case Tag::kArray: {
      ArrayRep* src = ptr<ArrayRep>();
      Value v = Array(src->size);
      ArrayRep* dst = ValueAccess::arr(v);
      for (uint32_t i = 0; i < src->size; ++i) {
        new (dst->data() + i) Value(src->data()[i].Clone());
      }
      dst->size = src->size;
      return v;
    }
    case Tag::kObject: {
      ObjectRep* src = ptr<ObjectRep>();
      Value v = Object(src->size);
      ObjectRep* dst = ValueAccess::obj(v);
      for (uint32_t i = 0; i < src->size; ++i) {
        new (dst->data() + i) Member{src->data()[i].key.Clone(), src->data()[i].value.Clone()};
      }
      dst->size = src->size;
      RebuildIndex(dst);
      return v;
    }
    default: {
      Value v;
      std::memcpy(static_cast<void*>(&v), this, sizeof(Value));  // Scalars own nothing.
      return v;
    }
  }
}

bool Value::Equals(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (is_int() && other.is_int()) return as_int() == other.as_int();
    return number() == other.number();
  }
  if (type() != other.type()) return false;
  switch (type()) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return as_bool() == other.as_bool();
    case Type::kString:
      return as_string() == other.as_string();
    case Type::kArray: {
      auto a = items();
      auto b = other.items();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].Equals(b[i])) return false;
      }
      return true;
    }
    case Type::kObject: {
      if (size() != other.size()) return false;
      for (const Member& m : members()) {
        const Value* o = other.Find(m.name());
        if (o == nullptr || !m.value.Equals(*o)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

size_t Value::HeapUsage() const {
  // The bytes requested from the allocator, the same figure the heap counters add up.
  switch (tag_) {
    case Tag::kHeapString:
      return heap_len();
    case Tag::kArray: {
      ArrayRep* rep = ptr<ArrayRep>();
      size_t n = ArrayBytes(rep->cap);
      for (uint32_t i = 0; i < rep->size; ++i) n += rep->data()[i].HeapUsage();
      return n;
    }
    case Tag::kObject: {
      ObjectRep* rep = ptr<ObjectRep>();
      size_t n = ObjectBytes(rep->cap) + static_cast<size_t>(rep->index_cap) * sizeof(uint32_t);
      for (uint32_t i = 0; i < rep->size; ++i) {
        n += rep->data()[i].key.HeapUsage() + rep->data()[i].value.HeapUsage();
      }
      return n;
    }
    default:
      return 0;
  }
}

int64_t ThreadHeapBytes() { return t_counter.bytes.load(std::memory_order_relaxed); }

int64_t TotalHeapBytes() {
  CounterRegistry& r = Registry();
  std::lock_guard<std::mutex> lock(r.mu);
  int64_t total = r.retired.load(std::memory_order_relaxed);
  for (ThreadCounter* c : r.live) total += c->bytes.load(std::memory_order_relaxed);
  return total;
}

int NestingDepth(const Value& v) {
  int deepest = 0;
  for (const Value& c : v.items()) deepest = std::max(deepest, NestingDepth(c));
  for (const Member& m : v.members()) deepest = std::max(deepest, NestingDepth(m.value));
  return v.is_container() ? deepest + 1 : 0;
}

size_t Value::MemoryUsage() const { return sizeof(Value) + HeapUsage(); }

}  // namespace shoal::json
