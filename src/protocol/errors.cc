#include "protocol/errors.h"

#include "common/strings.h"

namespace shoal::protocol {

std::string ErrorText(const Status& status, std::string_view command_name) {
  switch (status.code()) {
    case Code::kOk: return "ERR internal error: OK status sent as an error";
    case Code::kWrongType: return std::string(kErrWrongType);
    case Code::kSyntax: return std::string(kErrSyntax);
    case Code::kNotInteger: return std::string(kErrNotInteger);
    case Code::kNotFloat: return std::string(kErrNotFloat);
    case Code::kOverflow: return std::string(kErrOverflow);
    case Code::kOutOfRange: return std::string(kErrOutOfRange);
    case Code::kNoSuchKey: return std::string(kErrNoSuchKey);
    case Code::kInvalidExpire:
      return "ERR invalid expire time in '" + std::string(command_name) + "' command";
    case Code::kStringTooLong: return std::string(kErrStringTooLong);
    case Code::kDbIndexOutOfRange: return std::string(kErrDbIndex);
    case Code::kCustom: return status.message();
  }
  return "ERR unknown error";
}

std::string WrongArityError(std::string_view command_name) {
  return "ERR wrong number of arguments for '" + AsciiToLower(command_name) + "' command";
}

std::string UnknownCommandError(std::string_view name, const std::string_view* args, size_t n) {
  // As Redis: the quoted arguments are cut once their text (quotes included) reaches 128 bytes.
  std::string quoted;
  for (size_t i = 0; i < n && quoted.size() < 128; ++i) {
    size_t budget = 128 - quoted.size();  // Positive: the loop stops at 128.
    quoted += "'" + CStr(args[i].substr(0, budget)) + "' ";
  }
  return "ERR unknown command '" + CStr(name.substr(0, 128)) +
         "', with args beginning with: " + quoted;
}

std::string UnknownSubcommandError(std::string_view subcommand, std::string_view command) {
  return "ERR unknown subcommand '" + CStr(subcommand.substr(0, 128)) + "'. Try " +
         AsciiToUpper(command) + " HELP.";
}

std::string JsonPathMissingError(std::string_view path) {
  return "ERR Path '" + std::string(path) + "' does not exist";
}

std::string JsonPathMissingOrError(std::string_view path, std::string_view what) {
  return "ERR Path '" + std::string(path) + "' does not exist or " + std::string(what);
}

std::string JsonWrongTypeError(std::string_view expected, std::string_view found) {
  return "WRONGTYPE wrong type of path value - expected " + std::string(expected) +
         " but found " + std::string(found);
}

}  // namespace shoal::protocol
