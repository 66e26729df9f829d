#include "storage/json_object.h"

#include "storage/json_memory.h"
#include "storage/objects.h"

namespace shoal::storage {

namespace {
int64_t Measure(const json::Value& root) {
  return static_cast<int64_t>(sizeof(JsonObject) + root.HeapUsage());
}
}  // namespace

Value MakeJson(json::Value root) {
  auto* obj = new JsonObject{std::move(root), 0, 0};
  obj->accounted = Measure(obj->root);
  AddJsonBytes(sizeof(JsonObject));
  return Value::Object(ValueType::kJson, ObjectEncoding::kJsonTree, obj);
}

void RecountJsonBytes(const Value& v) {
  JsonObject& obj = JsonOf(v);
  obj.accounted = Measure(obj.root);
  obj.churn = 0;
}

void AdjustJsonBytes(const Value& v, int64_t delta) {
  JsonObject& obj = JsonOf(v);
  obj.churn += delta < 0 ? -delta : delta;
  if (obj.churn * 4 > obj.accounted) return RecountJsonBytes(v);  // See the header.
  // Never below the object itself: a delta measured on a subtree cannot undercount the whole.
  int64_t floor = static_cast<int64_t>(sizeof(JsonObject));
  obj.accounted = obj.accounted + delta < floor ? floor : obj.accounted + delta;
}

void ReplaceJsonRoot(const Value& v, json::Value root) {
  JsonObject& obj = JsonOf(v);
  obj.root = std::move(root);
  obj.accounted = Measure(obj.root);
  obj.churn = 0;
}

void FreeJson(void* object) {
  auto* obj = static_cast<JsonObject*>(object);
  AddJsonBytes(-static_cast<int64_t>(sizeof(JsonObject)));
  delete obj;
}

void* CloneJson(const void* object) {
  const auto* src = static_cast<const JsonObject*>(object);
  auto* obj = new JsonObject{src->root.Clone(), src->accounted, src->churn};
  AddJsonBytes(sizeof(JsonObject));
  return obj;
}

size_t JsonHeapBytes(const void* object) {
  const auto* obj = static_cast<const JsonObject*>(object);
  return sizeof(JsonObject) + obj->root.HeapUsage();
}

}  // namespace shoal::storage
