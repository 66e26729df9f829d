#include "aof/aof_reader.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>

#include <cstdint>

#include "common/strings.h"

namespace shoal::aof {
namespace {

// Redis's loadSingleAppendOnlyFile distinguishes "Bad file format" (fmterr: the bytes can never
// become a command) from "Unexpected end of file" (uxeof: the bytes are a prefix of one).
// A Scan says which, so every cut of a good file is a truncation and never a format error.
enum class Scan { kOk, kTruncated, kBad };

// A line "<prefix><decimal>\r\n" at `*pos`; on kOk `*pos` moves past it. On kBad `*bad_at` is the
// offset of the first byte that cannot belong to such a line.
Scan ScanNumberLine(std::string_view data, char prefix, size_t* pos, uint64_t max_value,
                    uint64_t* value, size_t* bad_at) {
  size_t p = *pos;
  if (p >= data.size()) return Scan::kTruncated;
  if (data[p] != prefix) {
    *bad_at = p;
    return Scan::kBad;
  }
  ++p;
  uint64_t v = 0;
  size_t digits = 0;
  for (; p < data.size() && absl::ascii_isdigit(static_cast<unsigned char>(data[p])); ++p) {
    v = v * 10 + static_cast<uint64_t>(data[p] - '0');
    if (++digits > 19 || v > max_value) {
      *bad_at = p;
      return Scan::kBad;
    }
  }
  if (p >= data.size()) return Scan::kTruncated;
  if (digits == 0 || data[p] != '\r') {
    *bad_at = p;
    return Scan::kBad;
  }
  if (++p >= data.size()) return Scan::kTruncated;
  if (data[p] != '\n') {
    *bad_at = p;
    return Scan::kBad;
  }
  *value = v;
  *pos = p + 1;
  return Scan::kOk;
}

// One command at `*pos` into `argv`; on kOk `*pos` moves past it.
Scan ScanCommand(std::string_view data, size_t* pos, std::vector<std::string_view>* argv,
                 size_t* bad_at) {
  argv->clear();
  size_t p = *pos;
  uint64_t argc = 0;
  // Redis reads argc with atoi into an int.
  Scan s = ScanNumberLine(data, '*', &p, INT32_MAX, &argc, bad_at);
  if (s != Scan::kOk) return s;
  if (argc == 0) {
    *bad_at = *pos + 1;
    return Scan::kBad;
  }
  for (uint64_t i = 0; i < argc; ++i) {
    uint64_t len = 0;
    s = ScanNumberLine(data, '$', &p, UINT32_MAX, &len, bad_at);
    if (s != Scan::kOk) return s;
    if (len > data.size() - p) return Scan::kTruncated;
    size_t end = p + len;
    // Redis skips these two bytes unchecked; a mismatch there means the lengths are wrong.
    if (end < data.size() && data[end] != '\r') {
      *bad_at = end;
      return Scan::kBad;
    }
    if (end + 1 < data.size() && data[end + 1] != '\n') {
      *bad_at = end + 1;
      return Scan::kBad;
    }
    if (end + 2 > data.size()) return Scan::kTruncated;
    argv->push_back(data.substr(p, len));
    p = end + 2;
  }
  *pos = p;
  return Scan::kOk;
}

}  // namespace

bool StartsWithRdbPreamble(std::string_view data) { return data.substr(0, 5) == "REDIS"; }

Result<AofReadResult> ReadAofCommands(
    std::string_view data, bool load_truncated,
    absl::FunctionRef<Status(const std::vector<std::string_view>& argv)> fn) {
  AofReadResult result;
  if (StartsWithRdbPreamble(data)) {
    result.kind = AofReadResult::Kind::kRdbPreamble;
    return result;
  }
  std::vector<std::string_view> argv;
  size_t pos = 0;
  size_t valid = 0;  // End of the last whole command outside MULTI.
  bool in_multi = false;
  while (pos < data.size()) {
    if (data[pos] == '#') {
      size_t nl = data.find('\n', pos);
      if (nl == std::string_view::npos) {
        // Redis skips a cut annotation and loads the file. The cut line is dropped all the same
        // (even without load_truncated): a command appended after it would join the annotation
        // line and be skipped at the next load.
        if (in_multi) break;
        result.kind = AofReadResult::Kind::kTruncated;
        result.valid_bytes = pos;
        return result;
      }
      pos = nl + 1;
      if (!in_multi) valid = pos;
      continue;
    }
    size_t bad_at = 0;
    Scan s = ScanCommand(data, &pos, &argv, &bad_at);
    if (s == Scan::kBad) {
      return Status::Error(
          absl::StrCat("Bad file format reading the append only file (offset ", bad_at, ")"));
    }
    if (s == Scan::kTruncated) break;
    if (!in_multi && EqualsIgnoreCase(argv[0], "multi")) {
      in_multi = true;
    } else if (in_multi && EqualsIgnoreCase(argv[0], "exec")) {
      in_multi = false;
    }
    Status st = fn(argv);
    if (!st.ok()) return st;
    ++result.commands;
    if (!in_multi) valid = pos;
  }
  if (pos == data.size() && !in_multi) {
    result.valid_bytes = data.size();
    return result;
  }
  // The data ends inside a command or inside MULTI ... without EXEC.
  if (!load_truncated) {
    return Status::Error(absl::StrCat(
        "Unexpected end of file reading the append only file (whole commands end at offset ", valid,
        ")"));
  }
  result.kind = AofReadResult::Kind::kTruncated;
  result.valid_bytes = valid;
  result.reverted_multi = in_multi;
  return result;
}

}  // namespace shoal::aof
