#include "commands/script_runner.h"

#include <climits>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "common/strings.h"
#include "protocol/errors.h"
#include "protocol/reply_builder.h"
#include "server/command_context.h"
#include "server/command_table.h"
#include "server/server_state.h"
#include "server/thread_state.h"

namespace shoal::cmd {

namespace {

void AppendError(std::string* reply, std::string_view line) {
  reply->push_back('-');
  reply->append(line);
  reply->append("\r\n");
}

// Keyless commands that never leave the shard they run on (no fan-out, no client state).
bool KeylessLocal(const server::CommandSpec& spec) {
  static constexpr std::string_view kLocal[] = {
      "ping",          "echo",         "time",         "lastsave",     "command",
      "command|count", "command|info", "command|docs", "command|list", "command|getkeys",
      "object|help",   "config|help"};
  for (std::string_view name : kLocal) {
    if (spec.name == name) return true;
  }
  return false;
}

}  // namespace

bool LocalRunner::RunsHere(const server::CommandSpec& spec,
                           absl::Span<const std::string_view> argv) const {
  shard::ShardSet& shards = shard_.shard_set();
  if (shards.size() == 1) return true;
  std::vector<int> keys;
  if (!spec.has_keys() || !spec.KeyPositions(argv, &keys)) {
    // No keys, or a malformed key count that the handler rejects before touching data.
    return !spec.has_keys() ? KeylessLocal(spec) : true;
  }
  for (int i : keys) {
    if (shards.OwnerOf(argv[i]) != shard_.id()) return false;
  }
  return true;
}

void LocalRunner::Call(absl::Span<const std::string_view> argv, int resp, std::string* reply) {
  std::string error;
  const server::CommandSpec* spec = script::CheckScriptCall(*this, argv, &error);
  if (spec == nullptr) return AppendError(reply, error);
  protocol::ReplyBuilder out(reply, resp);
  if (spec->name == "select") {
    // The script's own database: Redis 7 leaves the caller's selection alone.
    std::optional<int64_t> id = ParseInt64(argv[1]);
    if (!id || *id < INT_MIN || *id > INT_MAX) return out.Error(protocol::kErrNotInteger);
    if (*id < 0 || *id >= shard_.num_dbs()) return out.Error(protocol::kErrDbIndex);
    db_index_ = static_cast<int>(*id);
    return out.Ok();
  }
  std::vector<std::string_view> nonblocking;
  if (spec->name == "blmpop" || spec->name == "bzmpop") {
    // Nothing may wait inside a script: Redis runs these as if they timed out at once, so they
    // are LMPOP / ZMPOP once the timeout is checked.
    std::optional<long double> timeout = ParseLongDouble(argv[1]);
    if (!timeout) return out.Error("ERR timeout is not a float or out of range");
    if (*timeout < 0) return out.Error("ERR timeout is negative");
    nonblocking.push_back(spec->name == "blmpop" ? "lmpop" : "zmpop");
    nonblocking.insert(nonblocking.end(), argv.begin() + 2, argv.end());
    argv = nonblocking;
    spec = server::GlobalCommandTable().Find(nonblocking[0]);
  }
  if (!RunsHere(*spec, argv)) return out.Error(kErrCrossShard);
  server::CommandContext ctx(spec, argv, &out, &shard_, db_index_, nullptr);
  // The handler itself, not RunCommandHere: clients blocked on keys this call fills must wait
  // for the end of the script (the EVAL serves them), as in Redis, or they would see its middle.
  server::ThreadState& ts = server::ThreadState::Get();
  size_t before = reply->size();
  int64_t start = MonotonicUs();
  spec->handler(ctx);
  server::CommandStat& stat = ts.command_stats[spec];
  stat.calls++;
  stat.usec += MonotonicUs() - start;
  if (reply->size() > before && (*reply)[before] == '-') stat.failed_calls++;
}

}  // namespace shoal::cmd
