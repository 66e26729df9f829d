// CommandTable: every command Shoal knows, as data: name, arity, flags, key positions, and the
// functions that run it. Dispatch, COMMAND, INFO commandstats and the HTTP front end all read it.
//
// Where a command runs is decided from its key positions:
//   - no keys: `handler` runs on the connection's thread (PING, CLIENT, INFO...);
//   - all keys owned by one shard: `handler` runs on that shard, inline if it is the
//     connection's own, else batched into a hop to it;
//   - keys on several shards: either the command is split into one part per owner shard, each
//     part the same command over that shard's keys, with the parts' replies merged (MGET, MSET,
//     DEL a b c: see `split`), or its `coordinator` runs on the connection's thread and fans out
//     to the owners (RENAME, COPY, MSETNX across shards...). A command whose keys may span
//     shards must have one or the other.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"

namespace shoal::server {

class CommandContext;
using CommandHandler = void (*)(CommandContext&);
// For commands whose keys are counted by an argument (ZUNIONSTORE dst numkeys k..., LMPOP
// numkeys k..., BLPOP k... timeout): appends the key positions in `args` (args[0] is the name).
// Returns false when the count is malformed; the command then runs on the connection's thread
// with no keys, and its handler must reply the error before touching any data.
using KeysFn = bool (*)(absl::Span<const std::string_view> args, std::vector<int>* keys);

enum CommandFlag : uint32_t {
  kWrite = 1 << 0,
  kReadOnly = 1 << 1,
  kFast = 1 << 2,
  kAdmin = 1 << 3,
  kDenyOom = 1 << 4,
  kNoScript = 1 << 5,
  kLoading = 1 << 6,
  kStale = 1 << 7,
  kNoMulti = 1 << 8,
  // Runs on the connection thread even if it names keys (it needs the client, e.g. OBJECT HELP).
  kConnectionOnly = 1 << 9,
  kNoAuth = 1 << 10,  // Allowed before AUTH when requirepass is set.
};

// How the per-shard parts of a split multi-key command combine into its reply (see Dispatcher).
enum class SplitMerge : uint8_t {
  kNone,          // Not split: keys on several shards go to the coordinator.
  kAllOk,         // Every part replies +OK (MSET).
  kSumIntegers,   // Parts reply integers; the reply is their sum (DEL, EXISTS, TOUCH, UNLINK).
  kArrayByKey,    // Parts reply one array element per key, merged back in key order (MGET).
};

struct CommandSpec {
  std::string name{};  // Lower case. Subcommands are named "container|sub".
  int arity = 0;     // N: exactly N args (name included); -N: at least N.
  uint32_t flags = 0;
  int first_key = 0;  // 0: no keys.
  int last_key = 0;   // Negative counts from the end: -1 is the last argument.
  int key_step = 0;
  CommandHandler handler = nullptr;
  CommandHandler coordinator = nullptr;
  // A multi-key command whose keys span shards may instead be split into one part per shard,
  // each the same command over that shard's keys, run inside the client's pipeline run.
  SplitMerge split = SplitMerge::kNone;
  // Replaces first/last/step (which then describe only what COMMAND INFO reports) when set.
  KeysFn get_keys = nullptr;
  // Scripts: true when this call must run holding every shard (its keys may not all be declared).
  // The call then goes to `coordinator` under a transaction over the whole keyspace. Commands
  // with this set lock their declared keys exclusively unless flagged read-only.
  bool (*lock_all)(absl::Span<const std::string_view> args) = nullptr;
  std::vector<CommandSpec> subcommands{};  // Non-empty for containers (CLIENT, CONFIG...).

  bool is_container() const { return !subcommands.empty(); }
  // Adds the subcommand "<name>|<sub>". `key` is the position of its single key, 0 for none.
  void AddSubcommand(std::string_view sub, int sub_arity, uint32_t sub_flags, CommandHandler h,
                     int key = 0) {
    subcommands.push_back(CommandSpec{.name = name + "|" + std::string(sub), .arity = sub_arity,
                                      .flags = sub_flags, .first_key = key, .last_key = key,
                                      .key_step = key > 0 ? 1 : 0, .handler = h});
  }
  bool has_keys() const { return first_key > 0 || get_keys != nullptr; }
  // Does it need its keys exclusively? Writes do; so do scripts (EVAL carries no write flag, as
  // in Redis, but may write) unless read-only.
  bool LocksExclusively() const {
    return lock_all != nullptr ? (flags & kReadOnly) == 0 : (flags & kWrite) != 0;
  }
  // The key positions of a call with `args` (args[0] is the name): by get_keys when set, else by
  // first/last/step. Returns false when get_keys finds the key count malformed.
  bool KeyPositions(absl::Span<const std::string_view> args, std::vector<int>* keys) const;
  bool ArityOk(size_t argc) const {
    return arity >= 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
  }
};

class CommandTable {
 public:
  // REQUIRES: no command with the same name is registered.
  void Add(CommandSpec spec);

  // Looks up by name, case-insensitively. Returns nullptr if unknown.
  const CommandSpec* Find(std::string_view name) const;
  // Looks up a subcommand of `container`, case-insensitively.
  static const CommandSpec* FindSub(const CommandSpec& container, std::string_view sub);

  const std::vector<std::unique_ptr<CommandSpec>>& all() const { return commands_; }
  size_t size() const { return commands_.size(); }

 private:
  std::vector<std::unique_ptr<CommandSpec>> commands_;
  absl::flat_hash_map<std::string, const CommandSpec*> by_name_;
};

// The process-wide table, filled once at start-up (RegisterAllCommands) and read-only after.
CommandTable& GlobalCommandTable();

}  // namespace shoal::server
