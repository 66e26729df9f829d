#include "storage/set_algebra.h"

namespace shoal::storage {
namespace {

// Redis picks the diff algorithm by estimated work: walking the first set and probing every
// other one (1), or copying the first and deleting every other one's members (2). The choice
// decides the result's encoding (algorithm 2 holds all of the first set at one point), so it is
// made the same way here.
int ChooseDiffAlgorithm(const std::vector<const Value*>& sets) {
  long long one = 0, two = 0;
  for (const Value* s : sets) {
    if (s == nullptr) continue;
    one += static_cast<long long>(SetSize(*sets[0]));
    two += static_cast<long long>(SetSize(*s));
  }
  one /= 2;  // Algorithm 1 has better constants; Redis gives it this advantage.
  return one <= two ? 1 : 2;
}

void Union(const std::vector<const Value*>& sets, Value* out) {
  for (const Value* s : sets) {
    if (s == nullptr) continue;
    SetForEach(*s, [&](const SetMember& m) {
      SetAdd(*out, m);
      return true;
    });
  }
}

void DiffByProbing(const std::vector<const Value*>& sets, Value* out) {
  SetForEach(*sets[0], [&](const SetMember& m) {
    for (size_t j = 1; j < sets.size(); ++j) {
      if (sets[j] != nullptr && SetContains(*sets[j], m)) return true;
    }
    SetAdd(*out, m);
    return true;
  });
}

void DiffByRemoving(const std::vector<const Value*>& sets, Value* out) {
  for (size_t j = 0; j < sets.size(); ++j) {
    if (sets[j] == nullptr) continue;
    SetForEach(*sets[j], [&](const SetMember& m) {
      if (j == 0) {
        SetAdd(*out, m);
      } else {
        SetRemove(*out, m);
      }
      return true;
    });
    if (SetSize(*out) == 0) break;  // Nothing left to remove from.
  }
}

}  // namespace

Value SetUnionOrDiff(SetOp op, const std::vector<const Value*>& sets) {
  Value out = NewIntsetSet();
  if (op == SetOp::kUnion) {
    Union(sets, &out);
    return out;
  }
  if (sets.empty() || sets[0] == nullptr) return out;
  for (size_t j = 1; j < sets.size(); ++j) {
    if (sets[j] == sets[0]) return out;  // The first set minus itself.
  }
  if (ChooseDiffAlgorithm(sets) == 1) {
    DiffByProbing(sets, &out);
  } else {
    DiffByRemoving(sets, &out);
  }
  return out;
}

}  // namespace shoal::storage
