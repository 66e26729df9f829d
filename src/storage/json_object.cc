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
  AddJsonBytes(obj->accounted);
  return Value::Object(ValueType::kJson, ObjectEncoding::kJsonTree, obj);
}

void RecountJsonBytes(const Value& v) {
  JsonObject& obj = JsonOf(v);
  int64_t now = Measure(obj.root);
  AddJsonBytes(now - obj.accounted);
  obj.accounted = now;
  obj.churn = 0;
}

void AdjustJsonBytes(const Value& v, int64_t delta) {
  JsonObject& obj = JsonOf(v);
  obj.churn += delta < 0 ? -delta : delta;
  if (obj.churn * 4 > obj.accounted) return RecountJsonBytes(v);  // See the header.
  // Never below the object itself: a delta measured on a subtree cannot undercount the whole.
  int64_t floor = static_cast<int64_t>(sizeof(JsonObject));
  int64_t next = obj.accounted + delta < floor ? floor : obj.accounted + delta;
  AddJsonBytes(next - obj.accounted);
  obj.accounted = next;
}

void ReplaceJsonRoot(const Value& v, json::Value root) {
  JsonObject& obj = JsonOf(v);
  obj.root = std::move(root);
  int64_t now = Measure(obj.root);
  AddJsonBytes(now - obj.accounted);
  obj.accounted = now;
  obj.churn = 0;
}

void FreeJson(void* object) {
  auto* obj = static_cast<JsonObject*>(object);
  AddJsonBytes(-obj->accounted);
  delete obj;
}

void* CloneJson(const void* object) {
  const auto* src = static_cast<const JsonObject*>(object);
  auto* obj = new JsonObject{src->root.Clone(), src->accounted, src->churn};
  AddJsonBytes(obj->accounted);
  return obj;
}

size_t JsonHeapBytes(const void* object) {
  const auto* obj = static_cast<const JsonObject*>(object);
  return sizeof(JsonObject) + obj->root.HeapUsage();
}

}  // namespace shoal::storage
