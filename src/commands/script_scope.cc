#include "commands/script_scope.h"

#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "commands/helpers.h"
#include "script/sha1.h"
#include "server/server_state.h"

namespace shoal::cmd {

namespace {

struct Proven {
  std::mutex mu;
  absl::flat_hash_set<std::string> shas;  // Guarded by mu.
};

Proven& TheProven() {
  static Proven* p = new Proven();
  return *p;
}

}  // namespace

std::string ScriptShaOf(absl::Span<const std::string_view> args) {
  if (args.size() < 2) return {};
  bool by_sha = args[0].size() >= 7 && ArgIs(args[0].substr(0, 7), "evalsha");
  return by_sha ? script::LowerSha(args[1]) : script::Sha1Hex(args[1]);
}

bool ScriptProven(std::string_view sha) {
  Proven& p = TheProven();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.shas.contains(absl::string_view(sha.data(), sha.size()));
}

void ProveScript(std::string_view sha) {
  Proven& p = TheProven();
  std::lock_guard<std::mutex> lock(p.mu);
  p.shas.insert(std::string(sha));
}

void UnproveScript(std::string_view sha) {
  Proven& p = TheProven();
  std::lock_guard<std::mutex> lock(p.mu);
  p.shas.erase(absl::string_view(sha.data(), sha.size()));
}

void ForgetProvenScripts() {
  Proven& p = TheProven();
  std::lock_guard<std::mutex> lock(p.mu);
  p.shas.clear();
}

bool ScriptNeedsAllShards(absl::Span<const std::string_view> args) {
  if (server::ServerState::Get().shards->size() == 1) return false;
  return !ScriptProven(ScriptShaOf(args));
}

}  // namespace shoal::cmd
