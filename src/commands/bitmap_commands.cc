// Placeholder: this family lands with issue 3.
#include "commands/register.h"

namespace shoal::cmd {

void RegisterBitmapCommands(server::CommandTable& table) {}

}  // namespace shoal::cmd
