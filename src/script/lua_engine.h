// LuaEngine: one Lua 5.1 VM per thread (created on first use), running scripts as Redis 7.0 does.
//
// A script is compiled once per VM and kept in the VM's registry as "f_<sha>"; its body comes
// from EVAL or, for EVALSHA, from the process-wide ScriptRegistry. SCRIPT FLUSH bumps the
// registry's generation and each VM rebuilds itself before its next script.
//
// Running a script: KEYS and ARGV are set, a count hook watches the time (busy.h), the function
// runs under an error handler that records where an error happened, and the result is converted
// to the caller's protocol (lua_convert.h). Every redis.call goes to the CommandRunner.
//
// Thread: a VM is used only by its own thread; scripts on different threads run in parallel.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "protocol/reply_builder.h"
#include "script/command_runner.h"

struct lua_State;

namespace shoal::script {

struct EvalRequest {
  bool by_sha = false;  // EVALSHA: `sha` names the script; else `body` is the script.
  std::string_view body;
  std::string_view sha;  // As given (any case).
  absl::Span<const std::string_view> keys;
  absl::Span<const std::string_view> args;
  bool ro_command = false;  // EVAL_RO / EVALSHA_RO.
  int64_t busy_ms = 5000;   // busy-reply-threshold; 0 disables the check.
};

class LuaEngine {
 public:
  static LuaEngine& ThisThread();
  ~LuaEngine();

  // Runs a script and writes its reply (or error) to `out`.
  void Eval(const EvalRequest& req, CommandRunner& runner, protocol::ReplyBuilder& out);
  // SCRIPT LOAD: compiles and registers `body`; replies its sha or the compile error.
  void Load(std::string_view body, protocol::ReplyBuilder& out);

 private:
  LuaEngine() = default;
  void EnsureFresh();
  void Reset();
  // Makes f_<sha> exist in this VM. False with *error set (the whole reply line) if it cannot.
  bool Prepare(const std::string& sha, std::string_view body, uint32_t* flags, std::string* error);

  lua_State* L_ = nullptr;
  uint64_t generation_ = 0;
  absl::flat_hash_map<std::string, uint32_t> flags_;  // sha -> shebang flags, per compiled script.
  uint64_t calls_ = 0;
};

}  // namespace shoal::script
