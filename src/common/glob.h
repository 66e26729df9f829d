// Glob-style pattern matching with Redis's KEYS/SCAN MATCH rules:
// '*', '?', '[abc]', '[^abc]', '[a-z]', and '\' escaping the next character.
#pragma once

#include <string_view>

namespace shoal {

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

// True when the pattern matches exactly one string (no special characters), so a lookup can
// replace a scan.
bool GlobIsLiteral(std::string_view pattern);

}  // namespace shoal
