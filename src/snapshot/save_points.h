// Save points: the `save` parameter ("3600 1 300 100 60 10000"): a snapshot is due when, for
// some pair, at least `changes` writes happened and `seconds` passed since the last save.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace shoal::snapshot {

struct SavePoint {
  int64_t seconds;
  int64_t changes;
};

// False if `text` is not "seconds changes" pairs (config.cc checks before setting, so a stored
// value always parses). "" gives no points.
bool ParseSavePoints(std::string_view text, std::vector<SavePoint>* out);

bool SavePointReached(const std::vector<SavePoint>& points, int64_t changes,
                      int64_t seconds_since_save);

}  // namespace shoal::snapshot
