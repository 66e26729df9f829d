#include "script/busy.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include "server/command_table.h"

namespace shoal::script {

namespace {

std::mutex mu;
std::vector<RunningScript*> running;  // Scripts past the threshold. Guarded by mu.

}  // namespace

BusyScripts& BusyScripts::Get() {
  static BusyScripts* scripts = new BusyScripts();
  return *scripts;
}

// Only scripts past the threshold are registered: SCRIPT KILL considers no other, and the
// common case (a script that ends in time) then costs no lock at all.
void BusyScripts::Begin(RunningScript*) {}

void BusyScripts::End(RunningScript* script) {
  if (!script->timed_out_.load()) return;  // Set only by this thread (MarkTimedOut).
  std::lock_guard<std::mutex> lock(mu);
  running.erase(std::remove(running.begin(), running.end(), script), running.end());
  timed_out_count_.fetch_sub(1);
}

void BusyScripts::MarkTimedOut(RunningScript* script) {
  if (script->timed_out_.load()) return;
  std::lock_guard<std::mutex> lock(mu);
  script->timed_out_.store(true);
  running.push_back(script);
  timed_out_count_.fetch_add(1);
}

KillResult BusyScripts::Kill() {
  std::lock_guard<std::mutex> lock(mu);
  bool any = false, unkillable = false;
  for (RunningScript* s : running) {
    // Only a script past the threshold is "busy" (and registered): Redis reads SCRIPT KILL only
    // then (before, the command waits for the script to end and finds nothing to kill).
    int expected = RunningScript::kRunning;
    if (s->state_.compare_exchange_strong(expected, RunningScript::kKilled) ||
        expected == RunningScript::kKilled) {
      any = true;
    } else {
      unkillable = true;
    }
  }
  if (any) return KillResult::kKilled;
  return unkillable ? KillResult::kUnkillable : KillResult::kNotBusy;
}

namespace {
std::atomic<BusyPoller> busy_poller{nullptr};
}  // namespace

namespace {
std::atomic<bool> aborted{false};
}  // namespace

void AbortScriptsForShutdown() { aborted.store(true); }
bool ScriptsAborted() { return aborted.load(std::memory_order_relaxed); }

void SetBusyPoller(BusyPoller poller) { busy_poller.store(poller); }
BusyPoller GetBusyPoller() { return busy_poller.load(std::memory_order_relaxed); }

bool RejectWhileBusy(const server::CommandSpec& spec, std::string* error) {
  if (!BusyScripts::Get().busy()) return false;
  // Redis 7.0's commands flagged allow-busy (COMMAND INFO lists them).
  static constexpr std::string_view kAllowed[] = {
      "auth",     "discard", "function|kill", "function|stats", "hello",   "multi", "quit",
      "replconf", "reset",   "script|kill",   "shutdown",       "unwatch", "watch"};
  for (std::string_view name : kAllowed) {
    if (spec.name == name) return false;
  }
  *error = std::string(kErrBusy);
  return true;
}

}  // namespace shoal::script
