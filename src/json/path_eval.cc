// Path evaluation, following RedisJSON's json_path calculator step by step (see path.h for
// the semantics it shares, quirks included).
#include <algorithm>
#include <unordered_set>

#include "json/path.h"
#include "json/path_internal.h"

namespace shoal::json {

struct PathEvaluator {
  using Steps = std::vector<PathStep>;

  const Steps& steps;
  Value* root;
  std::vector<Match>* out;

  static void Run(const Path& path, Value& root, std::vector<Match>* out) {
    PathEvaluator ev{path.steps_, &root, out};
    ev.Eval(0, &root, nullptr, 0, 0);
  }

  // Clamps an index as RedisJSON does: negative ones count from the end and stop at 0,
  // positive ones stop at n (which then matches nothing).
  static size_t AbsIndex(int64_t i, size_t n) {
    if (i >= 0) return std::min(static_cast<size_t>(i), n);
    int64_t r = i + static_cast<int64_t>(n);
    return r < 0 ? 0 : static_cast<size_t>(r);
  }

  void Emit(Value* v, Value* parent, uint32_t index, uint32_t depth) {
    out->push_back(Match{v, parent, index, depth});
  }

  void Eval(size_t k, Value* v, Value* parent, uint32_t index, uint32_t depth) {
    if (k == steps.size()) {
      Emit(v, parent, index, depth);
      return;
    }
    const PathStep& st = steps[k];
    switch (st.kind) {
      case PathStep::Kind::kName: {
        ptrdiff_t i = v->FindIndex(st.names[0]);
        if (i >= 0) Eval(k + 1, &v->members()[i].value, v, static_cast<uint32_t>(i), depth + 1);
        return;
      }
      case PathStep::Kind::kNames:
        for (const std::string& name : st.names) {
          ptrdiff_t i = v->FindIndex(name);
          if (i >= 0) Eval(k + 1, &v->members()[i].value, v, static_cast<uint32_t>(i), depth + 1);
        }
        return;
      case PathStep::Kind::kIndexes: {
        if (!v->is_array()) return;
        for (int64_t raw : st.indexes) {
          size_t n = v->size();
          size_t i = AbsIndex(raw, n);
          if (i < n) Eval(k + 1, &v->items()[i], v, static_cast<uint32_t>(i), depth + 1);
        }
        return;
      }
      case PathStep::Kind::kSlice: {
        if (!v->is_array()) return;
        size_t n = v->size();
        size_t start = st.start ? AbsIndex(*st.start, n) : 0;
        size_t end = st.end ? AbsIndex(*st.end, n) : n;
        size_t step = static_cast<size_t>(st.step);
        for (size_t i = start; i < end && i < v->size(); i += step) {
          Eval(k + 1, &v->items()[i], v, static_cast<uint32_t>(i), depth + 1);
          if (step > n) break;  // avoids overflow of i += step
        }
        return;
      }
      case PathStep::Kind::kWildcard:
        EvalChildren(k + 1, v, depth);
        return;
      case PathStep::Kind::kFilter:
        if (v->is_array()) {
          auto items = v->items();
          for (size_t i = 0; i < items.size(); ++i) {
            if (Test(*st.filter, items[i])) {
              Eval(k + 1, &items[i], v, static_cast<uint32_t>(i), depth + 1);
            }
          }
        } else if (v->is_object()) {
          auto members = v->members();
          for (size_t i = 0; i < members.size(); ++i) {
            if (Test(*st.filter, members[i].value)) {
              Eval(k + 1, &members[i].value, v, static_cast<uint32_t>(i), depth + 1);
            }
          }
        }
        // A filter on a scalar selects nothing (RedisJSON 2.8+: "$..[?@>=1]" on [1,2,3] yields
        // each number once, not again when the descent reaches the scalar itself).
        return;
      case PathStep::Kind::kRecursive:
        Eval(k + 1, v, parent, index, depth);
        FullScan(k + 1, v, depth);
        return;
    }
  }

  void EvalChildren(size_t k, Value* v, uint32_t depth) {
    if (v->is_array()) {
      auto items = v->items();
      for (size_t i = 0; i < items.size(); ++i) {
        Eval(k, &items[i], v, static_cast<uint32_t>(i), depth + 1);
      }
    } else if (v->is_object()) {
      auto members = v->members();
      for (size_t i = 0; i < members.size(); ++i) {
        Eval(k, &members[i].value, v, static_cast<uint32_t>(i), depth + 1);
      }
    }
  }

  // Applies steps[k..] to every descendant of v, parents before children.
  void FullScan(size_t k, Value* v, uint32_t depth) {
    if (v->is_array()) {
      auto items = v->items();
      for (size_t i = 0; i < items.size(); ++i) {
        Eval(k, &items[i], v, static_cast<uint32_t>(i), depth + 1);
        FullScan(k, &items[i], depth + 1);
      }
    } else if (v->is_object()) {
      auto members = v->members();
      for (size_t i = 0; i < members.size(); ++i) {
        Eval(k, &members[i].value, v, static_cast<uint32_t>(i), depth + 1);
        FullScan(k, &members[i].value, depth + 1);
      }
    }
  }

  // ---- filters ----

  // An evaluated operand: a literal, a single value from the document, or nothing (a path
  // with zero or several matches).
  struct Operand {
    enum class Kind { kInvalid, kInt, kDouble, kString, kBool, kNull, kValue };
    Kind kind = Kind::kInvalid;
    int64_t i = 0;
    double d = 0;
    std::string_view s;
    bool b = false;
    const Value* v = nullptr;
  };

  Operand EvalTerm(const FilterTerm& t, const Value& current) {
    Operand o;
    switch (t.kind) {
      case FilterTerm::Kind::kInt:
        o.kind = Operand::Kind::kInt;
        o.i = t.i;
        return o;
      case FilterTerm::Kind::kDouble:
        o.kind = Operand::Kind::kDouble;
        o.d = t.d;
        return o;
      case FilterTerm::Kind::kString:
        o.kind = Operand::Kind::kString;
        o.s = t.s;
        return o;
      case FilterTerm::Kind::kBool:
        o.kind = Operand::Kind::kBool;
        o.b = t.b;
        return o;
      case FilterTerm::Kind::kNull:
        o.kind = Operand::Kind::kNull;
        return o;
      case FilterTerm::Kind::kCurrent:
      case FilterTerm::Kind::kRoot: {
        Value* base = t.kind == FilterTerm::Kind::kCurrent ? const_cast<Value*>(&current) : root;
        if (t.path.empty()) {
          o.kind = Operand::Kind::kValue;
          o.v = base;
          return o;
        }
        std::vector<Match> found;
        PathEvaluator sub{t.path, root, &found};
        sub.Eval(0, base, nullptr, 0, 0);
        if (found.size() == 1) {
          o.kind = Operand::Kind::kValue;
          o.v = found[0].value;
        }
        return o;
      }
    }
    return o;
  }

  // A document value as the literal kind it compares like; arrays and objects stay kValue.
  static Operand Flatten(const Operand& o) {
    if (o.kind != Operand::Kind::kValue) return o;
    Operand r = o;
    switch (o.v->type()) {
      case Type::kInt:
        r.kind = Operand::Kind::kInt;
        r.i = o.v->as_int();
        break;
      case Type::kDouble:
        r.kind = Operand::Kind::kDouble;
        r.d = o.v->as_double();
        break;
      case Type::kString:
        r.kind = Operand::Kind::kString;
        r.s = o.v->as_string();
        break;
      case Type::kBool:
        r.kind = Operand::Kind::kBool;
        r.b = o.v->as_bool();
        break;
      case Type::kNull:
        r.kind = Operand::Kind::kNull;
        break;
      default:
        break;
    }
    return r;
  }

  // -1, 0, 1, or 2 for "not comparable" (then every ordering test is false).
  static int Compare(const Operand& a0, const Operand& b0) {
    Operand a = Flatten(a0), b = Flatten(b0);
    using K = Operand::Kind;
    auto sign = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
    if (a.kind == K::kInt && b.kind == K::kInt) return sign(a.i, b.i);
    if ((a.kind == K::kInt || a.kind == K::kDouble) &&
        (b.kind == K::kInt || b.kind == K::kDouble)) {
      double x = a.kind == K::kInt ? static_cast<double>(a.i) : a.d;
      double y = b.kind == K::kInt ? static_cast<double>(b.i) : b.d;
      if (x > y) return 1;
      if (x < y) return -1;
      return 0;  // Equal, or NaN (not reachable: JSON has no NaN).
    }
    if (a.kind == K::kString && b.kind == K::kString) {
      int c = a.s.compare(b.s);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.kind == K::kBool && b.kind == K::kBool) return sign(a.b, b.b);
    if (a.kind == K::kNull && b.kind == K::kNull) return 0;
    return 2;
  }

  static bool Equal(const Operand& a, const Operand& b) {
    if (a.kind == Operand::Kind::kValue && b.kind == Operand::Kind::kValue) {
      return a.v->Equals(*b.v);
    }
    return Compare(a, b) == 0;
  }

  static bool RegexMatch(const FilterNode& n, const Operand& a, const Operand& b) {
    // Only a document string against a pattern (literal, or a document string) matches.
    if (a.kind != Operand::Kind::kValue || !a.v->is_string()) return false;
    std::string_view subject = a.v->as_string();
    if (b.kind == Operand::Kind::kString) {
      if (n.regex == nullptr) return false;
      return std::regex_search(subject.begin(), subject.end(), *n.regex);
    }
    if (b.kind == Operand::Kind::kValue && b.v->is_string()) {
      auto re = CompileRegex(b.v->as_string());
      return re != nullptr && std::regex_search(subject.begin(), subject.end(), *re);
    }
    return false;
  }

  bool Test(const FilterNode& n, const Value& current) {
    switch (n.kind) {
      case FilterNode::Kind::kOr:
        for (const auto& c : n.children) {
          if (Test(*c, current)) return true;
        }
        return false;
      case FilterNode::Kind::kAnd:
        for (const auto& c : n.children) {
          if (!Test(*c, current)) return false;
        }
        return true;
      case FilterNode::Kind::kNot:
        return !Test(*n.children[0], current);
      case FilterNode::Kind::kTest:
        break;
    }
    Operand a = EvalTerm(n.lhs, current);
    if (n.op == FilterNode::Op::kNone) return a.kind != Operand::Kind::kInvalid;
    Operand b = EvalTerm(n.rhs, current);
    switch (n.op) {
      case FilterNode::Op::kEq:
        return Equal(a, b);
      case FilterNode::Op::kNe:
        return !Equal(a, b);
      case FilterNode::Op::kLt: {
        int c = Compare(a, b);
        return c == -1;
      }
      case FilterNode::Op::kLe: {
        int c = Compare(a, b);
        return c == -1 || c == 0;
      }
      case FilterNode::Op::kGt:
        return Compare(a, b) == 1;
      case FilterNode::Op::kGe: {
        int c = Compare(a, b);
        return c == 1 || c == 0;
      }
      case FilterNode::Op::kRegex:
        return RegexMatch(n, a, b);
      case FilterNode::Op::kNone:
        break;
    }
    return false;
  }
};

void SelectForUpdate(const Path& path, Value& root, std::vector<Match>* out) {
  PathEvaluator::Run(path, root, out);
}

std::vector<Match> SelectForUpdate(const Path& path, Value& root) {
  std::vector<Match> out;
  SelectForUpdate(path, root, &out);
  return out;
}

void Select(const Path& path, const Value& root, std::vector<const Value*>* out) {
  // The evaluator walks mutable pointers; nothing is modified here.
  std::vector<Match> matches;
  SelectForUpdate(path, const_cast<Value&>(root), &matches);
  out->reserve(out->size() + matches.size());
  for (const Match& m : matches) out->push_back(m.value);
}

std::vector<const Value*> Select(const Path& path, const Value& root) {
  std::vector<const Value*> out;
  Select(path, root, &out);
  return out;
}

namespace {

// Removes every child of `v` found in `doomed` (counting them), and recurses into the others.
// Children are visited last to first so a removal never shifts one still to visit.
size_t EraseWalk(Value& v, const std::unordered_set<const Value*>& doomed) {
  size_t removed = 0;
  if (v.is_array()) {
    for (size_t i = v.size(); i-- > 0;) {
      Value& c = v.items()[i];
      if (doomed.count(&c) != 0) {
        v.Erase(i);
        ++removed;
      } else if (c.is_container()) {
        removed += EraseWalk(c, doomed);
      }
    }
  } else if (v.is_object()) {
    for (size_t i = v.size(); i-- > 0;) {
      Value& c = v.members()[i].value;
      if (doomed.count(&c) != 0) {
        v.EraseMember(i);
        ++removed;
      } else if (c.is_container()) {
        removed += EraseWalk(c, doomed);
      }
    }
  }
  return removed;
}

}  // namespace

size_t EraseMatches(Value& root, const std::vector<Match>& matches) {
  std::unordered_set<const Value*> doomed;
  for (const Match& m : matches) {
    if (m.parent != nullptr) doomed.insert(m.value);
  }
  if (doomed.empty()) return 0;
  if (matches.size() == 1 && matches[0].parent != nullptr) {
    // The common case (one static path): no walk.
    const Match& m = matches[0];
    if (m.parent->is_array()) {
      m.parent->Erase(m.index);
    } else {
      m.parent->EraseMember(m.index);
    }
    return 1;
  }
  return EraseWalk(root, doomed);
}

}  // namespace shoal::json
