// Set algebra as Redis 7.0 computes it (SINTER, SUNION, SDIFF and their STORE and CARD forms).
//
// Not only the members but their order and the result's encoding are observable: an intset
// result replies in ascending order, and OBJECT ENCODING of a *STORE destination tells how the
// result was built. So these follow Redis's algorithms step for step: which set is iterated,
// which diff algorithm runs, and that results grow from an empty intset through SetAdd (which
// converts exactly when Redis's setTypeAdd does).
//
// Inputs: one pointer per key, in command order; nullptr for a missing key (an empty set). A key
// named twice must appear as the same pointer: Redis detects the same set by identity.
#pragma once

#include <algorithm>
#include <vector>

#include "storage/set_object.h"
#include "storage/value.h"

namespace shoal::storage {

// Redis's sinterGenericCommand: orders the sets by size (a stable sort, like glibc's qsort for
// short arrays), walks the smallest and calls emit(const SetMember&) for each member found in
// all the others, while emit returns true. REQUIRES: no nullptr (a missing key empties the
// intersection; callers answer that case before calling).
template <typename Fn>
void SetIntersect(std::vector<const Value*> sets, Fn&& emit) {
  std::stable_sort(sets.begin(), sets.end(),
                   [](const Value* a, const Value* b) { return SetSize(*a) < SetSize(*b); });
  SetForEach(*sets[0], [&](const SetMember& m) {
    for (size_t j = 1; j < sets.size(); ++j) {
      if (sets[j] == sets[0]) continue;
      if (!SetContains(*sets[j], m)) return true;
    }
    return emit(m);
  });
}

enum class SetOp { kUnion, kDiff };

// Redis's sunionDiffGenericCommand: the union of `sets`, or the first minus the others, built in
// a fresh set (possibly empty).
Value SetUnionOrDiff(SetOp op, const std::vector<const Value*>& sets);

}  // namespace shoal::storage
