#include "common/glob.h"

#include <cctype>

namespace shoal {
namespace {

char Fold(char c, bool nocase) {
  return nocase ? static_cast<char>(tolower(static_cast<unsigned char>(c))) : c;
}

// Matches a bracket class starting just after '['. Advances `p` past the closing ']' (or to the
// end when unterminated, which Redis treats as a class running to the pattern's end).
bool MatchClass(std::string_view pat, size_t& p, char c, bool nocase) {
  bool negate = false;
  if (p < pat.size() && pat[p] == '^') {
    negate = true;
    ++p;
  }
  bool matched = false;
  while (p < pat.size() && pat[p] != ']') {
    if (pat[p] == '\\' && p + 1 < pat.size()) {
      ++p;
      if (Fold(pat[p], nocase) == Fold(c, nocase)) matched = true;
      ++p;
    } else if (p + 2 < pat.size() && pat[p + 1] == '-') {
      char lo = Fold(pat[p], nocase), hi = Fold(pat[p + 2], nocase), x = Fold(c, nocase);
      if (lo > hi) std::swap(lo, hi);
      if (x >= lo && x <= hi) matched = true;
      p += 3;
    } else {
      if (Fold(pat[p], nocase) == Fold(c, nocase)) matched = true;
      ++p;
    }
  }
  if (p < pat.size()) ++p;  // Skip ']'.
  return negate ? !matched : matched;
}

// Iterative matcher with single-star backtracking: linear in practice and immune to the
// exponential blow-up that recursive matchers show on patterns like "a*a*a*a*b".
bool Match(std::string_view pat, std::string_view str, bool nocase) {
  size_t p = 0, s = 0;
  size_t star_p = std::string_view::npos, star_s = 0;
  while (s < str.size()) {
    if (p < pat.size()) {
      char pc = pat[p];
      if (pc == '*') {
        while (p < pat.size() && pat[p] == '*') ++p;
        if (p == pat.size()) return true;
        star_p = p;
        star_s = s;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++s;
        continue;
      }
      if (pc == '[') {
        size_t q = p + 1;
        if (MatchClass(pat, q, str[s], nocase)) {
          p = q;
          ++s;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pat.size()) {
          if (Fold(pat[p + 1], nocase) == Fold(str[s], nocase)) {
            p += 2;
            ++s;
            continue;
          }
        } else if (Fold(pc, nocase) == Fold(str[s], nocase)) {
          ++p;
          ++s;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    s = ++star_s;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  return Match(pattern, text, nocase);
}

bool GlobIsLiteral(std::string_view pattern) {
  for (char c : pattern) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') return false;
  }
  return true;
}

}  // namespace shoal
