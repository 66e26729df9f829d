// RespParser: bytes in, commands out. Pure: no sockets, no allocation per argument.
//
// Accepts both request forms Redis accepts:
//   multibulk := '*' count CRLF { '$' len CRLF byte[len] CRLF }
//   inline    := token { ' ' token } LF        (tokens split like redis-cli, quotes allowed)
// Errors carry Redis's exact text ("Protocol error: invalid bulk length", ...); after an error
// the connection replies and closes, as Redis does.
//
// The parser is incremental: when a command is incomplete it remembers how far it got, so a
// 1M-argument command arriving in a thousand reads is scanned once, not a thousand times.
// Offsets are relative to the start of the current command, so the caller may move the unread
// bytes (compact its buffer) between calls as long as the command's first byte stays first.
#pragma once

#include <absl/container/inlined_vector.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/limits.h"

namespace shoal::protocol {

using ArgList = absl::InlinedVector<std::string_view, 8>;

enum class ParseState : uint8_t {
  kCommand,   // args holds one command; `consumed` bytes of input belong to it.
  kEmpty,     // A blank inline line or an empty multibulk: `consumed` bytes to skip, no command.
  kNeedMore,  // Incomplete: call again with the same bytes plus more.
  kError,     // Protocol error: error() holds the reply text (without '-' and CRLF).
};

class RespParser {
 public:
  explicit RespParser(int64_t max_bulk_len = kDefaultMaxBulkLen) : max_bulk_len_(max_bulk_len) {}

  // Parses the command at the start of `buf`. On kCommand, `args` views point into `buf`.
  ParseState Parse(std::string_view buf, ArgList* args, size_t* consumed);

  const std::string& error() const { return error_; }
  // When waiting for a large bulk, how many bytes of the buffer the command will span in all;
  // lets the caller size its buffer once instead of growing it repeatedly.
  size_t expected_size() const { return expected_size_; }
  void set_max_bulk_len(int64_t v) { max_bulk_len_ = v; }
  void Reset();

 private:
  ParseState ParseMultibulk(std::string_view buf, ArgList* args, size_t* consumed);
  ParseState ParseInline(std::string_view buf, ArgList* args, size_t* consumed);
  ParseState Fail(std::string message);

  int64_t max_bulk_len_;
  std::string error_;
  // Progress through a partially received multibulk command.
  bool in_multibulk_ = false;
  int64_t bulks_total_ = 0;
  size_t pos_ = 0;                                      // Next unparsed byte.
  // (offset, length) per argument. 32 bits suffice: the query buffer limit is 1 GiB.
  absl::InlinedVector<std::pair<uint32_t, uint32_t>, 8> spans_;
  size_t expected_size_ = 0;
  std::string inline_storage_;  // Inline tokens after unquoting.
  std::vector<std::string> inline_tokens_;
};

// Splits an inline request line the way Redis's sdssplitargs does. Returns false on unbalanced
// quotes.
bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out);

}  // namespace shoal::protocol
