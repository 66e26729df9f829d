#include "script/lua_engine.h"

#include <cstring>
#include <vector>

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include "common/clock.h"
#include "common/logging.h"
#include "script/busy.h"
#include "script/lua_api.h"
#include "script/lua_convert.h"
#include "script/lua_sandbox.h"
#include "script/registry.h"
#include "script/sha1.h"

namespace shoal::script {

namespace {

// Shebang flags ("#!lua flags=no-writes,allow-oom"). A script without a shebang runs in Redis's
// compatibility mode: it may write unless called through *_RO.
constexpr uint32_t kCompatMode = 1 << 0;
constexpr uint32_t kNoWrites = 1 << 1;

constexpr int kHookInstructions = 100000;  // Redis's count hook period.
constexpr int kGcPeriod = 50;              // A GC step every this many scripts, as Redis.
constexpr int64_t kPollIntervalMs = 10;    // How often a busy script lets its thread's clients in.

// Parses a shebang line. Returns false with *error set (Redis's texts) if it is not valid.
// *skip is how much of the body to leave out: the line without its '\n', so line numbers stay.
bool ParseShebang(std::string_view body, uint32_t* flags, size_t* skip, std::string* error) {
  *flags = kCompatMode;
  *skip = 0;
  if (body.substr(0, 2) != "#!") return true;
  size_t eol = body.find('\n');
  if (eol == std::string_view::npos) {
    *error = "ERR Invalid script shebang";
    return false;
  }
  *skip = eol;
  std::vector<std::string> parts;
  std::string_view line = body.substr(0, eol);
  for (size_t i = 0; i < line.size();) {
    size_t end = line.find_first_of(" \t\r", i);
    if (end == std::string_view::npos) end = line.size();
    if (end > i) parts.emplace_back(line.substr(i, end - i));
    i = end + 1;
  }
  if (parts.empty() || parts[0] != "#!lua") {
    *error = "ERR Unexpected engine in script shebang: " + (parts.empty() ? "" : parts[0]);
    return false;
  }
  *flags = 0;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    if (part.substr(0, 6) != "flags=") {
      *error = "ERR Unknown lua shebang option: " + parts[i];
      return false;
    }
    std::string_view list = part.substr(6);
    while (!list.empty()) {
      size_t comma = list.find(',');
      std::string_view flag = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (flag == "no-writes") {
        *flags |= kNoWrites;
      } else if (flag != "allow-oom" && flag != "allow-stale" && flag != "no-cluster" &&
                 flag != "allow-cross-slot-keys") {
        *error = "ERR Unexpected flag in script shebang: " + std::string(flag);
        return false;
      }
    }
  }
  return true;
}

void SetArray(lua_State* L, const char* name, absl::Span<const std::string_view> items) {
  PushRealGlobals(L);
  lua_createtable(L, static_cast<int>(items.size()), 0);
  for (size_t j = 0; j < items.size(); ++j) {
    lua_pushlstring(L, items[j].data(), items[j].size());
    lua_rawseti(L, -2, static_cast<int>(j + 1));
  }
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

// The count hook: marks the script busy past the threshold, and stops it once SCRIPT KILL
// asked. Runs on: the script's thread, inside Lua.
void CountHook(lua_State* L, lua_Debug*) {
  ScriptRun* run = CurrentRun(L);
  if (run == nullptr || run->running == nullptr) return;
  if (ScriptsAborted()) {
    lua_sethook(L, CountHook, LUA_MASKLINE, 0);
    PushErrorTable(L, "ERR Script aborted: the server is shutting down");
    lua_error(L);
  }
  RunningScript* s = run->running;
  if (!s->timed_out() && run->busy_ms > 0 && MonotonicUs() / 1000 - s->start_ms() >= run->busy_ms) {
    SHOAL_LOG(kWarning,
              "Slow script detected: still in execution after %lld milliseconds. You can try "
              "killing the script using the SCRIPT KILL command.",
              static_cast<long long>(MonotonicUs() / 1000 - s->start_ms()));
    BusyScripts::Get().MarkTimedOut(s);
  }
  if (s->timed_out()) {
    // Answer this thread's other clients now and then (BUSY, or SCRIPT KILL for this script).
    thread_local int64_t last_poll_ms = 0;
    int64_t now_ms = MonotonicUs() / 1000;
    BusyPoller poll = GetBusyPoller();
    if (poll != nullptr && now_ms - last_poll_ms >= kPollIntervalMs) {
      last_poll_ms = now_ms;
      poll();
    }
  }
  if (s->killed()) {
    SHOAL_LOG(kWarning, "Lua script killed by user with SCRIPT KILL.");
    // From now on the hook fires on every line, so a pcall cannot swallow the kill for long.
    lua_sethook(L, CountHook, LUA_MASKLINE, 0);
    PushErrorTable(L, kErrKilled);
    lua_error(L);
  }
}

int Panic(lua_State* L) {
  SHOAL_LOG(kWarning, "Lua panic: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
  abort();
}

// Reads field `name` of the table at the top as a string ("" if absent).
// Raw: this runs outside any protected call, where a metamethod's error would abort the process.
std::string StringField(lua_State* L, const char* name, bool* present) {
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  *present = lua_isstring(L, -1);
  std::string out;
  if (*present) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    out.assign(s, len);
  }
  lua_pop(L, 1);
  return out;
}

}  // namespace

LuaEngine& LuaEngine::ThisThread() {
  thread_local LuaEngine engine;
  return engine;
}

LuaEngine::~LuaEngine() {
  if (L_ != nullptr) lua_close(L_);
}

void LuaEngine::Reset() {
  if (L_ != nullptr) lua_close(L_);
  flags_.clear();
  L_ = luaL_newstate();
  lua_atpanic(L_, Panic);
  BuildSandbox(L_);
}

void LuaEngine::EnsureFresh() {
  uint64_t gen = ScriptRegistry::Get().generation();
  if (L_ == nullptr || gen != generation_) {
    generation_ = gen;
    Reset();
  }
}

bool LuaEngine::Prepare(const std::string& sha, std::string_view body, uint32_t* flags,
                        std::string* error) {
  auto it = flags_.find(sha);
  if (it != flags_.end()) {
    *flags = it->second;
    return true;
  }
  size_t skip;
  if (!ParseShebang(body, flags, &skip, error)) return false;
  if (luaL_loadbuffer(L_, body.data() + skip, body.size() - skip, "@user_script") != 0) {
    *error = std::string("ERR Error compiling script (new function): ") + lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return false;
  }
  lua_setfield(L_, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
  flags_.emplace(sha, *flags);
  return true;
}

void LuaEngine::Load(std::string_view body, protocol::ReplyBuilder& out) {
  EnsureFresh();
  std::string sha = Sha1Hex(body);
  uint32_t flags;
  std::string error;
  if (!Prepare(sha, body, &flags, &error)) return out.Error(error);
  ScriptRegistry::Get().Add(sha, body);
  out.Bulk(sha);
}

void LuaEngine::Eval(const EvalRequest& req, CommandRunner& runner, protocol::ReplyBuilder& out) {
  EnsureFresh();
  std::string sha;
  std::string body_copy;  // EVALSHA: the body from the registry, if this VM lacks the function.
  std::string_view body = req.body;
  const bool is_evalsha = req.by_sha;
  if (is_evalsha) {
    sha = LowerSha(req.sha);
    if (sha.size() != 40) return out.Error("NOSCRIPT No matching script. Please use EVAL.");
    if (!flags_.contains(sha)) {
      std::optional<std::string> found = ScriptRegistry::Get().Find(sha);
      if (!found) return out.Error("NOSCRIPT No matching script. Please use EVAL.");
      body_copy = std::move(*found);
      body = body_copy;
    }
  } else {
    sha = Sha1Hex(body);
  }
  uint32_t flags;
  std::string error;
  bool known = flags_.contains(sha);
  if (!Prepare(sha, body, &flags, &error)) return out.Error(error);
  if (!known && !is_evalsha) ScriptRegistry::Get().Add(sha, body);

  if (!(flags & kCompatMode) && !(flags & kNoWrites) && req.ro_command) {
    return out.Error("ERR Can not execute a script with write flag using *_ro command.");
  }
  lua_State* L = L_;
  lua_pushcfunction(L, ErrorHandler);
  lua_getfield(L, LUA_REGISTRYINDEX, ("f_" + sha).c_str());
  SetArray(L, "KEYS", req.keys);
  SetArray(L, "ARGV", req.args);

  RunningScript running(MonotonicUs() / 1000);
  ScriptRun run;
  run.runner = &runner;
  run.running = &running;
  run.busy_ms = req.busy_ms;
  runner.read_only = req.ro_command || (!(flags & kCompatMode) && (flags & kNoWrites));
  runner.running = &running;
  SetCurrentRun(L, &run);
  // Always: even with the threshold off (0), the hook lets shutdown stop the script.
  lua_sethook(L, CountHook, LUA_MASKCOUNT, kHookInstructions);
  BusyScripts::Get().Begin(&running);
  int err = lua_pcall(L, 0, 1, -2);
  BusyScripts::Get().End(&running);
  lua_sethook(L, nullptr, 0, 0);
  runner.running = nullptr;
  if (++calls_ % kGcPeriod == 0) lua_gc(L, LUA_GCSTEP, kGcPeriod);

  if (err != 0) {
    if (!lua_istable(L, -1)) {
      const char* msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
      out.Error("ERR Error running script f_" + sha + ", " + std::string(msg).substr(0, 100));
    } else {
      bool has_msg, has_source, has_line;
      std::string msg = StringField(L, "err", &has_msg);
      std::string source = StringField(L, "source", &has_source);
      std::string line = StringField(L, "line", &has_line);
      // error({}) and the like: Redis 7.0.15 crashes on them; say something useful instead.
      if (!has_msg) msg = "ERR unknown error (an error table without an 'err' string)";
      if (has_line && has_source) msg += " script: " + sha + ", on " + source + ":" + line + ".";
      out.Error(msg);
    }
    lua_pop(L, 1);
  } else {
    PopToReply(L, out, run.resp);
  }
  SetCurrentRun(L, nullptr);
  lua_pop(L, 1);  // The error handler.
}

}  // namespace shoal::script
