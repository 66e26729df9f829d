// RFC 7386 JSON merge patch (JSON.MERGE and HTTP PATCH).
#pragma once

#include "json/value.h"

namespace shoal::json {

// Applies `patch` to `target` in place: if `patch` is an object, `target` becomes an object
// (replacing a non-object) and each member of `patch` is merged recursively into it — a null
// member deletes the key, others merge into the existing member or are added at the end.
// A non-object `patch` replaces `target` entirely (a null patch makes `target` null: the caller
// decides whether that means deleting it, as JSON.MERGE does for a path match).
void MergePatch(Value& target, const Value& patch);
// Same, moving pieces out of `patch` instead of copying them.
void MergePatch(Value& target, Value&& patch);

}  // namespace shoal::json
