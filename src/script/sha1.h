// SHA1 as Redis names scripts: 40 lower-case hex digits of the body's digest.
#pragma once

#include <string>
#include <string_view>

namespace shoal::script {

std::string Sha1Hex(std::string_view data);

// `sha` in lower case: EVALSHA and SCRIPT EXISTS match names case-insensitively, as Redis does.
std::string LowerSha(std::string_view sha);

}  // namespace shoal::script
