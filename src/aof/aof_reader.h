// Reading one append-only file: the RESP commands Redis 7.0 appends, as its
// loadSingleAppendOnlyFile reads them.
//
// aof file     := rdb-preamble? entry*
// entry        := annotation | command
// annotation   := '#' byte* '\n'                  (e.g. "#TS:1700000000\r\n"; skipped)
// command      := '*' argc: decimal>=1 "\r\n" ( '$' len: decimal "\r\n" byte[len] "\r\n" ){argc}
// rdb-preamble := an RDB file ("REDIS0010..."): a BASE file written with aof-use-rdb-preamble,
//                 or an old single-file AOF whose RDB head is followed by commands.
//
// The reader only splits bytes into argument vectors; the caller runs them. Like Redis's fake
// AOF client, the caller must queue the commands between MULTI and EXEC and run them at EXEC:
// a MULTI left open at the end of the file is then never run.
#pragma once

#include <absl/functional/function_ref.h>

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shoal::aof {

// True if `data` begins with an RDB file rather than commands ("REDIS" magic, as Redis checks).
bool StartsWithRdbPreamble(std::string_view data);

struct AofReadResult {
  enum class Kind {
    kComplete,     // Every byte was read: whole commands, no MULTI left open.
    kTruncated,    // load_truncated: the file ends early; keep only [0, valid_bytes).
    kRdbPreamble,  // The data starts with an RDB file: nothing was read (see above).
  };
  Kind kind = Kind::kComplete;
  // The prefix made of whole commands with no MULTI left open: data.size() when complete; when
  // truncated, where the caller cuts the file (Redis truncates the file there too).
  size_t valid_bytes = 0;
  // Commands handed to `fn` (annotations not counted).
  size_t commands = 0;
  // kTruncated because the file ended inside MULTI ... (no EXEC): Redis logs
  // "Revert incomplete MULTI/EXEC transaction in AOF file <name>" then.
  bool reverted_multi = false;
};

// Calls `fn` with each command's arguments, in file order; the views point into `data` and live
// only for the call. A non-OK status from `fn` stops the read and is returned as is.
//
// Errors (the caller prefixes the file name, as Redis's log lines do):
// - a malformed byte before the end: "Bad file format reading the append only file (offset N)";
// - the data ends inside a command, or inside MULTI without EXEC, and !load_truncated:
//   "Unexpected end of file reading the append only file (offset N)". With load_truncated the
//   same file gives kTruncated and valid_bytes instead: at the end of the last whole command, or
//   at the MULTI that opened an unfinished transaction (the whole transaction is dropped; Redis
//   7.0 drops it too but, when the cut falls inside a command of the transaction, truncates after
//   the last whole queued command instead, leaving an open MULTI in the file).
Result<AofReadResult> ReadAofCommands(
    std::string_view data, bool load_truncated,
    absl::FunctionRef<Status(const std::vector<std::string_view>& argv)> fn);

}  // namespace shoal::aof
