// The one place that spells error replies. Commands return Status codes; this maps them to
// Redis 7.0's exact wording.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace shoal::protocol {

inline constexpr std::string_view kErrWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kErrSyntax = "ERR syntax error";
inline constexpr std::string_view kErrNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kErrNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kErrOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kErrOutOfRange = "ERR index out of range";
inline constexpr std::string_view kErrNoSuchKey = "ERR no such key";
inline constexpr std::string_view kErrStringTooLong =
    "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kErrDbIndex = "ERR DB index is out of range";
// Writes refused after a failed background save (stop-writes-on-bgsave-error yes).
inline constexpr std::string_view kErrMisconfSave =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB "
    "error.";

// `command_name` is the lower-case name for errors that mention the command.
std::string ErrorText(const Status& status, std::string_view command_name);

std::string WrongArityError(std::string_view command_name);
// "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
std::string UnknownCommandError(std::string_view name, const std::string_view* args, size_t n);
// "ERR unknown subcommand 'foo'. Try CLIENT HELP."
std::string UnknownSubcommandError(std::string_view subcommand, std::string_view command);

// JSON.* errors, in RedisJSON 2.x's words (redis_json/src/{commands,manager}.rs).
inline constexpr std::string_view kErrJsonNoKey =
    "ERR could not perform this operation on a key that doesn't exist";
inline constexpr std::string_view kErrJsonNewAtRoot = "ERR new objects must be created at the root";
inline constexpr std::string_view kErrJsonIndexOutOfBounds = "ERR index out of bounds";
inline constexpr std::string_view kErrJsonArrayIndexOutOfRange = "ERR array index out of range";
inline constexpr std::string_view kErrJsonWrongStaticPath = "Err wrong static path";
inline constexpr std::string_view kErrJsonBadNumber = "bad input number";
inline constexpr std::string_view kErrJsonNotANumber = "result is not a number";
// Shoal's own: a value placed where the document would nest deeper than a parse allows.
inline constexpr std::string_view kErrJsonTooDeep =
    "ERR the JSON document would nest deeper than 127 levels";
// An index argument that is not an integer (redis-module-rs's parse_integer).
inline constexpr std::string_view kErrJsonNotInteger = "Couldn't parse as integer";
// "ERR Path '<path>' does not exist"
std::string JsonPathMissingError(std::string_view path);
// "ERR Path '<path>' does not exist or <what>" (what: "not an array", "not a string"...).
std::string JsonPathMissingOrError(std::string_view path, std::string_view what);
// "WRONGTYPE wrong type of path value - expected <expected> but found <found>"
std::string JsonWrongTypeError(std::string_view expected, std::string_view found);

}  // namespace shoal::protocol
