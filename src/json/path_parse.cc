// Path syntax: a recursive-descent rendering of RedisJSON's PEG grammar (json_path's
// grammar.pest): same ordered choices, same tokens, spaces allowed between tokens. Errors
// mimic pest's report as RedisJSON formats it: the furthest position reached and the rules
// that were expected there.
#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "json/path.h"
#include "json/path_internal.h"

namespace shoal::json {
namespace {

// Rules that appear in error messages, in the grammar's declaration order (pest sorts the
// expected rules by it). EOI comes first, as pest_derive declares it first.
enum class Rule : uint8_t {
  kEOI,
  kLiteral,
  kStringList,
  kNumber,
  kDecimal,
  kNumbersList,
  kNumbersRange,
  kFilter,
  kAll,
  kFullScan,
};

const char* RuleName(Rule r) {
  switch (r) {
    case Rule::kEOI:
      return "EOI";
    case Rule::kLiteral:
      return "<string>";
    case Rule::kStringList:
      return "'<string>[,<string>,...]'";
    case Rule::kNumber:
      return "'<number>'";
    case Rule::kDecimal:
      return "decimal";
    case Rule::kNumbersList:
      return "'<number>[,<number>,...]'";
    case Rule::kNumbersRange:
      return "['start:end:steps']";
    case Rule::kFilter:
      return "'[?(filter_expression)]'";
    case Rule::kAll:
      return "'*'";
    case Rule::kFullScan:
      return "'..'";
  }
  return "";
}

bool IsLiteralChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '`' || c == '~' || c == '+' || c == '#' || c == '%' || c == '$' ||
         c == '^' || c == '/' || c == ':';
}

PathStep StepOf(PathStep::Kind kind) {
  PathStep st;
  st.kind = kind;
  return st;
}

PathStep NameStep(std::string name) {
  PathStep st = StepOf(PathStep::Kind::kName);
  st.names.push_back(std::move(name));
  return st;
}

// RedisJSON's is_static: every step is a member name or a single index.
bool AllStepsSingle(const std::vector<PathStep>& steps) {
  for (const PathStep& st : steps) {
    bool single = st.kind == PathStep::Kind::kName ||
                  (st.kind == PathStep::Kind::kNames && st.names.size() == 1) ||
                  (st.kind == PathStep::Kind::kIndexes && st.indexes.size() == 1);
    if (!single) return false;
  }
  return true;
}

class PathParser {
 public:
  explicit PathParser(std::string_view s) : s_(s) {}

  // query = "$" root? EOI
  Result<std::vector<PathStep>> ParseQuery() {
    std::vector<PathStep> steps;
    if (!Lit('$')) return Error();
    Ws();
    if (!ParseRoot(&steps, /*allow_first=*/true)) {
      // root? is optional: only a partial root is an error.
      if (failed_hard_) return Error();
    }
    Ws();
    if (pos_ < s_.size()) {
      Expect(Rule::kEOI, pos_);
      return Error();
    }
    return steps;
  }

 private:
  // ---- error tracking (pest style: furthest position, rules expected there) ----
  void Expect(Rule r, size_t at) {
    if (at > err_pos_) {
      expected_.clear();
      err_pos_ = at;
    }
    if (at == err_pos_) expected_.push_back(r);
  }

  Status Error() {
    std::sort(expected_.begin(), expected_.end());
    expected_.erase(std::unique(expected_.begin(), expected_.end()), expected_.end());
    std::string msg;
    if (expected_.empty()) {
      msg = "parsing error";
    } else {
      msg = "expected one of the following: ";
      for (size_t i = 0; i < expected_.size(); ++i) {
        if (i > 0) msg += ", ";
        msg += RuleName(expected_[i]);
      }
    }
    size_t pos = std::min(err_pos_, s_.size());
    std::string line = "Error occurred on position " + std::to_string(pos) + ", ";
    if (pos == s_.size()) {
      line += "\"" + std::string(s_) + " <<<<----\", " + msg + ".";
    } else {
      line += "\"" + std::string(s_.substr(0, pos)) + " ---->>>> " + std::string(s_.substr(pos)) +
              "\", " + msg + ".";
    }
    return Status::Error(std::move(line));
  }

  // ---- lexing helpers ----
  void Ws() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }
  bool Lit(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool LitStr(std::string_view t) {
    if (s_.substr(pos_, t.size()) == t) {
      pos_ += t.size();
      return true;
    }
    return false;
  }
  char Cur() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  bool ParseLiteral(std::string* out) {
    size_t start = pos_;
    while (pos_ < s_.size() && IsLiteralChar(s_[pos_])) ++pos_;
    if (pos_ == start) {
      Expect(Rule::kLiteral, start);
      return false;
    }
    out->assign(s_.substr(start, pos_ - start));
    return true;
  }

  // number = "-"? [1-9][0-9]* | "-"? [0-9]
  bool ParseNumber(int64_t* out, bool record = true) {
    size_t start = pos_;
    size_t p = pos_;
    if (p < s_.size() && s_[p] == '-') ++p;
    if (p < s_.size() && s_[p] >= '1' && s_[p] <= '9') {
      ++p;
      while (p < s_.size() && s_[p] >= '0' && s_[p] <= '9') ++p;
    } else if (p < s_.size() && s_[p] >= '0' && s_[p] <= '9') {
      ++p;
    } else {
      if (record) Expect(Rule::kNumber, start);
      return false;
    }
    int64_t v = 0;
    auto r = std::from_chars(s_.data() + start, s_.data() + p, v);
    if (r.ec != std::errc()) {
      // Out of int64: saturate (an index that large matches nothing or clamps anyway).
      v = s_[start] == '-' ? INT64_MIN : INT64_MAX;
    }
    *out = v;
    pos_ = p;
    return true;
  }

  // pos_number = [1-9][0-9]*
  bool ParsePosNumber(int64_t* out) {
    size_t p = pos_;
    if (!(p < s_.size() && s_[p] >= '1' && s_[p] <= '9')) return false;
    ++p;
    while (p < s_.size() && s_[p] >= '0' && s_[p] <= '9') ++p;
    int64_t v = 0;
    auto r = std::from_chars(s_.data() + pos_, s_.data() + p, v);
    if (r.ec != std::errc()) v = INT64_MAX;
    *out = v;
    pos_ = p;
    return true;
  }

  // string = '...' | "..." with \\ and the enclosing quote escapable.
  bool ParseString(std::string* out) {
    char q = Cur();
    if (q != '\'' && q != '"') return false;
    size_t save = pos_;
    ++pos_;
    std::string v;
    while (pos_ < s_.size() && s_[pos_] != q) {
      char c = s_[pos_];
      if (c == '\\') {
        if (pos_ + 1 < s_.size() && (s_[pos_ + 1] == q || s_[pos_ + 1] == '\\')) {
          v.push_back(s_[pos_ + 1]);
          pos_ += 2;
          continue;
        }
        pos_ = save;
        return false;
      }
      v.push_back(c);
      ++pos_;
    }
    if (pos_ >= s_.size()) {
      pos_ = save;
      return false;
    }
    ++pos_;  // closing quote
    *out = std::move(v);
    return true;
  }

  // ---- steps ----

  // root = (element | first_element) element*
  // Returns false if not even one element matched. Sets failed_hard_ when an element started
  // but could not complete (pest would then fail the whole query at EOI with the furthest
  // expectations recorded here).
  bool ParseRoot(std::vector<PathStep>* steps, bool allow_first) {
    size_t count = 0;
    while (true) {
      Ws();
      size_t save = pos_;
      if (ParseElement(steps)) {
        ++count;
        continue;
      }
      pos_ = save;
      if (count == 0 && allow_first) {
        // first_element = literal | all
        std::string name;
        if (ParseLiteral(&name)) {
          steps->push_back(NameStep(std::move(name)));
          ++count;
          continue;
        }
        if (Lit('*')) {
          steps->push_back(StepOf(PathStep::Kind::kWildcard));
          ++count;
          continue;
        }
        Expect(Rule::kAll, pos_);
      }
      break;
    }
    return count > 0;
  }

  // element = "." literal | ".." (literal | "*" | "[" bracket "]") | "." "*"
  //         | "."? "[" bracket "]"
  bool ParseElement(std::vector<PathStep>* steps) {
    size_t start = pos_;
    // "." literal
    if (Lit('.')) {
      Ws();
      std::string name;
      if (ParseLiteral(&name)) {
        steps->push_back(NameStep(std::move(name)));
        return true;
      }
      pos_ = start;
    }
    // ".." (literal | "*" | "[" bracket "]")
    if (LitStr("..")) {
      Ws();
      PathStep rec = StepOf(PathStep::Kind::kRecursive);
      std::string name;
      if (ParseLiteral(&name)) {
        steps->push_back(std::move(rec));
        steps->push_back(NameStep(std::move(name)));
        return true;
      }
      if (Lit('*')) {
        steps->push_back(std::move(rec));
        steps->push_back(StepOf(PathStep::Kind::kWildcard));
        return true;
      }
      Expect(Rule::kAll, pos_);
      size_t b = pos_;
      if (Lit('[')) {
        PathStep st;
        if (ParseBracket(&st)) {
          Ws();
          if (Lit(']')) {
            steps->push_back(std::move(rec));
            steps->push_back(std::move(st));
            return true;
          }
        }
      }
      pos_ = b;
      pos_ = start;
      failed_hard_ = true;
    } else {
      Expect(Rule::kFullScan, start);
    }
    // "." "*"
    if (Lit('.')) {
      Ws();
      if (Lit('*')) {
        steps->push_back(StepOf(PathStep::Kind::kWildcard));
        return true;
      }
      Expect(Rule::kAll, pos_);
      pos_ = start;
    }
    // "."? "[" bracket "]"
    bool dot = Lit('.');
    if (dot) Ws();
    if (Lit('[')) {
      PathStep st;
      if (ParseBracket(&st)) {
        Ws();
        if (Lit(']')) {
          steps->push_back(std::move(st));
          return true;
        }
      }
      failed_hard_ = true;
    } else if (dot) {
      failed_hard_ = true;
    }
    pos_ = start;
    return false;
  }

  // The rest of a list after its first item: ("," item)*, spaces allowed around the commas.
  // `parse_item` consumes one item or returns false; a comma not followed by an item is left
  // unconsumed.
  template <typename ParseItem>
  void ParseListTail(ParseItem parse_item) {
    while (true) {
      size_t save = pos_;
      Ws();
      if (!Lit(',')) {
        pos_ = save;
        return;
      }
      Ws();
      if (!parse_item()) {
        pos_ = save;
        return;
      }
    }
  }

  // bracket = numbers_range | numbers_list | string_list | "*" | "?" filter
  bool ParseBracket(PathStep* st) {
    Ws();
    size_t start = pos_;
    if (ParseRange(st)) return true;
    pos_ = start;
    int64_t n;
    if (ParseNumber(&n)) {
      st->kind = PathStep::Kind::kIndexes;
      st->indexes.push_back(n);
      ParseListTail([&] {
        if (!ParseNumber(&n)) return false;
        st->indexes.push_back(n);
        return true;
      });
      return true;
    }
    pos_ = start;
    std::string name;
    if (ParseString(&name)) {
      st->kind = PathStep::Kind::kNames;
      st->names.push_back(std::move(name));
      ParseListTail([&] {
        if (!ParseString(&name)) return false;
        st->names.push_back(std::move(name));
        return true;
      });
      return true;
    }
    Expect(Rule::kStringList, start);
    if (Lit('*')) {
      st->kind = PathStep::Kind::kWildcard;
      return true;
    }
    Expect(Rule::kAll, start);
    if (Lit('?')) {
      Ws();
      size_t fstart = pos_;
      auto f = ParseFilter();
      if (f == nullptr) {
        Expect(Rule::kFilter, fstart);
        return false;
      }
      st->kind = PathStep::Kind::kFilter;
      st->filter = std::move(f);
      return true;
    }
    return false;
  }

  // A range after its first ':': [number] then the optional step.
  void ParseRangeEnd(PathStep* st) {
    size_t after = pos_;
    Ws();
    int64_t b;
    if (ParseNumber(&b, false)) {
      st->end = b;
    } else {
      pos_ = after;
    }
    ParseRangeStep(st);
  }

  // Optional tail of a range: (":" pos_number) | ":"
  void ParseRangeStep(PathStep* st) {
    size_t save = pos_;
    Ws();
    if (Lit(':')) {
      size_t after = pos_;
      Ws();
      int64_t step;
      if (ParsePosNumber(&step)) {
        st->step = step;
        return;
      }
      pos_ = after;
      return;
    }
    pos_ = save;
  }

  // numbers_range = full_range | right_range | all_range | left_range
  bool ParseRange(PathStep* st) {
    size_t start = pos_;
    st->kind = PathStep::Kind::kSlice;
    int64_t a;
    // full_range / left_range: number ":" [number] tail
    if (ParseNumber(&a, false)) {
      Ws();
      if (Lit(':')) {
        st->start = a;
        ParseRangeEnd(st);
        return true;
      }
      pos_ = start;
      Expect(Rule::kNumbersRange, start);
      st->start.reset();
      return false;
    }
    // right_range / all_range: ":" [number] tail
    if (Lit(':')) {
      ParseRangeEnd(st);
      return true;
    }
    Expect(Rule::kNumbersRange, start);
    return false;
  }

  // ---- filters ----
  using NodePtr = std::unique_ptr<FilterNode>;

  // filter = inner_filter (("&&" | "||") inner_filter)*, && binding tighter than ||.
  NodePtr ParseFilter() {
    // Filters nest through parentheses, '!' and filters inside filter paths; bound the
    // recursion so a hostile path cannot exhaust the stack.
    if (++nesting_ > kMaxNesting) {
      --nesting_;
      return nullptr;
    }
    NodePtr r = ParseFilterBody();
    --nesting_;
    return r;
  }

  NodePtr ParseFilterBody() {
    std::vector<NodePtr> ors;
    NodePtr first = ParseInner();
    if (first == nullptr) return nullptr;
    std::vector<NodePtr> ands;
    ands.push_back(std::move(first));
    while (true) {
      size_t save = pos_;
      Ws();
      bool is_and = LitStr("&&");
      bool is_or = !is_and && LitStr("||");
      if (!is_and && !is_or) {
        pos_ = save;
        break;
      }
      Ws();
      NodePtr next = ParseInner();
      if (next == nullptr) {
        pos_ = save;
        break;
      }
      if (is_or) {
        ors.push_back(Combine(FilterNode::Kind::kAnd, std::move(ands)));
        ands.clear();
      }
      ands.push_back(std::move(next));
    }
    ors.push_back(Combine(FilterNode::Kind::kAnd, std::move(ands)));
    return Combine(FilterNode::Kind::kOr, std::move(ors));
  }

  static NodePtr Combine(FilterNode::Kind kind, std::vector<NodePtr> nodes) {
    if (nodes.size() == 1) return std::move(nodes[0]);
    auto n = std::make_unique<FilterNode>();
    n->kind = kind;
    n->children = std::move(nodes);
    return n;
  }

  // inner_filter = "!" inner_filter | single_filter | "(" filter ")"
  NodePtr ParseInner() {
    size_t start = pos_;
    if (Lit('!')) {
      Ws();
      if (++nesting_ > kMaxNesting) {
        --nesting_;
        pos_ = start;
        return nullptr;
      }
      NodePtr inner = ParseInner();
      --nesting_;
      if (inner == nullptr) {
        pos_ = start;
        return nullptr;
      }
      auto n = std::make_unique<FilterNode>();
      n->kind = FilterNode::Kind::kNot;
      n->children.push_back(std::move(inner));
      return n;
    }
    if (NodePtr single = ParseSingle()) return single;
    pos_ = start;
    if (Lit('(')) {
      Ws();
      NodePtr inner = ParseFilter();
      if (inner != nullptr) {
        Ws();
        if (Lit(')')) return inner;
      }
    }
    pos_ = start;
    return nullptr;
  }

  // single_filter = term op term | term
  NodePtr ParseSingle() {
    auto n = std::make_unique<FilterNode>();
    n->kind = FilterNode::Kind::kTest;
    if (!ParseTerm(&n->lhs)) return nullptr;
    size_t save = pos_;
    Ws();
    FilterNode::Op op = ParseOp();
    if (op != FilterNode::Op::kNone) {
      Ws();
      if (ParseTerm(&n->rhs)) {
        n->op = op;
        if (op == FilterNode::Op::kRegex && n->rhs.kind == FilterTerm::Kind::kString) {
          n->regex = CompileRegex(n->rhs.s);
        }
        return n;
      }
    }
    pos_ = save;
    return n;
  }

  FilterNode::Op ParseOp() {
    if (LitStr(">=")) return FilterNode::Op::kGe;
    if (LitStr(">")) return FilterNode::Op::kGt;
    if (LitStr("<=")) return FilterNode::Op::kLe;
    if (LitStr("<")) return FilterNode::Op::kLt;
    if (LitStr("==")) return FilterNode::Op::kEq;
    if (LitStr("!=")) return FilterNode::Op::kNe;
    if (LitStr("=~")) return FilterNode::Op::kRegex;
    return FilterNode::Op::kNone;
  }

  // term = ("@" | "$") root? | decimal | string | true | false | null
  bool ParseTerm(FilterTerm* t) {
    size_t start = pos_;
    if (Lit('@') || Lit('$')) {
      t->kind = s_[start] == '@' ? FilterTerm::Kind::kCurrent : FilterTerm::Kind::kRoot;
      size_t save = pos_;
      bool saved_hard = failed_hard_;
      Ws();
      if (!ParseRoot(&t->path, /*allow_first=*/true)) pos_ = save;
      failed_hard_ = saved_hard;
      return true;
    }
    // decimal = number ("." digit+)?
    int64_t n;
    if (ParseNumber(&n, false)) {
      if (Cur() == '.' && pos_ + 1 < s_.size() && s_[pos_ + 1] >= '0' && s_[pos_ + 1] <= '9') {
        ++pos_;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        std::string text(s_.substr(start, pos_ - start));
        t->kind = FilterTerm::Kind::kDouble;
        t->d = std::strtod(text.c_str(), nullptr);
        return true;
      }
      t->kind = FilterTerm::Kind::kInt;
      t->i = n;
      return true;
    }
    if (ParseString(&t->s)) {
      t->kind = FilterTerm::Kind::kString;
      return true;
    }
    if (LitStr("true")) {
      t->kind = FilterTerm::Kind::kBool;
      t->b = true;
      return true;
    }
    if (LitStr("false")) {
      t->kind = FilterTerm::Kind::kBool;
      t->b = false;
      return true;
    }
    if (LitStr("null")) {
      t->kind = FilterTerm::Kind::kNull;
      return true;
    }
    return false;
  }

  static constexpr int kMaxNesting = 64;

  std::string_view s_;
  size_t pos_ = 0;
  int nesting_ = 0;
  size_t err_pos_ = 0;
  std::vector<Rule> expected_;
  bool failed_hard_ = false;
};

}  // namespace

std::shared_ptr<const std::regex> CompileRegex(std::string_view pattern) {
  // RedisJSON uses Rust's regex crate, whose patterns often start with inline flags such as
  // "(?i)"; std::regex has no inline flags, so leading ones become syntax options.
  auto flags = std::regex::ECMAScript;
  while (pattern.size() >= 4 && pattern.substr(0, 2) == "(?") {
    size_t close = pattern.find(')');
    if (close == std::string_view::npos) break;
    std::string_view f = pattern.substr(2, close - 2);
    if (f.empty() || f.find_first_not_of("imsUx") != std::string_view::npos) break;
    for (char c : f) {
      if (c == 'i') flags |= std::regex::icase;
      if (c == 'm') flags |= std::regex::multiline;
    }
    pattern.remove_prefix(close + 1);
  }
  try {
    return std::make_shared<const std::regex>(pattern.begin(), pattern.end(), flags);
  } catch (const std::regex_error&) {
    return nullptr;  // Never matches (RedisJSON: an invalid regex matches nothing).
  }
}

Path::Path() = default;
Path::Path(Path&&) noexcept = default;
Path& Path::operator=(Path&&) noexcept = default;
Path::Path(const Path&) = default;
Path& Path::operator=(const Path&) = default;
Path::~Path() = default;

bool Path::is_root() const { return steps_.empty(); }
size_t Path::step_count() const { return steps_.size(); }

Result<Path> Path::Parse(std::string_view text) {
  Path p;
  p.original_.assign(text);
  bool jsonpath =
      !text.empty() && text[0] == '$' && (text.size() == 1 || text[1] == '.' || text[1] == '[');
  if (jsonpath) {
    p.jsonpath_.assign(text);
  } else {
    // RedisJSON's conversion of a legacy path.
    p.legacy_ = true;
    if (text == ".") {
      p.jsonpath_ = "$";
    } else if (!text.empty() && text[0] == '.') {
      p.jsonpath_ = "$" + std::string(text);
    } else {
      p.jsonpath_ = "$." + std::string(text);
    }
  }
  PathParser parser(p.jsonpath_);
  Result<std::vector<PathStep>> steps = parser.ParseQuery();
  if (!steps.ok()) return steps.status();
  p.steps_ = std::move(steps).value();
  p.static_ = AllStepsSingle(p.steps_);
  return p;
}

std::optional<std::string> Path::last_name() const {
  if (steps_.empty()) return std::nullopt;
  const PathStep& st = steps_.back();
  if (st.kind == PathStep::Kind::kName) return st.names[0];
  if (st.kind == PathStep::Kind::kNames && st.names.size() == 1) return st.names[0];
  return std::nullopt;
}

std::optional<int64_t> Path::last_index() const {
  if (steps_.empty()) return std::nullopt;
  const PathStep& st = steps_.back();
  if (st.kind == PathStep::Kind::kIndexes && st.indexes.size() == 1) return st.indexes[0];
  return std::nullopt;
}

Path Path::ParentPath() const {
  Path p(*this);
  if (!p.steps_.empty()) {
    p.steps_.pop_back();
    // A trailing ".." without its step would mean nothing: drop it too.
    if (!p.steps_.empty() && p.steps_.back().kind == PathStep::Kind::kRecursive) {
      p.steps_.pop_back();
    }
  }
  p.static_ = AllStepsSingle(p.steps_);
  return p;
}

}  // namespace shoal::json
