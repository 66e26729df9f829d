// ScriptRegistry: the process-wide script cache, sha -> body. SCRIPT LOAD and EVAL add to it,
// EVALSHA and SCRIPT EXISTS read it, SCRIPT FLUSH empties it.
//
// It is metadata, not keyspace: a mutex is enough. Each shard thread has its own Lua VM (see
// lua_engine.h) that compiles bodies from here on first use; FLUSH bumps `generation` so that
// every VM throws its compiled functions away (Redis recreates its one VM) before its next script.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace shoal::script {

class ScriptRegistry {
 public:
  static ScriptRegistry& Get();

  // `sha` is lower case.
  void Add(const std::string& sha, std::string_view body);
  std::optional<std::string> Find(std::string_view sha) const;
  bool Exists(std::string_view sha) const;
  void Flush();
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::string> bodies_;  // Guarded by mu_.
  std::atomic<uint64_t> generation_{0};
};

}  // namespace shoal::script
