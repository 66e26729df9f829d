// Shared pieces of the JSON.* commands (json_*_commands.cc): typed lookups, argument parsing
// with RedisJSON's error replies, serialization into the reply, and the JSON.SET planner that
// JSON.SET, JSON.MSET and JSON.MERGE share.
//
// Legacy paths vs JSONPath (json/path.h): a legacy path (".a", "a[0]", ".") answers one value and
// errors when nothing matches; a JSONPath ("$...") answers an array with one entry per match and
// null entries for matches of the wrong type. Each command follows RedisJSON 2.x's reply for
// each form (redis_json/src/commands.rs).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/helpers.h"
#include "json/parse.h"
#include "json/path.h"
#include "json/serialize.h"
#include "json/value.h"
#include "storage/json_object.h"

namespace shoal::cmd::jsoncmd {

// The live JSON entry for `key`; WrongType for another type; nullptr when absent.
inline Result<storage::Entry*> FindJson(CommandContext& ctx, std::string_view key,
                                        uint8_t flags = kWriteLookup) {
  return FindTyped(ctx, key, storage::ValueType::kJson, flags);
}

// The entry of an existing JSON key, for the commands that need one. Replies WRONGTYPE for
// another type, RedisJSON's "key doesn't exist" for a missing key, and returns false for either.
bool ExistingDoc(CommandContext& ctx, std::string_view key, storage::Entry** out);

// Parses a path argument; on error replies RedisJSON's text and returns nullopt.
std::optional<json::Path> PathArgOrReply(CommandContext& ctx, std::string_view text);
// Parses a JSON argument; on error replies the parser's text and returns nullopt.
std::optional<json::Value> JsonArgOrReply(CommandContext& ctx, std::string_view text);

// Replies `v` as a bulk string of its JSON text, serialized straight into the reply buffer.
void ReplyJson(protocol::ReplyBuilder& r, const json::Value& v,
               const json::FormatOptions& fmt = {});
// Replies "[m1,m2,...]" for JSONPath matches, serialized straight into the reply buffer.
void ReplyJsonArray(protocol::ReplyBuilder& r, const std::vector<const json::Value*>& values,
                    const json::FormatOptions& fmt = {});
// Replies a bulk string whose body `write` appends to the reply buffer.
void ReplyJsonBody(protocol::ReplyBuilder& r, const std::function<void(std::string*)>& write);
// Appends `v` in JSON.RESP's form: null -> null, booleans -> "true"/"false" simple strings,
// integers -> integers, doubles -> doubles, strings -> bulk strings, arrays -> ["[", items...],
// objects -> ["{", key, value, ...].
void ReplyResp(protocol::ReplyBuilder& r, const json::Value& v);

// Matches of `path` in the document, each either a value of the wanted kind or nullptr (a
// JSONPath reply's null entry). Used by the commands that filter matches by type.
template <typename Pred>
std::vector<json::Match> MatchesOfKind(const json::Path& path, json::Value& root, Pred wanted,
                                       std::vector<bool>* ok) {
  std::vector<json::Match> matches = json::SelectForUpdate(path, root);
  ok->resize(matches.size());
  for (size_t i = 0; i < matches.size(); ++i) (*ok)[i] = wanted(*matches[i].value);
  return matches;
}

// An index into an array of `len` elements as RedisJSON clamps it (JSON.ARRPOP, JSON.ARRTRIM,
// JSON.ARRINDEX's start): negative counts from the end, and out-of-range values clamp to the
// first or last element. Meaningful only for len > 0.
inline int64_t ClampIndex(int64_t i, int64_t len) {
  return i < 0 ? std::max<int64_t>(0, len + i) : std::min(i, len - 1);
}

// Recounts a document's memory after a change whose size is hard to measure locally.
void RecountJson(const storage::Value& v);
// Bytes of a member or element slot added to a container, plus the value's own heap.
int64_t SlotBytes(const json::Value& v, bool object_member);

// ---- JSON.SET's plan, shared with JSON.MSET and JSON.MERGE ----

enum class SetMode { kAny, kNx, kXx };

// What JSON.SET would do at `path` of an existing document, computed before changing anything
// (JSON.MSET checks every triple before writing any).
struct SetPlan {
  std::string error;                 // Non-empty: reply this, change nothing.
  bool replace_root = false;         // The path is the root.
  std::vector<json::Match> replace;  // Existing values to replace (deepest first).
  std::vector<json::Match> add_to;   // Objects that get member `add_key`.
  std::string add_key;
  bool nothing() const { return !replace_root && replace.empty() && add_to.empty(); }
};
// `value` is what will be set: the plan is an error when it would nest the document deeper than
// a parsed document may be.
SetPlan PlanSet(const json::Path& path, json::Value& root, SetMode mode, const json::Value& value);

// True when `v` placed `depth` levels below the root would nest deeper than json::Parse allows
// (deep trees would exhaust the stack of the recursive walks: serialize, clone, free).
bool TooDeep(uint32_t depth, const json::Value& v);

// Applies `plan` to the document of `v`, with `value` (moved into the last target, cloned into
// the others); `merge` merges (RFC 7386) into existing values instead of replacing them.
// Returns whether anything changed.
bool ApplySet(const storage::Value& v, SetPlan& plan, json::Value value, bool merge);

// The families' registrations (json_read_commands.cc, json_write_commands.cc,
// json_array_commands.cc); RegisterJsonCommands (register.h) calls all three.
void RegisterJsonReadCommands(server::CommandTable& table);
void RegisterJsonWriteCommands(server::CommandTable& table);
void RegisterJsonArrayCommands(server::CommandTable& table);

}  // namespace shoal::cmd::jsoncmd
