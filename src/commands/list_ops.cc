#include "commands/list_ops.h"

namespace shoal::cmd {

using storage::Entry;
using storage::Quicklist;

std::optional<ListEnd> ParseListEnd(std::string_view arg) {
  if (ArgIs(arg, "LEFT")) return ListEnd::kHead;
  if (ArgIs(arg, "RIGHT")) return ListEnd::kTail;
  return std::nullopt;
}

Result<Entry*> FindList(storage::Db& db, std::string_view key, int64_t now_ms, uint8_t flags) {
  Entry* e = db.Find(key, now_ms, flags);
  if (e != nullptr && e->value.type() != storage::ValueType::kList) return Status::WrongType();
  return e;
}

std::vector<std::string> PopElements(storage::Db& db, Entry* e, ListEnd end, size_t count) {
  Quicklist* q = storage::ListOf(e->value);
  count = std::min(count, q->size());
  std::vector<std::string> out(count);
  for (size_t i = 0; i < count; ++i) q->Pop(end, &out[i]);
  if (q->size() == 0) db.Erase(e);  // Empty lists never exist.
  return out;
}

size_t PushElements(storage::Db& db, Entry* e, std::string_view key, ListEnd end,
                    absl::Span<const std::string_view> elements) {
  if (e == nullptr) {
    e = db.Insert(key, storage::Value::Object(storage::ValueType::kList,
                                              storage::ObjectEncoding::kQuicklist,
                                              Quicklist::Create()));
  }
  Quicklist* q = storage::ListOf(e->value);
  for (std::string_view s : elements) q->Push(end, s);
  return q->size();
}

Result<std::optional<std::string>> MoveElement(storage::Db& db, std::string_view src,
                                               std::string_view dst, ListEnd from, ListEnd to,
                                               int64_t now_ms) {
  Result<Entry*> s = FindList(db, src, now_ms);
  if (!s.ok()) return s.status();
  if (*s == nullptr) return std::optional<std::string>();
  Result<Entry*> d = FindList(db, dst, now_ms);
  if (!d.ok()) return d.status();
  std::string element;
  storage::ListOf((*s)->value)->Pop(from, &element);
  // Push before deleting an emptied source: with src == dst the list is never gone.
  std::string_view view = element;
  PushElements(db, *d, dst, to, absl::MakeConstSpan(&view, 1));
  if (storage::ListOf((*s)->value)->size() == 0) db.Erase(*s);
  return std::optional<std::string>(std::move(element));
}

Result<std::optional<MultiPopResult>> MultiPop(storage::Db& db,
                                               absl::Span<const std::string_view> keys,
                                               ListEnd end, size_t count, int64_t now_ms) {
  for (size_t i = 0; i < keys.size(); ++i) {
    Result<Entry*> e = FindList(db, keys[i], now_ms);
    if (!e.ok()) return e.status();
    if (*e == nullptr) continue;
    MultiPopResult r;
    r.key_index = i;
    r.elements = PopElements(db, *e, end, count);
    return std::optional<MultiPopResult>(std::move(r));
  }
  return std::optional<MultiPopResult>();
}

void ReplyKeyAndElements(protocol::ReplyBuilder& r, std::string_view key,
                         const std::vector<std::string>& elements) {
  r.ArrayHeader(2);
  r.Bulk(key);
  r.ArrayHeader(elements.size());
  for (const std::string& s : elements) r.Bulk(s);
}

}  // namespace shoal::cmd
