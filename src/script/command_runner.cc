#include "script/command_runner.h"

#include "server/command_table.h"

namespace shoal::script {

const server::CommandSpec* CheckScriptCall(CommandRunner& runner,
                                           absl::Span<const std::string_view> argv,
                                           std::string* error) {
  const server::CommandSpec* spec = server::GlobalCommandTable().Find(argv[0]);
  // A container with a subcommand resolves to the subcommand; alone, it is checked as itself
  // (its arity then fails), as Redis's lookupCommand does.
  if (spec != nullptr && spec->is_container() && argv.size() >= 2) {
    spec = server::CommandTable::FindSub(*spec, argv[1]);
  }
  if (spec == nullptr) {
    *error = "ERR Unknown Redis command called from script";
    return nullptr;
  }
  if (!spec->ArityOk(argv.size())) {
    *error = "ERR Wrong number of args calling Redis command from script";
    return nullptr;
  }
  if (spec->flags & server::kNoScript) {
    *error = "ERR This Redis command is not allowed from script";
    return nullptr;
  }
  if (spec->flags & server::kWrite) {
    if (runner.read_only) {
      *error = "ERR Write commands are not allowed from read-only scripts.";
      return nullptr;
    }
    if (runner.running != nullptr && !runner.running->MarkWrite()) {
      *error = "ERR " + std::string(kErrKilled);
      return nullptr;
    }
  }
  return spec;
}

}  // namespace shoal::script
