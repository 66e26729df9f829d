#include "script/registry.h"

namespace shoal::script {

ScriptRegistry& ScriptRegistry::Get() {
  static ScriptRegistry* registry = new ScriptRegistry();  // Never destroyed: threads may outlive.
  return *registry;
}

void ScriptRegistry::Add(const std::string& sha, std::string_view body) {
  std::lock_guard<std::mutex> lock(mu_);
  bodies_.try_emplace(sha, body);
}

std::optional<std::string> ScriptRegistry::Find(std::string_view sha) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bodies_.find(std::string(sha));
  if (it == bodies_.end()) return std::nullopt;
  return it->second;
}

bool ScriptRegistry::Exists(std::string_view sha) const {
  std::lock_guard<std::mutex> lock(mu_);
  return bodies_.contains(std::string(sha));
}

void ScriptRegistry::Flush() {
  absl::flat_hash_map<std::string, std::string> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old.swap(bodies_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  // `old` is freed here, outside the lock.
}

}  // namespace shoal::script
