// Status and Result<T>: errors as values. Nothing on the data path throws.
//
// A Code names a class of failure; protocol/errors.h maps each one to Redis's exact error text,
// so commands return codes and never spell error strings themselves (kCustom carries a message
// for the rare error that has no code of its own).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace shoal {

enum class Code : uint8_t {
  kOk,
  kWrongType,        // WRONGTYPE Operation against a key holding the wrong kind of value
  kSyntax,           // ERR syntax error
  kNotInteger,       // ERR value is not an integer or out of range
  kNotFloat,         // ERR value is not a valid float
  kOverflow,         // ERR increment or decrement would overflow
  kOutOfRange,       // ERR index out of range
  kNoSuchKey,        // ERR no such key
  kInvalidExpire,    // ERR invalid expire time in '<cmd>' command
  kStringTooLong,    // ERR string exceeds maximum allowed size (proto-max-bulk-len)
  kDbIndexOutOfRange,// ERR DB index is out of range
  kCustom,           // message() holds the complete error line (without the leading '-')
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  explicit Status(Code code) : code_(code) {}
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status WrongType() { return Status(Code::kWrongType); }
  static Status Syntax() { return Status(Code::kSyntax); }
  static Status NotInteger() { return Status(Code::kNotInteger); }
  static Status NotFloat() { return Status(Code::kNotFloat); }
  static Status Overflow() { return Status(Code::kOverflow); }
  static Status OutOfRange() { return Status(Code::kOutOfRange); }
  static Status NoSuchKey() { return Status(Code::kNoSuchKey); }
  static Status StringTooLong() { return Status(Code::kStringTooLong); }
  // `line` is the whole error as sent, e.g. "ERR value is out of range, must be positive".
  static Status Error(std::string line) { return Status(Code::kCustom, std::move(line)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// A T or a non-OK Status, in the spirit of absl::StatusOr.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like StatusOr.
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  Result(Code code) : v_(Status(code)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace shoal
