// Inline request splitting, following the rules of Redis's sdssplitargs():
// tokens separated by whitespace; "double quotes" understand \n \r \t \b \a \\ \" and \xHH;
// 'single quotes' understand only \'; a closing quote must be followed by space or the end.
#include <cctype>

#include "protocol/resp_parser.h"

namespace shoal::protocol {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<std::string>* out) {
  size_t i = 0, n = line.size();
  while (true) {
    while (i < n && isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= n) return true;
    std::string token;
    bool in_dq = false, in_sq = false;
    while (true) {
      if (in_dq) {
        if (i >= n) return false;  // Unterminated double quote.
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && HexValue(line[i + 2]) >= 0 &&
            HexValue(line[i + 3]) >= 0) {
          token.push_back(static_cast<char>(HexValue(line[i + 2]) * 16 + HexValue(line[i + 3])));
          i += 4;
        } else if (line[i] == '\\' && i + 1 < n) {
          char c = line[i + 1];
          switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'a': c = '\a'; break;
            default: break;
          }
          token.push_back(c);
          i += 2;
        } else if (line[i] == '"') {
          // The closing quote must be followed by a space or the end of the line.
          if (i + 1 < n && !isspace(static_cast<unsigned char>(line[i + 1]))) return false;
          ++i;
          break;
        } else {
          token.push_back(line[i++]);
        }
      } else if (in_sq) {
        if (i >= n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          token.push_back('\'');
          i += 2;
        } else if (line[i] == '\'') {
          if (i + 1 < n && !isspace(static_cast<unsigned char>(line[i + 1]))) return false;
          ++i;
          break;
        } else {
          token.push_back(line[i++]);
        }
      } else {
        if (i >= n) break;
        char c = line[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
          ++i;
          break;
        }
        if (c == '"') {
          in_dq = true;
        } else if (c == '\'') {
          in_sq = true;
        } else {
          token.push_back(c);
        }
        ++i;
      }
    }
    out->push_back(std::move(token));
  }
}

}  // namespace shoal::protocol
