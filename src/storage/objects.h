// The hooks through which Value frees, copies and measures a collection object without knowing
// its layout. Each type's module defines its three (list_object.cc, hash_object.cc,
// set_object.cc, zset_object.cc); objects.cc routes by type.
#pragma once

#include <cstddef>

#include "storage/value.h"

namespace shoal::storage {

void FreeObject(ValueType t, ObjectEncoding enc, void* object);
void* CloneObject(ValueType t, ObjectEncoding enc, const void* object);
size_t ObjectHeapBytes(ValueType t, ObjectEncoding enc, const void* object);

void FreeList(ObjectEncoding enc, void* object);
void* CloneList(ObjectEncoding enc, const void* object);
size_t ListHeapBytes(ObjectEncoding enc, const void* object);

void FreeHash(ObjectEncoding enc, void* object);
void* CloneHash(ObjectEncoding enc, const void* object);
size_t HashHeapBytes(ObjectEncoding enc, const void* object);

void FreeSet(ObjectEncoding enc, void* object);
void* CloneSet(ObjectEncoding enc, const void* object);
size_t SetHeapBytes(ObjectEncoding enc, const void* object);

void FreeZSet(ObjectEncoding enc, void* object);
void* CloneZSet(ObjectEncoding enc, const void* object);
size_t ZSetHeapBytes(ObjectEncoding enc, const void* object);

// JSON documents (json_object.cc): the object is a json::Document.
void FreeJson(void* object);
void* CloneJson(const void* object);
size_t JsonHeapBytes(const void* object);

}  // namespace shoal::storage
