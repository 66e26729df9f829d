#include "commands/helpers.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace shoal::cmd {

ShardGroups GroupByShard(const std::vector<std::string>& keys) {
  ShardGroups g;
  shard::ShardSet& set = *server::ServerState::Get().shards;
  for (size_t i = 0; i < keys.size(); ++i) {
    shard::ShardId owner = set.OwnerOf(keys[i]);
    size_t slot = 0;
    while (slot < g.shards.size() && g.shards[slot] != owner) ++slot;
    if (slot == g.shards.size()) {
      g.shards.push_back(owner);
      g.indexes.emplace_back();
    }
    g.indexes[slot].push_back(i);
  }
  return g;
}

std::vector<std::string> CopyArgs(const CommandContext& ctx, size_t from, size_t step) {
  std::vector<std::string> out;
  for (size_t i = from; i < ctx.argc(); i += step) out.emplace_back(ctx.arg(i));
  return out;
}

std::optional<uint64_t> ParseScanCursor(std::string_view s) {
  std::string copy(s);
  if (!copy.empty() && isspace(static_cast<unsigned char>(copy[0]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  uint64_t v = strtoul(copy.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return std::nullopt;
  return v;
}

}  // namespace shoal::cmd
