#include "commands/json_common.h"

#include <algorithm>
#include <functional>

#include "json/merge.h"
#include "protocol/errors.h"

namespace shoal::cmd::jsoncmd {

bool ExistingDoc(CommandContext& ctx, std::string_view key, storage::Entry** out) {
  Result<storage::Entry*> e = FindJson(ctx, key);
  if (!e.ok()) {
    ctx.ReplyError(e.status());
    return false;
  }
  if (*e == nullptr) {
    ctx.ReplyError(protocol::kErrJsonNoKey);
    return false;
  }
  *out = *e;
  return true;
}

std::optional<json::Path> PathArgOrReply(CommandContext& ctx, std::string_view text) {
  Result<json::Path> p = json::Path::Parse(text);
  if (!p.ok()) {
    ctx.ReplyError(p.status());
    return std::nullopt;
  }
  return std::move(p).value();
}

std::optional<json::Value> JsonArgOrReply(CommandContext& ctx, std::string_view text) {
  Result<json::Value> v = json::Parse(text);
  if (!v.ok()) {
    ctx.ReplyError(v.status());
    return std::nullopt;
  }
  return std::move(v).value();
}

namespace {

// The size the bulk header leaves digits for: documents of 1000-9999 bytes need no move.
constexpr size_t kTypicalJsonBytes = 1000;

// Writes a bulk string whose body `write` appends to the buffer, without a second copy: the
// header is written first with room for the digits of `estimate`; when the real length has a
// different number of digits the body is moved once to fit the header (a memmove, far cheaper
// than a walk of the tree to estimate its size).
template <typename Write>
void BulkInPlace(protocol::ReplyBuilder& r, size_t estimate, Write write) {
  std::string* out = r.buffer();
  const std::string est = std::to_string(estimate);
  const size_t header_at = out->size();
  out->push_back('$');
  out->append(est);
  out->append("\r\n");
  const size_t body_at = out->size();
  write(out);
  const size_t len = out->size() - body_at;
  const std::string real = std::to_string(len);
  if (real.size() == est.size()) {
    out->replace(header_at + 1, real.size(), real);
  } else {
    out->replace(header_at + 1, est.size(), real);  // Shifts the body once.
  }
  out->append("\r\n");
}

}  // namespace

void ReplyJson(protocol::ReplyBuilder& r, const json::Value& v, const json::FormatOptions& fmt) {
  BulkInPlace(r, kTypicalJsonBytes, [&](std::string* out) { json::AppendJson(v, fmt, out); });
}

void ReplyJsonArray(protocol::ReplyBuilder& r, const std::vector<const json::Value*>& values,
                    const json::FormatOptions& fmt) {
  BulkInPlace(r, kTypicalJsonBytes, [&](std::string* out) {
    json::JsonWriter w(&fmt, out);
    w.BeginArray();
    for (const json::Value* v : values) w.Write(*v);
    w.EndArray();
  });
}

void ReplyJsonBody(protocol::ReplyBuilder& r, const std::function<void(std::string*)>& write) {
  BulkInPlace(r, kTypicalJsonBytes, write);
}

void ReplyResp(protocol::ReplyBuilder& r, const json::Value& v) {
  switch (v.type()) {
    case json::Type::kNull:
      return r.Null();
    case json::Type::kBool:
      return r.SimpleString(v.as_bool() ? "true" : "false");
    case json::Type::kInt:
      return r.Integer(v.as_int());
    case json::Type::kDouble:
      return r.Double(v.as_double());
    case json::Type::kString:
      return r.Bulk(v.as_string());
    case json::Type::kArray:
      r.ArrayHeader(v.size() + 1);
      r.SimpleString("[");
      for (const json::Value& item : v.items()) ReplyResp(r, item);
      return;
    case json::Type::kObject:
      r.ArrayHeader(2 * v.size() + 1);
      r.SimpleString("{");
      for (const json::Member& m : v.members()) {
        r.Bulk(m.name());
        ReplyResp(r, m.value);
      }
      return;
  }
}

void RecountJson(const storage::Value& v) { storage::RecountJsonBytes(v); }

int64_t SlotBytes(const json::Value& v, bool object_member) {
  return static_cast<int64_t>(v.MemoryUsage() + (object_member ? sizeof(json::Value) : 0));
}

bool TooDeep(uint32_t depth, const json::Value& v) {
  // json::Parse accepts nesting below kDefaultMaxDepth (127 levels), so documents stay below it.
  return static_cast<int>(depth) + json::NestingDepth(v) >= json::kDefaultMaxDepth;
}

SetPlan PlanSet(const json::Path& path, json::Value& root, SetMode mode, const json::Value& value) {
  SetPlan plan;
  if (path.is_root()) {
    if (mode != SetMode::kNx) plan.replace_root = true;
    return plan;
  }
  if (mode != SetMode::kNx) {
    plan.replace = json::SelectForUpdate(path, root);
    if (!plan.replace.empty()) {
      // Deepest first: replacing a value never invalidates matches above it.
      std::stable_sort(
          plan.replace.begin(), plan.replace.end(),
          [](const json::Match& a, const json::Match& b) { return a.depth > b.depth; });
      for (const json::Match& m : plan.replace) {
        if (TooDeep(m.depth, value)) plan.error = protocol::kErrJsonTooDeep;
      }
      return plan;
    }
  }
  if (mode == SetMode::kXx) return plan;
  // Nothing matched (or NX): a new member of the objects the path's parent matches.
  if (!path.is_static()) {
    plan.error = protocol::kErrJsonWrongStaticPath;
    return plan;
  }
  if (std::optional<std::string> name = path.last_name()) {
    plan.add_key = std::move(*name);
    for (const json::Match& m : json::SelectForUpdate(path.ParentPath(), root)) {
      if (m.value->is_object() && m.value->Find(plan.add_key) == nullptr) {
        if (TooDeep(m.depth + 1, value)) plan.error = protocol::kErrJsonTooDeep;
        plan.add_to.push_back(m);
      }
    }
    return plan;
  }
  // The last step is an index: a missing element is out of range; an NX on a present one is a
  // no-op.
  if (json::Select(path, root).empty()) plan.error = protocol::kErrJsonArrayIndexOutOfRange;
  return plan;
}

bool ApplySet(const storage::Value& v, SetPlan& plan, json::Value value, bool merge) {
  json::Value& root = storage::JsonRoot(v);
  if (plan.replace_root) {
    if (merge) {
      json::MergePatch(root, std::move(value));
      RecountJson(v);
    } else {
      storage::ReplaceJsonRoot(v, std::move(value));
    }
    return true;
  }
  size_t targets = plan.replace.size() + plan.add_to.size();
  size_t done = 0;
  // The last target takes `value` itself; the others get copies.
  auto next = [&]() { return ++done == targets ? std::move(value) : value.Clone(); };
  int64_t delta = 0;
  std::vector<json::Match> erase;  // Merging null into a member deletes it.
  for (json::Match& m : plan.replace) {
    if (merge && value.is_null()) {
      erase.push_back(m);
      ++done;
      continue;
    }
    int64_t before = static_cast<int64_t>(m.value->MemoryUsage());
    if (merge) {
      json::MergePatch(*m.value, next());
    } else {
      *m.value = next();
    }
    delta += static_cast<int64_t>(m.value->MemoryUsage()) - before;
  }
  for (json::Match& obj : plan.add_to) {
    json::Value& added = obj.value->Set(plan.add_key, next());
    delta += SlotBytes(added, /*object_member=*/true);
  }
  if (!erase.empty()) {
    json::EraseMatches(root, erase);
    RecountJson(v);
  } else {
    storage::AdjustJsonBytes(v, delta);
  }
  return targets > 0;
}

}  // namespace shoal::cmd::jsoncmd
