// Shared by the sorted-set command files: parsing score and lex ranges as Redis parses them,
// Redis's error texts for them, and writing (member, score) replies in RESP2 and RESP3 shapes.
#pragma once

#include <string_view>

#include "commands/helpers.h"
#include "storage/zset_object.h"

namespace shoal::cmd {

inline constexpr std::string_view kErrZNotFloatRange = "ERR min or max is not a float";
inline constexpr std::string_view kErrZLexRange = "ERR min or max not valid string range item";
inline constexpr std::string_view kErrZNan = "ERR resulting score is not a number (NaN)";

// Redis's zslParseRange: "(" makes a bound exclusive; the rest goes to strtod, which must use all
// of it up to the first NUL (so leading spaces, "" and hex pass, as there); NaN is refused.
bool ParseZScoreRange(std::string_view min, std::string_view max, storage::ZScoreRange* r);
// Redis's zslParseLexRange: "[x" / "(x" / "-" / "+".
bool ParseZLexRange(std::string_view min, std::string_view max, storage::ZLexRange* r);

// The zset at `key`: WrongType for another type, nullptr if absent.
inline Result<storage::Entry*> FindZSet(CommandContext& ctx, std::string_view key, uint8_t flags) {
  return FindTyped(ctx, key, storage::ValueType::kZSet, flags);
}

// The same, on a shard's Db from a coordinator's hop (no CommandContext there).
inline Result<storage::Entry*> FindZSetIn(storage::Db& db, std::string_view key, int64_t now_ms,
                                          uint8_t flags) {
  storage::Entry* e = db.Find(key, now_ms, flags);
  if (e != nullptr && e->value.type() != storage::ValueType::kZSet) return Status::WrongType();
  return e;
}

// Array length for `n` members: WITHSCORES replies are flat in RESP2 (member, score, ...) and
// [member, score] pairs in RESP3.
inline size_t ZReplyLen(const protocol::ReplyBuilder& r, size_t n, bool withscores) {
  return withscores && !r.resp3() ? 2 * n : n;
}

inline void ReplyZMember(protocol::ReplyBuilder& r, std::string_view member, double score,
                         bool withscores) {
  if (withscores && r.resp3()) r.ArrayHeader(2);
  r.Bulk(member);
  if (withscores) r.Double(score);
}

inline void ReplyZEntries(protocol::ReplyBuilder& r, const std::vector<storage::ZEntry>& entries,
                          bool withscores) {
  r.ArrayHeader(ZReplyLen(r, entries.size(), withscores));
  for (const storage::ZEntry& e : entries) ReplyZMember(r, e.member, e.score, withscores);
}

// Copies every (member, score) of a zset in ascending order.
std::vector<storage::ZEntry> CopyZSet(const storage::Value& z);

// Registration of the family's other files (zset_commands.cc registers them all).
void RegisterZSetRangeCommands(server::CommandTable& table);
void RegisterZSetAlgebraCommands(server::CommandTable& table);

}  // namespace shoal::cmd
