// List operations that run on a key's owner shard, shared by the list commands (list_commands.cc,
// list_move_commands.cc) and the blocking ones (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP). They take
// a Db, not a CommandContext, so that a coordinator's FanOut lambda or a woken blocked client can
// call them on the owner shard's thread.
//
// Every list a command creates goes through PushElements, and every element removed from an end
// through PopElements: the places to hook "a list key became ready" for blocked clients.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/types/span.h"
#include "commands/helpers.h"
#include "protocol/reply_builder.h"
#include "storage/db.h"
#include "storage/list_object.h"

namespace shoal::cmd {

using storage::ListEnd;

// Redis's "LEFT"/"RIGHT" (any case); nullopt for anything else (the caller replies a syntax
// error).
std::optional<ListEnd> ParseListEnd(std::string_view arg);

// Runs on: the key's owner shard.
// The entry for `key` if it holds a list; nullptr if absent; WrongType for another type.
Result<storage::Entry*> FindList(storage::Db& db, std::string_view key, int64_t now_ms,
                                 uint8_t flags = kWriteLookup);

// Runs on: the key's owner shard.
// Pops up to `count` elements from `end` of the list in `e`, in the order popped; deletes the
// key when the list empties. REQUIRES: `e` holds a list.
std::vector<std::string> PopElements(storage::Db& db, storage::Entry* e, ListEnd end,
                                     size_t count);

// Runs on: the key's owner shard.
// Pushes `elements` one at a time at `end` (so LPUSH a b c leaves c first) of the list in `e`,
// or of a new list at `key` if `e` is null. Returns the new length.
// REQUIRES: `e` is null (and `key` absent) or holds a list.
size_t PushElements(storage::Db& db, storage::Entry* e, std::string_view key, ListEnd end,
                    absl::Span<const std::string_view> elements);

// Runs on: the owner shard of both keys.
// LMOVE: pops from `from` of `src` and pushes at `to` of `dst`. The element, nullopt if `src` is
// absent, or WrongType, checked as Redis checks: the source first, then the destination (only if
// the source exists), before anything moves. `src` and `dst` may be the same key (a rotation).
Result<std::optional<std::string>> MoveElement(storage::Db& db, std::string_view src,
                                               std::string_view dst, ListEnd from, ListEnd to,
                                               int64_t now_ms);

// Runs on: the owner shard of all `keys`.
// LMPOP: pops up to `count` from `end` of the first key, in order, that holds a list; nullopt if
// none does. WrongType if a key before that one holds another type (as Redis, which stops there).
struct MultiPopResult {
  size_t key_index = 0;
  std::vector<std::string> elements;
};
Result<std::optional<MultiPopResult>> MultiPop(storage::Db& db,
                                               absl::Span<const std::string_view> keys,
                                               ListEnd end, size_t count, int64_t now_ms);

// The LMPOP/BLMPOP reply: [key, [element, ...]].
void ReplyKeyAndElements(protocol::ReplyBuilder& r, std::string_view key,
                         const std::vector<std::string>& elements);

}  // namespace shoal::cmd
