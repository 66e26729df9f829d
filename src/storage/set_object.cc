#include "storage/set_object.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/strings.h"
#include "storage/encoding_limits.h"
#include "storage/objects.h"

namespace shoal::storage {
namespace {

// Redis caps set-max-intset-entries at 2^30 (intset internals).
size_t MaxIntsetEntries() {
  int64_t v = Limit(Limits().set_max_intset_entries);
  if (v < 0) v = 0;
  return std::min<size_t>(static_cast<size_t>(v), size_t{1} << 30);
}

// A freshly grown table of a small set finishes its rehash at once (a few dozen buckets): sets
// of a handful of members would otherwise keep both bucket arrays until their next change.
constexpr size_t kEagerRehashBuckets = 192;

std::optional<int64_t> AsInt(std::string_view s) {
  if (s.size() > kMaxInt64Chars) return std::nullopt;
  return ParseInt64(s);
}

uint8_t* IntsetOf(const Value& v) { return static_cast<uint8_t*>(v.object()); }
SetTable* TableOf(const Value& v) { return static_cast<SetTable*>(v.object()); }
bool IsIntset(const Value& v) { return v.object_encoding() == ObjectEncoding::kIntset; }

// REQUIRES: `member` is absent.
void TableInsert(SetTable* t, std::string_view member) {
  t->Insert(SetNode::Make(member));
  if (t->rehashing() && t->bucket_count() <= kEagerRehashBuckets) t->Rehash(kEagerRehashBuckets);
}

bool TableAdd(SetTable* t, std::string_view member) {
  if (t->Find(member) != nullptr) return false;
  TableInsert(t, member);
  return true;
}

bool TableRemove(SetTable* t, std::string_view member) {
  SetNode* n = t->Remove(member);
  if (n == nullptr) return false;
  SetNode::Destroy(n);
  return true;
}

SetTable* CloneTable(SetTable* from) {
  auto* out = new SetTable();
  uint64_t cursor = 0;
  do {
    cursor = from->Scan(cursor, [&](SetNode* n) { out->Insert(SetNode::Make(n->view())); });
  } while (cursor != 0);
  while (out->Rehash(1024)) {
  }
  return out;
}

void FreeTable(SetTable* t) {
  t->Clear([](SetNode* n) { SetNode::Destroy(n); });
  delete t;
}

}  // namespace

SetNode* SetNode::Make(std::string_view member) {
  size_t bytes = std::max(sizeof(SetNode), kDataOffset + member.size());
  auto* n = static_cast<SetNode*>(malloc(bytes));
  n->next = nullptr;
  n->len = static_cast<uint32_t>(member.size());
  memcpy(reinterpret_cast<char*>(n) + kDataOffset, member.data(), member.size());
  return n;
}

void SetNode::Destroy(SetNode* n) { free(n); }

size_t SetNode::alloc_size() const { return std::max(sizeof(SetNode), kDataOffset + len); }

Value NewSetFor(std::string_view first) {
  if (AsInt(first)) return NewIntsetSet();
  return Value::Object(ValueType::kSet, ObjectEncoding::kHashtable, new SetTable());
}

Value NewIntsetSet() {
  return Value::Object(ValueType::kSet, ObjectEncoding::kIntset, intset::New());
}

size_t SetSize(const Value& set) {
  return IsIntset(set) ? intset::Size(IntsetOf(set)) : TableOf(set)->size();
}

void SetConvertToHashtable(Value& set) {
  uint8_t* is = IntsetOf(set);
  auto* t = new SetTable();
  char buf[24];
  for (uint32_t i = 0, n = intset::Size(is); i < n; ++i) {
    t->Insert(SetNode::Make(SetMember::Int(intset::Get(is, i)).View(buf)));
  }
  while (t->Rehash(1024)) {
  }
  intset::Free(is);
  set.set_object(ObjectEncoding::kHashtable, t);
}

namespace {

// Adds an integer member to an intset-encoded set, converting past the size limit.
bool IntsetAdd(Value& set, int64_t v) {
  bool added = false;
  set.set_object(ObjectEncoding::kIntset, intset::Add(IntsetOf(set), v, &added));
  if (added && intset::Size(IntsetOf(set)) > MaxIntsetEntries()) SetConvertToHashtable(set);
  return added;
}

}  // namespace

bool SetAdd(Value& set, std::string_view member) {
  if (IsIntset(set)) {
    if (std::optional<int64_t> v = AsInt(member)) return IntsetAdd(set, *v);
    SetConvertToHashtable(set);
    TableInsert(TableOf(set), member);  // Not an integer: certainly absent.
    return true;
  }
  return TableAdd(TableOf(set), member);
}

bool SetAdd(Value& set, const SetMember& member) {
  if (member.is_int() && IsIntset(set)) return IntsetAdd(set, member.int_value());
  char buf[24];
  return SetAdd(set, member.View(buf));
}

bool SetRemove(Value& set, std::string_view member) {
  if (IsIntset(set)) {
    std::optional<int64_t> v = AsInt(member);
    if (!v) return false;
    bool removed = false;
    set.set_object(ObjectEncoding::kIntset, intset::Remove(IntsetOf(set), *v, &removed));
    return removed;
  }
  return TableRemove(TableOf(set), member);
}

bool SetRemove(Value& set, const SetMember& member) {
  char buf[24];
  return SetRemove(set, member.View(buf));
}

bool SetContains(const Value& set, std::string_view member) {
  if (IsIntset(set)) {
    std::optional<int64_t> v = AsInt(member);
    return v && intset::Contains(IntsetOf(set), *v);
  }
  return TableOf(set)->Find(member) != nullptr;
}

bool SetContains(const Value& set, const SetMember& member) {
  if (member.is_int() && IsIntset(set)) return intset::Contains(IntsetOf(set), member.int_value());
  char buf[24];
  return SetContains(set, member.View(buf));
}

// ---- The hooks Value uses (objects.h) ----

void FreeSet(ObjectEncoding enc, void* object) {
  if (enc == ObjectEncoding::kIntset) return intset::Free(static_cast<uint8_t*>(object));
  FreeTable(static_cast<SetTable*>(object));
}

void* CloneSet(ObjectEncoding enc, const void* object) {
  if (enc == ObjectEncoding::kIntset) return intset::Clone(static_cast<const uint8_t*>(object));
  // Scan does not change the table; it is just not declared const.
  return CloneTable(static_cast<SetTable*>(const_cast<void*>(object)));
}

size_t SetHeapBytes(ObjectEncoding enc, const void* object) {
  if (enc == ObjectEncoding::kIntset) return intset::Bytes(static_cast<const uint8_t*>(object));
  auto* t = static_cast<SetTable*>(const_cast<void*>(object));
  // Estimated from the nodes of the first few buckets, as MEMORY USAGE samples: exact would
  // walk millions of members.
  size_t sampled = 0, sampled_bytes = 0;
  uint64_t cursor = 0;
  do {
    cursor = t->Scan(cursor, [&](SetNode* n) {
      ++sampled;
      sampled_bytes += n->alloc_size();
    });
  } while (cursor != 0 && sampled < 32);
  size_t nodes = sampled == 0 ? 0 : sampled_bytes * t->size() / sampled;
  return sizeof(SetTable) + t->overhead_bytes() + nodes;
}

}  // namespace shoal::storage
