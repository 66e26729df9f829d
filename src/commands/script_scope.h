// ScriptScope: which scripts are known to touch only the keys they declare.
//
// Redis lets a script touch any key; libraries such as BullMQ and Sidekiq build key names inside
// their scripts. Shoal cannot know beforehand, so a script's first run (per sha, per process)
// holds every shard (a transaction over the whole keyspace, run from the client's thread). If
// that run touched only declared keys, the sha is "proven" and later runs lock only their
// declared keys: on one shard they run right there, across shards under a transaction over just
// those keys. A proven script that later touches an undeclared key on another shard gets an
// error for that call and loses its proof: its next run holds every shard again.
//
// Thread-safe: metadata shared by all shard threads, behind a mutex.
#pragma once

#include <string>
#include <string_view>

#include "absl/types/span.h"

namespace shoal::cmd {

inline constexpr std::string_view kErrUndeclaredKey =
    "ERR Shoal: the script touched a key it did not declare, on another shard; it will run "
    "holding every shard from now on: run it again";

// The lower-case sha an EVAL-family call runs (SHA1 of the body for EVAL / EVAL_RO).
std::string ScriptShaOf(absl::Span<const std::string_view> args);

bool ScriptProven(std::string_view sha);
void ProveScript(std::string_view sha);
void UnproveScript(std::string_view sha);
void ForgetProvenScripts();  // SCRIPT FLUSH.

// CommandSpec::lock_all for EVAL and friends: true unless the script is proven (or there is one
// shard, where every key is local anyway).
bool ScriptNeedsAllShards(absl::Span<const std::string_view> args);

}  // namespace shoal::cmd
