// Popping from a sorted set, shared by ZPOPMIN/ZPOPMAX/ZMPOP and their blocking forms
// (BZPOPMIN/BZPOPMAX/BZMPOP, in blocking_commands.cc): the data half runs on the key's owner
// shard, the reply halves write each command's shape.
#pragma once

#include <string_view>
#include <vector>

#include "protocol/reply_builder.h"
#include "storage/db.h"
#include "storage/zset_object.h"

namespace shoal::cmd {

// Runs on: the shard that owns the key. Pops up to `count` members from the low end (or, with
// `max`, the high end) of the zset in entry `e`, in popping order, and deletes the key when it
// is emptied. REQUIRES: `e` holds a zset; count >= 1.
std::vector<storage::ZEntry> ZPopEntries(storage::Db& db, storage::Entry* e, bool max,
                                         int64_t count);

// ZPOPMIN/ZPOPMAX's reply: a flat member, score, ... array, except RESP3 with a COUNT
// argument (`nested`), which gets [member, score] pairs.
void ReplyZPop(protocol::ReplyBuilder& r, const std::vector<storage::ZEntry>& popped, bool nested);
// BZPOPMIN/BZPOPMAX's reply: key, member, score (flat in both protocols).
void ReplyBZPop(protocol::ReplyBuilder& r, std::string_view key,
                const std::vector<storage::ZEntry>& popped);
// ZMPOP/BZMPOP's reply: [key, [[member, score], ...]] in both protocols. (Nothing to pop is a
// null array, which the caller replies.)
void ReplyZMPop(protocol::ReplyBuilder& r, std::string_view key,
                const std::vector<storage::ZEntry>& popped);

}  // namespace shoal::cmd
