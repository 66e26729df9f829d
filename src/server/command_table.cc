#include "server/command_table.h"

#include <algorithm>
#include <cctype>

namespace shoal::server {

void CommandTable::Add(CommandSpec spec) {
  auto owned = std::make_unique<CommandSpec>(std::move(spec));
  by_name_[owned->name] = owned.get();
  commands_.push_back(std::move(owned));
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char lower[64];
  if (name.size() >= sizeof(lower)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) {
    lower[i] = static_cast<char>(tolower(static_cast<unsigned char>(name[i])));
  }
  auto it = by_name_.find(absl::string_view(lower, name.size()));
  return it == by_name_.end() ? nullptr : it->second;
}

const CommandSpec* CommandTable::FindSub(const CommandSpec& container, std::string_view sub) {
  for (const CommandSpec& s : container.subcommands) {
    std::string_view short_name = std::string_view(s.name).substr(container.name.size() + 1);
    if (short_name.size() != sub.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < sub.size() && eq; ++i) {
      eq = tolower(static_cast<unsigned char>(sub[i])) == short_name[i];
    }
    if (eq) return &s;
  }
  return nullptr;
}

bool CommandSpec::KeyPositions(absl::Span<const std::string_view> args,
                               std::vector<int>* keys) const {
  if (get_keys != nullptr) return get_keys(args, keys);
  if (first_key <= 0) return true;
  int argc = static_cast<int>(args.size());
  int last = last_key < 0 ? argc + last_key : std::min(last_key, argc - 1);
  for (int i = first_key; i <= last && i < argc; i += key_step) keys->push_back(i);
  return true;
}

CommandTable& GlobalCommandTable() {
  static CommandTable* table = new CommandTable();
  return *table;
}

}  // namespace shoal::server
