// Number parsing and formatting with Redis's exact rules (which strings count as integers,
// how floats print), plus small ASCII helpers used across commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal {

// Redis's string2ll(): optional '-', no '+', no spaces, no leading zeros, no overflow.
std::optional<int64_t> ParseInt64(std::string_view s);
// Like ParseInt64 but for unsigned 64-bit cursors (SCAN).
std::optional<uint64_t> ParseUint64(std::string_view s);
// Redis's string2ld(): strtold over the whole string, no leading space, NaN rejected.
std::optional<long double> ParseLongDouble(std::string_view s);
// Redis's string2d(): strtod over the whole string, no leading space, NaN rejected.
std::optional<double> ParseDouble(std::string_view s);

// Formats like Redis's ll2string.
std::string Int64ToString(int64_t v);
// Redis's ld2string(..., LD_STR_HUMAN): "%.17Lf" with trailing zeros (and a bare '.') removed.
std::string LongDoubleToHumanString(long double v);
// Redis's addReplyDouble text for doubles: "%.17g", with inf/-inf spelled as Redis does.
std::string DoubleToString(double v);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` up to its first NUL byte. Redis formats arguments into error messages with "%s", which
// stops there; errors quoting client input use this to match byte for byte.
inline std::string CStr(std::string_view s) { return std::string(s.substr(0, s.find('\0'))); }
std::string AsciiToLower(std::string_view s);
std::string AsciiToUpper(std::string_view s);

// Largest length of a string that is an integer Redis stores as such (LONG_STR_SIZE - 1).
inline constexpr size_t kMaxInt64Chars = 20;

}  // namespace shoal
