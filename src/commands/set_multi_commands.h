// The set commands over several keys (SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
// SDIFFSTORE SMOVE), registered with the rest of the family by RegisterSetCommands.
#pragma once

#include "server/command_table.h"

namespace shoal::cmd {

void RegisterSetMultiKeyCommands(server::CommandTable& table);

}  // namespace shoal::cmd
