// HRANDFIELD and HSCAN (hash_random_scan.cc), registered with the rest of the hash family in
// hash_commands.cc.
#pragma once

#include "server/command_context.h"
#include "storage/hash_object.h"

namespace shoal::cmd {

void HRandField(server::CommandContext& ctx);
void HScan(server::CommandContext& ctx);

// Replies a hash field or value as a bulk string (listpack integers formatted).
void ReplyHashItem(server::CommandContext& ctx, const storage::HashItem& item);

}  // namespace shoal::cmd
