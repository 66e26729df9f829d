// Small helpers shared by command families: argument parsing with Redis's error replies, typed
// key lookups, and grouping keys by their owner shard for coordinators.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/strings.h"
#include "server/command_context.h"
#include "server/server_state.h"
#include "storage/db.h"

namespace shoal::cmd {

using server::CommandContext;

// Parses an integer argument; on failure replies Redis's error and returns nullopt.
inline std::optional<int64_t> IntArgOrReply(CommandContext& ctx, size_t i) {
  std::optional<int64_t> v = ParseInt64(ctx.arg(i));
  if (!v) ctx.ReplyError(Status::NotInteger());
  return v;
}

inline bool ArgIs(std::string_view arg, std::string_view word) {
  return EqualsIgnoreCase(arg, word);
}

// Lookups by read commands count keyspace hits and misses (INFO stats), as in Redis.
inline constexpr uint8_t kRead = storage::kLookupTouch | storage::kLookupRead;
inline constexpr uint8_t kReadNoTouch = storage::kLookupRead;
inline constexpr uint8_t kWriteLookup = storage::kLookupTouch;

// The live entry for `key` if it holds a string; WrongType if it holds something else;
// nullptr if absent.
inline Result<storage::Entry*> FindString(CommandContext& ctx, std::string_view key,
                                          uint8_t flags = kWriteLookup) {
  storage::Entry* e = ctx.db().Find(key, ctx.now_ms(), flags);
  if (e != nullptr && !e->value.is_string()) return Status::WrongType();
  return e;
}

// The live entry for `key` if it holds a value of type `t`; WrongType if it holds another type;
// nullptr if absent.
inline Result<storage::Entry*> FindTyped(CommandContext& ctx, std::string_view key,
                                         storage::ValueType t, uint8_t flags = kWriteLookup) {
  storage::Entry* e = ctx.db().Find(key, ctx.now_ms(), flags);
  if (e != nullptr && e->value.type() != t) return Status::WrongType();
  return e;
}

// A CommandSpec::get_keys for "[dest] numkeys key [key ...] ...": the key named at kDest (0 for
// none), then numkeys keys after the count at kNumkeys. False when the count is not a positive
// integer that fits the arguments (the handler replies the error).
template <int kDest, int kNumkeys>
bool NumkeysKeys(absl::Span<const std::string_view> args, std::vector<int>* keys) {
  if (args.size() <= static_cast<size_t>(kNumkeys)) return false;
  std::optional<int64_t> n = ParseInt64(args[kNumkeys]);
  if (!n || *n <= 0 || *n > static_cast<int64_t>(args.size()) - kNumkeys - 1) return false;
  if (kDest > 0) keys->push_back(kDest);
  for (int64_t i = 0; i < *n; ++i) keys->push_back(kNumkeys + 1 + static_cast<int>(i));
  return true;
}

// A SCAN-family cursor as Redis 7.0's parseScanCursorOrReply reads it: strtoul over the argument
// up to its first NUL, no leading space; "" is 0 and "-1" wraps to the largest cursor. nullopt:
// reply "ERR invalid cursor".
std::optional<uint64_t> ParseScanCursor(std::string_view s);

// Keys grouped by owner shard: for each shard involved, the argument indexes of its keys in
// their original order.
struct ShardGroups {
  std::vector<shard::ShardId> shards;
  std::vector<std::vector<size_t>> indexes;  // Parallel to `shards`.

  const std::vector<size_t>& Of(shard::ShardId id) const {
    for (size_t i = 0; i < shards.size(); ++i) {
      if (shards[i] == id) return indexes[i];
    }
    static const std::vector<size_t> kNone;
    return kNone;
  }
};

// Groups `keys[i]` for i in [0, keys.size()) by owner.
ShardGroups GroupByShard(const std::vector<std::string>& keys);

// Copies arguments [from, argc) stepping by `step` (keys cross threads, so they are owned).
std::vector<std::string> CopyArgs(const CommandContext& ctx, size_t from, size_t step = 1);

}  // namespace shoal::cmd

namespace shoal::cmd {

// Replies with a string value as a bulk string (integers formatted on the fly).
inline void ReplyValue(CommandContext& ctx, const storage::Value& v) {
  if (v.is_int()) {
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v.int_value()));
    ctx.reply().Bulk(std::string_view(buf, n));
    return;
  }
  std::string unused;
  ctx.reply().Bulk(v.GetString(&unused));
}

}  // namespace shoal::cmd

namespace shoal::cmd {

// Replies with a HELP text: one status line per entry, as Redis's addReplyHelp does.
template <size_t N>
void ReplyHelpLines(CommandContext& ctx, const char* const (&lines)[N]) {
  ctx.reply().ArrayHeader(N);
  for (const char* l : lines) ctx.reply().SimpleString(l);
}

}  // namespace shoal::cmd
