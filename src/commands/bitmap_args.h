// What the bitmap commands (bitmap_commands.cc) and BITFIELD (bitfield_command.cc) share: bit
// offset parsing and the write lookup that pads a string out to a bit.
#pragma once

#include <cstdint>
#include <string_view>

#include "commands/helpers.h"
#include "server/command_table.h"

namespace shoal::cmd {

inline constexpr std::string_view kErrBitOffset =
    "ERR bit offset is not an integer or out of range";

// Compares an option the way Redis's strcasecmp does: the argument ends at its first NUL byte.
inline bool OptionIs(std::string_view arg, std::string_view word) {
  return EqualsIgnoreCase(arg.substr(0, arg.find('\0')), word);
}

// Redis's getBitOffsetFromArgument: a non-negative integer whose byte lies below
// proto-max-bulk-len. With `hash`, "#N" means N * `bits` (BITFIELD's field-numbered offsets).
// Replies the error and returns false otherwise.
bool ParseBitOffset(CommandContext& ctx, std::string_view arg, bool hash, int bits,
                    uint64_t* offset);

// Redis's lookupStringForBitCommand: the bytes of the string at `key`, created (empty) if missing,
// zero-padded to cover bit `max_bit`, and unshared (reported "raw", as Redis does). Replies
// WRONGTYPE and returns nullptr if the key holds another type. *size receives the length.
char* StringForBitWrite(CommandContext& ctx, std::string_view key, uint64_t max_bit, size_t* size);

// BITFIELD and BITFIELD_RO (bitfield_command.cc).
void RegisterBitfieldCommands(server::CommandTable& table);

}  // namespace shoal::cmd
