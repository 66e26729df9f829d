// Transactions: MULTI EXEC DISCARD WATCH UNWATCH. The machinery is in server/multi_exec.h and
// server/atomic_run.h; this file only registers the commands.
#include "commands/register.h"
#include "server/multi_exec.h"

namespace shoal::cmd {

void RegisterTransactionCommands(server::CommandTable& table) {
  using namespace server;
  constexpr uint32_t kControl = kNoScript | kLoading | kStale | kConnectionOnly;
  table.Add({.name = "multi", .arity = 1, .flags = kControl | kFast, .handler = MultiCommand});
  table.Add({.name = "exec", .arity = 1, .flags = kControl, .handler = ExecCommand});
  table.Add({.name = "discard", .arity = 1, .flags = kControl | kFast, .handler = DiscardCommand});
  table.Add({.name = "watch", .arity = -2, .flags = kControl | kFast, .first_key = 1,
             .last_key = -1, .key_step = 1, .handler = WatchCommand});
  table.Add({.name = "unwatch", .arity = 1, .flags = kControl | kFast, .handler = UnwatchCommand});
}

}  // namespace shoal::cmd
