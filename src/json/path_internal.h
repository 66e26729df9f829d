// The parsed form of a path, shared by the path parser and evaluator (not part of the API).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "json/path.h"

namespace shoal::json {

struct FilterNode;

struct PathStep {
  enum class Kind : uint8_t {
    kName,       // .name: names[0]
    kNames,      // ['a','b']: names (one or more)
    kIndexes,    // [0,-1]: indexes (one or more)
    kSlice,      // [start:end:step]
    kWildcard,   // .* or [*]
    kFilter,     // [?(...)]
    kRecursive,  // ..: the next step applies to this node and every descendant
  };
  Kind kind = Kind::kName;
  std::vector<std::string> names;
  std::vector<int64_t> indexes;
  std::optional<int64_t> start, end;
  int64_t step = 1;
  std::shared_ptr<const FilterNode> filter;
};

// A filter operand: a literal or a path relative to the current node (@) or the root ($).
struct FilterTerm {
  enum class Kind : uint8_t { kCurrent, kRoot, kInt, kDouble, kString, kBool, kNull };
  Kind kind = Kind::kNull;
  std::vector<PathStep> path;
  int64_t i = 0;
  double d = 0;
  std::string s;
  bool b = false;
};

struct FilterNode {
  enum class Kind : uint8_t { kOr, kAnd, kNot, kTest };
  enum class Op : uint8_t { kNone, kEq, kNe, kLt, kLe, kGt, kGe, kRegex };
  Kind kind = Kind::kTest;
  std::vector<std::unique_ptr<FilterNode>> children;  // kOr, kAnd, kNot
  Op op = Op::kNone;  // kTest: kNone tests that lhs exists (a single match)
  FilterTerm lhs, rhs;
  // For =~ with a literal pattern: compiled once at parse time (nullptr if it does not compile,
  // which makes the test false, as RedisJSON does).
  std::shared_ptr<const std::regex> regex;
};

// Compiles a filter's regex; nullptr when it does not compile (the test is then false).
std::shared_ptr<const std::regex> CompileRegex(std::string_view pattern);

}  // namespace shoal::json
