#include "json/merge.h"

#include <utility>

namespace shoal::json {
namespace {

// A copy of `patch` with its null members removed at every level: what RFC 7386 leaves when a
// patch object meets a missing or non-object target.
Value Stripped(const Value& patch) {
  if (!patch.is_object()) return patch.Clone();
  Value out = Value::Object(patch.size());
  for (const Member& m : patch.members()) {
    if (m.value.is_null()) continue;
    out.AppendMember(m.name(), Stripped(m.value));
  }
  return out;
}

Value Stripped(Value&& patch) {
  if (!patch.is_object()) return std::move(patch);
  Value out = Value::Object(patch.size());
  for (Member& m : patch.members()) {
    if (m.value.is_null()) continue;
    out.AppendMember(m.name(), Stripped(std::move(m.value)));
  }
  return out;
}

}  // namespace

void MergePatch(Value& target, const Value& patch) {
  if (!patch.is_object()) {
    target = patch.Clone();
    return;
  }
  if (!target.is_object()) {
    target = Stripped(patch);
    return;
  }
  for (const Member& m : patch.members()) {
    if (m.value.is_null()) {
      target.EraseKey(m.name());
      continue;
    }
    Value* existing = target.Find(m.name());
    if (existing != nullptr) {
      MergePatch(*existing, m.value);
    } else {
      target.AppendMember(m.name(), Stripped(m.value));
    }
  }
}

void MergePatch(Value& target, Value&& patch) {
  if (!patch.is_object()) {
    target = std::move(patch);
    return;
  }
  if (!target.is_object()) {
    target = Stripped(std::move(patch));
    return;
  }
  for (Member& m : patch.members()) {
    if (m.value.is_null()) {
      target.EraseKey(m.name());
      continue;
    }
    Value* existing = target.Find(m.name());
    if (existing != nullptr) {
      MergePatch(*existing, std::move(m.value));
    } else {
      target.AppendMember(m.name(), Stripped(std::move(m.value)));
    }
  }
}

}  // namespace shoal::json
