// Busy scripts: Redis's lua-time-limit / busy-reply-threshold, SCRIPT KILL and the BUSY reply.
//
// A script runs on one shard thread and cannot be interrupted by anyone but itself: its Lua VM
// calls a count hook every 100,000 instructions (lua_engine.cc). Past the threshold the hook
// marks the script timed out here, process-wide; from then on every connection thread refuses
// commands Redis refuses while a script is busy (RejectWhileBusy), and SCRIPT KILL, run on any
// connection thread, asks the script to stop. The script's own thread notices the request at
// its next hook and raises Redis's "Script killed by user with SCRIPT KILL..." error.
//
// A script that already wrote cannot be killed (its writes would be half applied). The
// running/wrote/killed decision is one atomic per script, so that a kill and a write racing
// each other settle on exactly one outcome: either the kill wins and the write never runs, or
// the write wins and SCRIPT KILL replies UNKILLABLE.
//
// Thread: every function here is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace shoal::server {
struct CommandSpec;
}

namespace shoal::script {

// One script in execution. Owned by the thread running it, registered here while it runs.
class RunningScript {
 public:
  explicit RunningScript(int64_t start_ms) : start_ms_(start_ms) {}
  int64_t start_ms() const { return start_ms_; }

  // Runs on: the script's thread, before a write command. False if the script was killed: the
  // write must not run.
  bool MarkWrite() {
    int expected = kRunning;
    return state_.compare_exchange_strong(expected, kWrote) || expected == kWrote;
  }
  bool killed() const { return state_.load(std::memory_order_acquire) == kKilled; }
  bool timed_out() const { return timed_out_.load(std::memory_order_acquire); }

 private:
  friend class BusyScripts;
  enum : int { kRunning, kWrote, kKilled };
  const int64_t start_ms_;
  std::atomic<int> state_{kRunning};
  std::atomic<bool> timed_out_{false};
};

enum class KillResult { kKilled, kNotBusy, kUnkillable };

class BusyScripts {
 public:
  static BusyScripts& Get();

  // The script's thread, when it starts and when it ends (whatever the outcome). Lock-free
  // unless the script went past the threshold.
  void Begin(RunningScript* script);
  void End(RunningScript* script);
  // The script's thread, from its hook, once the threshold has passed. Idempotent.
  void MarkTimedOut(RunningScript* script);

  // True while some script is past the threshold. One relaxed load: the dispatcher asks this
  // for every command.
  bool busy() const { return timed_out_count_.load(std::memory_order_relaxed) > 0; }

  // SCRIPT KILL: stops every timed-out script that has not written.
  KillResult Kill();

 private:
  std::atomic<int> timed_out_count_{0};
};

// While its script is busy, the script's own thread serves nothing else, so its hook calls this
// (at most every 10 ms) to let the net layer answer that thread's other connections: BUSY to
// most commands, SCRIPT KILL honoured. Set once at start-up (main); null: nobody is polled.
using BusyPoller = void (*)();
void SetBusyPoller(BusyPoller poller);
BusyPoller GetBusyPoller();

// Shutdown (SHUTDOWN, SIGTERM): every running script stops at its next hook, written or not,
// so that its thread can end; as in Redis, a busy script does not hold the server up. Whoever
// persists data at shutdown must not rely on a script having completed.
void AbortScriptsForShutdown();
bool ScriptsAborted();

// Redis refuses most commands while a script is busy. Returns true and sets *error to the reply
// line when `spec` must be refused now.
bool RejectWhileBusy(const server::CommandSpec& spec, std::string* error);

inline constexpr std::string_view kErrBusy =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
inline constexpr std::string_view kErrNotBusy = "NOTBUSY No scripts in execution right now.";
inline constexpr std::string_view kErrUnkillable =
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
    "NOSAVE command.";
inline constexpr std::string_view kErrKilled = "Script killed by user with SCRIPT KILL...";

}  // namespace shoal::script
