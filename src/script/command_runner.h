// CommandRunner: how a script's redis.call / redis.pcall reach the keyspace. The Lua engine never
// touches data itself: it hands each call to a runner and turns the runner's raw RESP reply into
// Lua values. Where the command runs (inline on this shard, or on other shards through the
// transaction layer) is the runner's business.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/types/span.h"
#include "script/busy.h"

namespace shoal::server {
struct CommandSpec;
}

namespace shoal::script {

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;
  // argv[0] is the command name. Appends the command's raw RESP reply (protocol `resp`, 2 or 3)
  // to *reply: an error reply ("-ERR ...\r\n") for a command that must not run.
  virtual void Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) = 0;

  // Set by the engine for the length of one script.
  bool read_only = false;            // EVAL_RO, EVALSHA_RO, or a no-writes shebang.
  RunningScript* running = nullptr;  // For the write-vs-SCRIPT KILL race (see busy.h).
  // The script's clock (Unix ms, 0: none): every command it runs sees this time, so no key
  // expires halfway through a script (Redis's script time snapshot). Runners pass it to each
  // call's CommandContext::set_now_ms.
  int64_t now_ms = 0;
};

// Redis's checks on a command called from a script, in Redis's order: known command (and
// subcommand), arity, not flagged noscript, no write from a read-only script, and no write once
// SCRIPT KILL won. Returns the command's spec; or nullptr with *error set to the error line
// ("ERR Unknown Redis command called from script"...). Shared by every runner.
const server::CommandSpec* CheckScriptCall(CommandRunner& runner,
                                           absl::Span<const std::string_view> argv,
                                           std::string* error);

}  // namespace shoal::script
