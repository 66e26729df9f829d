#include "storage/objects.h"

namespace shoal::storage {

void FreeObject(ValueType t, ObjectEncoding enc, void* object) {
  switch (t) {
    case ValueType::kList: return FreeList(enc, object);
    case ValueType::kHash: return FreeHash(enc, object);
    case ValueType::kSet: return FreeSet(enc, object);
    case ValueType::kZSet: return FreeZSet(enc, object);
    case ValueType::kJson: return FreeJson(object);
    case ValueType::kString:
    case ValueType::kStream: return;
  }
}

void* CloneObject(ValueType t, ObjectEncoding enc, const void* object) {
  switch (t) {
    case ValueType::kList: return CloneList(enc, object);
    case ValueType::kHash: return CloneHash(enc, object);
    case ValueType::kSet: return CloneSet(enc, object);
    case ValueType::kZSet: return CloneZSet(enc, object);
    case ValueType::kJson: return CloneJson(object);
    case ValueType::kString:
    case ValueType::kStream: return nullptr;
  }
  return nullptr;
}

size_t ObjectHeapBytes(ValueType t, ObjectEncoding enc, const void* object) {
  switch (t) {
    case ValueType::kList: return ListHeapBytes(enc, object);
    case ValueType::kHash: return HashHeapBytes(enc, object);
    case ValueType::kSet: return SetHeapBytes(enc, object);
    case ValueType::kZSet: return ZSetHeapBytes(enc, object);
    case ValueType::kJson: return JsonHeapBytes(object);
    case ValueType::kString:
    case ValueType::kStream: return 0;
  }
  return 0;
}

}  // namespace shoal::storage
