#include "aof/aof_manifest.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/str_format.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace shoal::aof {
namespace {

constexpr size_t kMaxLine = 1024;  // Redis's MANIFEST_MAX_LINE, newline included.

// Redis's sdsneedsrepr: whether a name must be written in quoted form.
bool NeedsQuoting(std::string_view s) {
  for (unsigned char c : s) {
    if (c == '\\' || c == '"' || c < 0x20 || c > 0x7e || c == ' ') return true;
  }
  return s.empty();
}

// Redis's sdscatrepr.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default:
        if (c >= 0x20 && c <= 0x7e) {
          out += static_cast<char>(c);
        } else {
          out += absl::StrFormat("\\x%02x", c);
        }
    }
  }
  out += '"';
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool IsSpace(char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); }

// Splits a line into tokens the way Redis's sdssplitargs does: whitespace separates tokens;
// "..." takes escapes (\xHH \n \r \t \b \a, any other \c is c); '...' takes only \'; a closing
// quote must be followed by whitespace or the end; quotes may start mid-token (a"b c" is "ab c").
// Returns false on unbalanced quotes.
bool SplitArgs(std::string_view line, std::vector<std::string>* out) {
  size_t p = 0;
  const size_t n = line.size();
  while (true) {
    while (p < n && IsSpace(line[p])) ++p;
    if (p >= n) return true;
    std::string cur;
    bool in_dq = false, in_sq = false, done = false;
    while (!done) {
      if (in_dq) {
        if (p >= n) return false;
        if (line[p] == '\\' && p + 3 < n && line[p + 1] == 'x' && HexValue(line[p + 2]) >= 0 &&
            HexValue(line[p + 3]) >= 0) {
          cur += static_cast<char>(HexValue(line[p + 2]) * 16 + HexValue(line[p + 3]));
          p += 3;
        } else if (line[p] == '\\' && p + 1 < n) {
          ++p;
          switch (line[p]) {
            case 'n':
              cur += '\n';
              break;
            case 'r':
              cur += '\r';
              break;
            case 't':
              cur += '\t';
              break;
            case 'b':
              cur += '\b';
              break;
            case 'a':
              cur += '\a';
              break;
            default:
              cur += line[p];
          }
        } else if (line[p] == '"') {
          if (p + 1 < n && !IsSpace(line[p + 1])) return false;
          done = true;
        } else {
          cur += line[p];
        }
      } else if (in_sq) {
        if (p >= n) return false;
        if (line[p] == '\\' && p + 1 < n && line[p + 1] == '\'') {
          ++p;
          cur += '\'';
        } else if (line[p] == '\'') {
          if (p + 1 < n && !IsSpace(line[p + 1])) return false;
          done = true;
        } else {
          cur += line[p];
        }
      } else if (p >= n || line[p] == ' ' || line[p] == '\n' || line[p] == '\r' ||
                 line[p] == '\t' || line[p] == '\0') {
        done = true;
      } else if (line[p] == '"') {
        in_dq = true;
      } else if (line[p] == '\'') {
        in_sq = true;
      } else {
        cur += line[p];
      }
      if (p < n) ++p;
    }
    out->push_back(std::move(cur));
  }
}

// C's atoll, which Redis uses for seq: leading space, a sign, digits; the rest ignored.
int64_t Atoll(std::string_view s) {
  size_t p = 0;
  while (p < s.size() && IsSpace(s[p])) ++p;
  bool neg = false;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) neg = s[p++] == '-';
  int64_t v = 0;
  for (; p < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[p])); ++p) {
    if (v > (INT64_MAX - 9) / 10) break;  // Out of range: atoll is undefined; stop growing.
    v = v * 10 + (s[p] - '0');
  }
  return neg ? -v : v;
}

Status ManifestError(std::string_view what, int linenum) {
  if (linenum == 0) return Status::Error(std::string(what));
  return Status::Error(std::string(what) + " (manifest line " + std::to_string(linenum) + ")");
}

void AppendLine(std::string* buf, const AofFileInfo& f) {
  absl::StrAppend(buf, "file ", NeedsQuoting(f.name) ? Quote(f.name) : f.name, " seq ", f.seq,
                  " type ", std::string(1, static_cast<char>(f.type)), "\n");
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

Status IoError(std::string_view what, const std::string& path) {
  return Status::Error(std::string(what) + " " + path + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Error(std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

std::string AofManifestFileName(std::string_view appendfilename) {
  return std::string(appendfilename) + ".manifest";
}

std::string AofBaseFileName(std::string_view appendfilename, int64_t seq, bool rdb_preamble) {
  return std::string(appendfilename) + "." + std::to_string(seq) + ".base" +
         (rdb_preamble ? ".rdb" : ".aof");
}

std::string AofIncrFileName(std::string_view appendfilename, int64_t seq) {
  return std::string(appendfilename) + "." + std::to_string(seq) + ".incr.aof";
}

std::string AofTempIncrFileName(std::string_view appendfilename) {
  return "temp-" + std::string(appendfilename) + ".incr";
}

std::string AofManifest::Serialize() const {
  std::string out;
  if (base) AppendLine(&out, *base);
  for (const AofFileInfo& f : history) AppendLine(&out, f);
  for (const AofFileInfo& f : incrs) AppendLine(&out, f);
  return out;
}

const std::string& AofManifest::StartNewBase(std::string_view appendfilename, bool rdb_preamble) {
  if (base) {
    base->type = AofFileType::kHistory;
    history.insert(history.begin(), std::move(*base));
  }
  ++base_seq;
  base = AofFileInfo{AofBaseFileName(appendfilename, base_seq, rdb_preamble), base_seq,
                     AofFileType::kBase};
  return base->name;
}

const std::string& AofManifest::AddNewIncr(std::string_view appendfilename) {
  ++incr_seq;
  incrs.push_back({AofIncrFileName(appendfilename, incr_seq), incr_seq, AofFileType::kIncr});
  return incrs.back().name;
}

void AofManifest::MarkRewrittenIncrsAsHistory(bool keep_last) {
  size_t n = incrs.size();
  if (keep_last && n > 0) --n;
  // Prepended oldest last, so history keeps them in seq order ahead of older entries.
  for (size_t i = n; i-- > 0;) {
    AofFileInfo f = incrs[i];
    f.type = AofFileType::kHistory;
    history.insert(history.begin(), std::move(f));
  }
  incrs.erase(incrs.begin(), incrs.begin() + static_cast<ptrdiff_t>(n));
}

std::vector<AofFileInfo> AofManifest::TakeHistory() {
  std::vector<AofFileInfo> out = std::move(history);
  history.clear();
  return out;
}

std::vector<AofFileInfo> AofManifest::FilesToLoad() const {
  std::vector<AofFileInfo> out;
  if (base) out.push_back(*base);
  out.insert(out.end(), incrs.begin(), incrs.end());
  return out;
}

Result<AofManifest> ParseManifest(std::string_view text) {
  AofManifest m;
  int linenum = 0;
  int64_t max_incr_seq = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++linenum;
    if (!raw.empty() && raw[0] == '#') continue;
    // Redis reads lines of at most kMaxLine bytes and wants each to end in '\n'.
    if (nl == std::string_view::npos || raw.size() + 1 > kMaxLine) {
      return ManifestError("The AOF manifest file contains too long line", linenum);
    }
    std::string_view line = raw;
    while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
    while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
    std::vector<std::string> argv;
    if (line.empty() || !SplitArgs(line, &argv) || argv.size() < 6 || argv.size() % 2 != 0) {
      return ManifestError("Invalid AOF manifest file format", linenum);
    }
    AofFileInfo info;
    bool has_name = false;
    char type = 0;
    for (size_t i = 0; i < argv.size(); i += 2) {
      if (EqualsIgnoreCase(argv[i], "file")) {
        info.name = argv[i + 1];
        has_name = true;
        if (info.name.find_first_of("/\\") != std::string::npos) {
          return ManifestError("File can't be a path, just a filename", linenum);
        }
      } else if (EqualsIgnoreCase(argv[i], "seq")) {
        info.seq = Atoll(argv[i + 1]);
      } else if (EqualsIgnoreCase(argv[i], "type")) {
        type = argv[i + 1].empty() ? 0 : argv[i + 1][0];
      }
    }
    if (!has_name || info.name.empty() || info.seq == 0 || type == 0) {
      return ManifestError("Invalid AOF manifest file format", linenum);
    }
    switch (type) {
      case 'b':
        if (m.base) return ManifestError("Found duplicate base file information", linenum);
        info.type = AofFileType::kBase;
        m.base_seq = info.seq;
        m.base = std::move(info);
        break;
      case 'h':
        info.type = AofFileType::kHistory;
        m.history.push_back(std::move(info));
        break;
      case 'i':
        if (info.seq <= max_incr_seq) {
          return ManifestError("Found a non-monotonic sequence number", linenum);
        }
        info.type = AofFileType::kIncr;
        max_incr_seq = m.incr_seq = info.seq;
        m.incrs.push_back(std::move(info));
        break;
      default:
        return ManifestError("Unknown AOF file type", linenum);
    }
  }
  if (linenum == 0) return ManifestError("Found an empty AOF manifest", 0);
  return m;
}

Status WriteManifest(const std::string& dir, const std::string& name, const AofManifest& manifest) {
  const std::string path = JoinPath(dir, name);
  const std::string tmp_path = JoinPath(dir, "temp-" + name);
  int fd = ::open(tmp_path.c_str(), O_WRONLY | O_TRUNC | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("Can't open the AOF manifest file", tmp_path);
  Status st = WriteAll(fd, manifest.Serialize());
  if (!st.ok()) {
    ::close(fd);
    return Status::Error(absl::StrCat("Error trying to write the temporary AOF manifest file ",
                                      tmp_path, ": ", st.message()));
  }
  if (::fsync(fd) != 0) {
    Status err = IoError("Fail to fsync the temp AOF file", tmp_path);
    ::close(fd);
    return err;
  }
  ::close(fd);
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    return IoError("Error trying to rename the temporary AOF manifest file", tmp_path);
  }
  // The rename (and any new AOF file beside it) is durable only once the directory is.
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return IoError("Fail to open AOF directory", dir);
  int rc = ::fsync(dir_fd);
  Status dir_st = rc == 0 ? Status::Ok() : IoError("Fail to fsync AOF directory", dir);
  ::close(dir_fd);
  return dir_st;
}

Result<AofManifest> LoadManifest(const std::string& dir, const std::string& name) {
  const std::string path = JoinPath(dir, name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("Can't open the AOF manifest file", path);
  std::string text;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status err = IoError("Read AOF manifest failed", path);
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ParseManifest(text);
}

}  // namespace shoal::aof
