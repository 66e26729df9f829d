// Logging to stderr with a timestamp and level, in the spirit of Redis's log lines:
//   12345:S 23 Nov 2026 09:04:50.123 * message
// Levels follow redis.conf's `loglevel`: debug, verbose, notice, warning.
#pragma once

#include <absl/strings/str_format.h>

#include <string_view>

namespace shoal {

enum class LogLevel { kDebug = 0, kVerbose = 1, kNotice = 2, kWarning = 3 };

// Thread-safe: the level is an atomic and each line is written with a single write(2).
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
bool ParseLogLevel(std::string_view name, LogLevel* out);
std::string_view LogLevelName(LogLevel level);
void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void Log(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (level < GetLogLevel()) return;
  LogLine(level, absl::StrFormat(format, args...));
}

#define SHOAL_LOG(level, ...) ::shoal::Log(::shoal::LogLevel::level, __VA_ARGS__)

}  // namespace shoal
