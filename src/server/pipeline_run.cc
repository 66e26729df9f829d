// Stitching a squashed pipeline run's replies back into the client's order, merging the parts
// of split commands on the way (see dispatcher.h).
#include <cstdlib>

#include "common/strings.h"
#include "server/dispatcher.h"

namespace shoal::server {
namespace {

// Reads replies from one source (a batch or the held-back local replies) in order.
struct Cursor {
  const std::string* text;
  const std::vector<size_t>* ends;
  size_t next = 0;

  std::string_view Next() {
    size_t begin = next == 0 ? 0 : (*ends)[next - 1];
    size_t end = (*ends)[next++];
    return std::string_view(*text).substr(begin, end - begin);
  }
};

// Length of the single RESP value at the start of `s`. Parts of split commands reply only
// simple values (bulk strings, nulls, integers, simple strings, errors), one level deep.
size_t ElementLength(std::string_view s) {
  size_t eol = s.find("\r\n");
  if (s[0] == '$') {
    int64_t len = atoll(std::string(s.substr(1, eol - 1)).c_str());
    return len < 0 ? eol + 2 : eol + 2 + static_cast<size_t>(len) + 2;
  }
  return eol + 2;
}

}  // namespace

void MergeSplitReplies(const PipelineRun::Merge& m, std::vector<std::string_view> replies,
                       std::string* out) {
  for (std::string_view r : replies) {
    if (!r.empty() && r[0] == '-') {  // A part failed (e.g. out of memory): report it.
      out->append(r);
      return;
    }
  }
  switch (m.kind) {
    case SplitMerge::kNone:
    case SplitMerge::kAllOk:
      out->append("+OK\r\n");
      return;
    case SplitMerge::kSumIntegers: {
      int64_t sum = 0;
      for (std::string_view r : replies) sum += atoll(std::string(r.substr(1)).c_str());
      out->append(":" + Int64ToString(sum) + "\r\n");
      return;
    }
    case SplitMerge::kArrayByKey: {
      // Skip each part's array header; then take elements part by part in key order.
      for (std::string_view& r : replies) r.remove_prefix(r.find("\r\n") + 2);
      out->append("*" + std::to_string(m.part_of_key.size()) + "\r\n");
      for (uint8_t p : m.part_of_key) {
        size_t n = ElementLength(replies[p]);
        out->append(replies[p].substr(0, n));
        replies[p].remove_prefix(n);
      }
      return;
    }
  }
}

void PipelineRun::StitchInto(std::string* out) const {
  std::vector<Cursor> cursors;
  for (const auto& b : batches) cursors.push_back(Cursor{&b->replies, &b->reply_ends});
  Cursor local{&local_replies, &local_ends};
  auto cursor_of = [&](Source s) -> Cursor& { return s == kLocal ? local : cursors[s]; };
  for (Source src : order) {
    if (src >= kLocal) {
      out->append(cursor_of(src).Next());
      continue;
    }
    const Merge& m = merges[kFirstMerge - src];
    std::vector<std::string_view> parts;
    for (Source p : m.parts) parts.push_back(cursor_of(p).Next());
    MergeSplitReplies(m, std::move(parts), out);
  }
}

}  // namespace shoal::server
