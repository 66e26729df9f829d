// JSON paths as RedisJSON 2.x parses and evaluates them: JSONPath ("$...") and the legacy
// dot path (".a.b", "a[0]", ".").
//
// A text is JSONPath when it starts with '$' followed by nothing, '.' or '['; anything else is
// a legacy path, turned into JSONPath the way RedisJSON does ("." -> "$", ".a" -> "$.a",
// "a" -> "$.a") and then parsed by the same grammar. Legacy paths reply with a single value
// (the first match) while JSONPath replies with an array of all matches: commands read
// is_legacy() to choose.
//
// Supported steps: .name  ['name']  ["a","b"] (union)  [0]  [-1]  [0,2] (union)  [*]  .*
//   [start:end:step] with any part omitted  ..name  ..*  ..[...] (recursive descent)
//   [?(filter)] or [?filter] with ==, !=, <, <=, >, >=, =~ (regex, searched anywhere in the
//   string), &&, || (&& binds tighter), parentheses, ! (negation), terms @, @.a.b, @['a'][0],
//   $.x (from the root), numbers (-1, 2.5), 'strings', "strings", true, false, null; a term
//   alone tests that the relative path has exactly one match.
// Semantics follow RedisJSON's json_path crate, quirks included: an index beyond the end
// matches nothing, a negative index before the start clamps to 0, a filter on an object tests
// its member values, a filter on a scalar selects nothing, and comparisons between different
// types (or with arrays/objects) are false (== on two paths compares deep values). Regex
// patterns use ECMAScript syntax (std::regex) with Rust-style leading inline flags (?i) and
// (?m) translated; a pattern that does not compile matches nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "json/value.h"

namespace shoal::json {

struct PathStep;  // path_internal.h: the parsed steps, private to the path engine

class Path {
 public:
  // Parses a path. Syntax errors are Status::Error with RedisJSON's text:
  //   Error occurred on position 4, "$.a. <<<<----", expected one of the following: <string>, '*'.
  //   Error occurred on position 3, "$.a ---->>>> ]", expected one of the following: EOI, '..'.
  // The format and the position are pest's (RedisJSON's parser generator); the list of expected
  // tokens matches pest's for the common mistakes above and is close for the rest.
  // For a legacy path the position and the quoted text are those of the converted path.
  static Result<Path> Parse(std::string_view text);

  Path();
  Path(Path&&) noexcept;
  Path& operator=(Path&&) noexcept;
  Path(const Path&);
  Path& operator=(const Path&);
  ~Path();

  bool is_legacy() const { return legacy_; }
  // At most one match: every step is a member name or a single index (RedisJSON's is_static).
  bool is_static() const { return static_; }
  // No steps: "$" or ".". Matches the whole document.
  bool is_root() const;
  // The text as given, and as JSONPath (equal unless legacy).
  const std::string& original() const { return original_; }
  const std::string& jsonpath() const { return jsonpath_; }
  size_t step_count() const;

  // The last step when it is a single member name (.name, ['name'], ["name"]); nullopt
  // otherwise. JSON.SET creates a new member only for such a path (see ParentPath()).
  std::optional<std::string> last_name() const;
  // The last step when it is a single index ([3], [-1]); nullopt otherwise.
  std::optional<int64_t> last_index() const;
  // This path without its last step (the root path for a one-step path); for JSON.SET, whose
  // new member goes into the objects ParentPath() matches.
  Path ParentPath() const;

 private:
  friend struct PathEvaluator;
  std::string original_;
  std::string jsonpath_;
  std::vector<PathStep> steps_;
  bool legacy_ = false;
  bool static_ = true;
};

// A match with its location, for changing the document in place.
struct Match {
  Value* value;    // the matched value
  Value* parent;   // the array or object holding it; nullptr when the match is the root
  uint32_t index;  // its position in parent: array index, or member index in members()
  uint32_t depth;  // steps from the root (0 for the root)
};

// All matches of `path` in `root`, in RedisJSON's order. Duplicates are kept (RedisJSON keeps
// them too: "$['a','a']" yields a twice).
void Select(const Path& path, const Value& root, std::vector<const Value*>* out);
std::vector<const Value*> Select(const Path& path, const Value& root);

// Like Select, with each match's location. The pointers stay valid until the tree's structure
// changes: replacing or modifying a match's value in place is fine; inserting into or erasing
// from a container invalidates matches in and below it (use EraseMatches to delete several).
void SelectForUpdate(const Path& path, Value& root, std::vector<Match>* out);
std::vector<Match> SelectForUpdate(const Path& path, Value& root);

// Removes the matched values from their parents in one walk of `root`. Duplicates and matches
// inside another removed match count once (RedisJSON's JSON.DEL count); a root match is
// ignored (the caller deletes the whole key). Returns the number of values removed.
size_t EraseMatches(Value& root, const std::vector<Match>& matches);

}  // namespace shoal::json
