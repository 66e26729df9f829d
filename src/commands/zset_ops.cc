#include "commands/zset_ops.h"

namespace shoal::cmd {

using storage::ZEntry;

std::vector<ZEntry> ZPopEntries(storage::Db& db, storage::Entry* e, bool max, int64_t count) {
  storage::Value& z = e->value;
  size_t len = storage::ZSetLength(z);
  size_t n = static_cast<uint64_t>(count) < len ? static_cast<size_t>(count) : len;
  std::vector<ZEntry> out;
  out.reserve(n);
  size_t start = max ? len - 1 : 0;
  for (storage::ZSetCursor c(z, start, max); out.size() < n; c.Next()) {
    out.push_back(ZEntry{std::string(c.member()), c.score()});
  }
  storage::ZSetDeleteRange(z, max ? len - n : 0, n);
  if (n == len) db.Erase(e);
  return out;
}

void ReplyZPop(protocol::ReplyBuilder& r, const std::vector<ZEntry>& popped, bool nested) {
  r.ArrayHeader(nested ? popped.size() : popped.size() * 2);
  for (const ZEntry& p : popped) {
    if (nested) r.ArrayHeader(2);
    r.Bulk(p.member);
    r.Double(p.score);
  }
}

void ReplyBZPop(protocol::ReplyBuilder& r, std::string_view key,
                const std::vector<ZEntry>& popped) {
  r.ArrayHeader(popped.size() * 2 + 1);
  r.Bulk(key);
  for (const ZEntry& p : popped) {
    r.Bulk(p.member);
    r.Double(p.score);
  }
}

void ReplyZMPop(protocol::ReplyBuilder& r, std::string_view key,
                const std::vector<ZEntry>& popped) {
  r.ArrayHeader(2);
  r.Bulk(key);
  ReplyZPop(r, popped, /*nested=*/true);
}

}  // namespace shoal::cmd
