#include "storage/hash_object.h"

#include <cstdlib>

#include "storage/encoding_limits.h"
#include "storage/objects.h"

namespace shoal::storage {

namespace {

size_t NodeBytes(size_t field_len, size_t value_len) {
  return sizeof(HashNode) + field_len + value_len;
}

void FreeTable(HashTable* t) {
  t->Clear([](HashNode* n) { free(n); });
  delete t;
}

int64_t MaxListpackValue() { return Limit(Limits().hash_max_listpack_value); }

}  // namespace

HashNode* HashNode::Make(std::string_view field, std::string_view value) {
  auto* n = static_cast<HashNode*>(malloc(NodeBytes(field.size(), value.size())));
  n->next = nullptr;
  n->field_len = static_cast<uint32_t>(field.size());
  n->value_len = static_cast<uint32_t>(value.size());
  memcpy(n->bytes(), field.data(), field.size());
  if (!value.empty()) memcpy(n->bytes() + field.size(), value.data(), value.size());
  return n;
}

Value Hash::New() { return Value::Object(ValueType::kHash, ObjectEncoding::kListpack, lp::New()); }

size_t Hash::size() const {
  if (is_listpack()) return lp::Length(listpack()) / 2;
  return table()->size();
}

std::optional<HashItem> Hash::Get(std::string_view field) {
  if (is_listpack()) {
    uint8_t* lp = listpack();
    uint8_t* p = lp::First(lp);
    if (p == nullptr) return std::nullopt;
    p = lp::Find(lp, p, field, 1);
    if (p == nullptr) return std::nullopt;
    return lp::Get(lp::Next(lp, p));
  }
  HashNode* n = table()->Find(field);
  if (n == nullptr) return std::nullopt;
  return HashItem{n->value()};
}

void Hash::PrepareWrite(std::span<const std::string_view> args) {
  if (!is_listpack()) return;
  const size_t max_value = static_cast<size_t>(MaxListpackValue());
  size_t sum = 0;
  for (std::string_view a : args) {
    if (a.size() > max_value) return ConvertToHashtable();
    sum += a.size();
  }
  if (!lp::SafeToAdd(listpack(), sum)) ConvertToHashtable();
}

bool Hash::Set(std::string_view field, std::string_view value) {
  if (is_listpack()) {
    const size_t max_value = static_cast<size_t>(MaxListpackValue());
    if (field.size() > max_value || value.size() > max_value) ConvertToHashtable();
  }
  if (is_listpack()) {
    uint8_t* lp = listpack();
    uint8_t* p = lp::First(lp);
    if (p != nullptr) p = lp::Find(lp, p, field, 1);
    const bool added = p == nullptr;
    if (added) {
      lp = lp::Append(lp, field);
      lp = lp::Append(lp, value);
    } else {
      uint8_t* vp = lp::Next(lp, p);
      lp = lp::Replace(lp, &vp, value);
    }
    v_->set_object(ObjectEncoding::kListpack, lp);
    if (size() > static_cast<size_t>(Limit(Limits().hash_max_listpack_entries))) {
      ConvertToHashtable();
    }
    return added;
  }
  HashTable* t = table();
  HashNode* n = t->Find(field);
  if (n == nullptr) {
    t->Insert(HashNode::Make(field, value));
    return true;
  }
  if (n->value_len == value.size()) {
    if (!value.empty()) memcpy(n->bytes() + n->field_len, value.data(), value.size());
    return false;
  }
  // A value of another size needs another node: link the new one in place of the old.
  HashNode* replacement = HashNode::Make(field, value);
  t->Remove(field);
  free(n);
  t->Insert(replacement);
  return false;
}

bool Hash::Delete(std::string_view field) {
  if (is_listpack()) {
    uint8_t* lp = listpack();
    uint8_t* p = lp::First(lp);
    if (p != nullptr) p = lp::Find(lp, p, field, 1);
    if (p == nullptr) return false;
    v_->set_object(ObjectEncoding::kListpack, lp::DeleteRange(lp, &p, 2));
    return true;
  }
  HashNode* n = table()->Remove(field);
  if (n == nullptr) return false;
  free(n);
  return true;
}

std::vector<std::pair<HashItem, HashItem>> Hash::Pairs() {
  std::vector<std::pair<HashItem, HashItem>> out;
  out.reserve(size());
  ForEach([&](const HashItem& f, const HashItem& v) { out.emplace_back(f, v); });
  return out;
}

void Hash::ConvertToHashtable() {
  if (!is_listpack()) return;
  uint8_t* lp = listpack();
  auto* t = new HashTable();
  std::string fs, vs;
  for (uint8_t* p = lp::First(lp); p != nullptr;) {
    uint8_t* vp = lp::Next(lp, p);
    t->Insert(HashNode::Make(lp::Get(p).View(&fs), lp::Get(vp).View(&vs)));
    p = lp::Next(lp, vp);
  }
  lp::Free(lp);
  v_->set_object(ObjectEncoding::kHashtable, t);
}

// The Value hooks (objects.h).

void FreeHash(ObjectEncoding enc, void* object) {
  if (enc == ObjectEncoding::kListpack) return lp::Free(static_cast<uint8_t*>(object));
  FreeTable(static_cast<HashTable*>(object));
}

void* CloneHash(ObjectEncoding enc, const void* object) {
  if (enc == ObjectEncoding::kListpack) return lp::Clone(static_cast<const uint8_t*>(object));
  // Scan is logically const: it neither moves nor rehashes nodes.
  auto* src = const_cast<HashTable*>(static_cast<const HashTable*>(object));
  auto* t = new HashTable();
  uint64_t cursor = 0;
  do {
    cursor =
        src->Scan(cursor, [&](HashNode* n) { t->Insert(HashNode::Make(n->field(), n->value())); });
  } while (cursor != 0);
  return t;
}

// Walks every node of a hashtable: O(n), for memory estimates only.
size_t HashHeapBytes(ObjectEncoding enc, const void* object) {
  if (enc == ObjectEncoding::kListpack) return lp::Bytes(static_cast<const uint8_t*>(object));
  auto* t = const_cast<HashTable*>(static_cast<const HashTable*>(object));
  size_t bytes = sizeof(HashTable) + t->overhead_bytes();
  uint64_t cursor = 0;
  do {
    cursor = t->Scan(cursor, [&](HashNode* n) { bytes += NodeBytes(n->field_len, n->value_len); });
  } while (cursor != 0);
  return bytes;
}

}  // namespace shoal::storage
