#include "snapshot/save_points.h"

#include <string>

#include "common/strings.h"
#include "protocol/resp_parser.h"

namespace shoal::snapshot {

bool ParseSavePoints(std::string_view text, std::vector<SavePoint>* out) {
  out->clear();
  std::vector<std::string> parts;
  if (!protocol::SplitInlineArgs(text, &parts) || parts.size() % 2 != 0) return false;
  for (size_t i = 0; i < parts.size(); i += 2) {
    std::optional<int64_t> seconds = ParseInt64(parts[i]);
    std::optional<int64_t> changes = ParseInt64(parts[i + 1]);
    if (!seconds || !changes || *seconds < 0 || *changes < 0) return false;
    out->push_back({*seconds, *changes});
  }
  return true;
}

bool SavePointReached(const std::vector<SavePoint>& points, int64_t changes,
                      int64_t seconds_since_save) {
  for (const SavePoint& p : points) {
    if (changes >= p.changes && seconds_since_save > p.seconds) return true;
  }
  return false;
}

}  // namespace shoal::snapshot
