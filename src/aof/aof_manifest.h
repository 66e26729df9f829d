// The manifest of Redis 7.0's multi-part AOF: which files, in which order, make up the log.
//
// Layout (Redis 7.0 aof.c; `appendfilename` defaults to "appendonly.aof"):
//   <dir>/<appenddirname>/<appendfilename>.manifest       this list
//   <appendfilename>.<seq>.base.rdb | .base.aof            the snapshot of the last rewrite (RDB
//                                                          with aof-use-rdb-preamble, else RESP)
//   <appendfilename>.<seq>.incr.aof                        commands since; several while a
//                                                          rewrite runs or after one failed
// manifest := line*
// line     := '#' comment '\n'                              (skipped)
//           | "file" SP name SP "seq" SP seq SP "type" SP ('b' | 'h' | 'i') '\n'
//   - keys are matched case-insensitively and may come in any order; unknown key/value pairs are
//     ignored (forward compatibility), but there must be at least the 6 tokens, in pairs;
//   - name is a bare file name (no '/'), written in Redis's quoted form ("..." with \" \\ \n \r
//     \t \a \b \xHH escapes) when it holds a space, a quote, a backslash or an unprintable byte;
//     tokens are split as redis-cli splits arguments (sdssplitargs);
//   - seq >= 1; the base comes first, then history (newest rewrite first), then incr files in
//     strictly increasing seq (the last one is the file being appended to);
//   - at most 1024 bytes a line; no empty lines; a file with no line at all is an error.
// b = base, h = history (kept only while aof-disable-auto-gc is on, deleted otherwise),
// i = incr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace shoal::aof {

enum class AofFileType : char { kBase = 'b', kHistory = 'h', kIncr = 'i' };

struct AofFileInfo {
  std::string name;
  int64_t seq = 0;
  AofFileType type = AofFileType::kIncr;
  bool operator==(const AofFileInfo&) const = default;
};

// File names, from `appendfilename` (Redis's getNewBaseFileName... / getNewIncrAofName).
std::string AofManifestFileName(std::string_view appendfilename);  // "appendonly.aof.manifest"
std::string AofBaseFileName(std::string_view appendfilename, int64_t seq, bool rdb_preamble);
std::string AofIncrFileName(std::string_view appendfilename, int64_t seq);
// Where an incr file accumulates while no manifest names it yet (Redis's temp-...incr).
std::string AofTempIncrFileName(std::string_view appendfilename);

struct AofManifest {
  std::optional<AofFileInfo> base;
  std::vector<AofFileInfo> history;
  std::vector<AofFileInfo> incrs;
  // The highest seqs handed out; the next base/incr takes one more.
  int64_t base_seq = 0;
  int64_t incr_seq = 0;

  bool operator==(const AofManifest&) const = default;

  std::string Serialize() const;

  // A new base file (a rewrite's output): the current base, if any, turns into history (at the
  // head of the list, as Redis does). Returns the new base's name.
  const std::string& StartNewBase(std::string_view appendfilename, bool rdb_preamble);
  // A new incr file appended to the list; returns its name.
  const std::string& AddNewIncr(std::string_view appendfilename);
  // After a rewrite succeeded: every incr file but the last (which stays open for appends)
  // becomes history; with keep_last false (AOF off), all of them.
  void MarkRewrittenIncrsAsHistory(bool keep_last);
  // The history files, removed from the list: the caller deletes them (auto GC).
  std::vector<AofFileInfo> TakeHistory();
  // Base then incr files: what a load reads, in order.
  std::vector<AofFileInfo> FilesToLoad() const;
};

// Errors carry Redis's texts ("Invalid AOF manifest file format", "Found duplicate base file
// information", "Found a non-monotonic sequence number", "Unknown AOF file type", "File can't be
// a path, just a filename", "Found an empty AOF manifest", "The AOF manifest file contains too
// long line") followed by the line number.
Result<AofManifest> ParseManifest(std::string_view text);

// Writes <dir>/<name> atomically and durably: "temp-<name>" written and fsynced, renamed over
// <name>, then the directory fsynced (Redis's writeAofManifestFile).
Status WriteManifest(const std::string& dir, const std::string& name, const AofManifest& manifest);

// Reads and parses <dir>/<name>.
Result<AofManifest> LoadManifest(const std::string& dir, const std::string& name);

}  // namespace shoal::aof
