// JSON array commands: JSON.ARRAPPEND JSON.ARRINSERT JSON.ARRPOP JSON.ARRTRIM, with RedisJSON
// 2.x's index rules (out-of-range pop and trim indexes clamp; insert indexes must be in range).
#include <algorithm>

#include "commands/json_common.h"
#include "protocol/errors.h"

namespace shoal::cmd::jsoncmd {
namespace {

using storage::Entry;

std::optional<int64_t> IndexArg(CommandContext& ctx, size_t i) {
  std::optional<int64_t> v = ParseInt64(ctx.arg(i));
  if (!v) ctx.ReplyError(protocol::kErrJsonNotInteger);
  return v;
}

// Parses arguments [from, argc) as JSON values; replies the first error.
bool ValuesArg(CommandContext& ctx, size_t from, std::vector<json::Value>* out) {
  for (size_t i = from; i < ctx.argc(); ++i) {
    std::optional<json::Value> v = JsonArgOrReply(ctx, ctx.arg(i));
    if (!v) return false;
    out->push_back(std::move(*v));
  }
  return true;
}

// The matches of `path`, each with its array (nullptr when the match is not an array).
struct Targets {
  std::vector<json::Value*> arrays;
  std::vector<uint32_t> depths;
  // Indexes into `arrays`, deepest first. Changing an array moves the nodes inside it, so
  // matches nested in another one are changed before it: a change never moves a match that is
  // yet to be changed. (RedisJSON re-walks each match's path instead, so when matches nest its
  // results can differ from these; matches that do not nest are unaffected.)
  std::vector<size_t> order;
};

// Replies and returns false for a legacy path with no array match (RedisJSON's "not an array"
// error, naming the path as `shown`).
bool ArrayMatches(CommandContext& ctx, const json::Path& path, json::Value& root,
                  std::string_view shown, Targets* t) {
  bool any = false;
  for (const json::Match& m : json::SelectForUpdate(path, root)) {
    t->arrays.push_back(m.value->is_array() ? m.value : nullptr);
    t->depths.push_back(m.depth);
    any = any || m.value->is_array();
  }
  if (!any && path.is_legacy()) {
    ctx.ReplyError(protocol::JsonPathMissingOrError(shown, "not an array"));
    return false;
  }
  for (size_t i = 0; i < t->arrays.size(); ++i) {
    if (t->arrays[i] != nullptr) t->order.push_back(i);
  }
  std::stable_sort(t->order.begin(), t->order.end(),
                   [&](size_t a, size_t b) { return t->depths[a] > t->depths[b]; });
  return true;
}

// Legacy paths answer the last array's result; JSONPath one entry per match (null for a
// match that is not an array). `lengths[i]` was taken right after array i changed.
void ReplyLengths(CommandContext& ctx, const json::Path& path, const Targets& t,
                  const std::vector<int64_t>& lengths) {
  if (path.is_legacy()) {
    int64_t last = 0;
    for (size_t i = 0; i < t.arrays.size(); ++i) {
      if (t.arrays[i] != nullptr) last = lengths[i];
    }
    return ctx.reply().Integer(last);
  }
  ctx.reply().ArrayHeader(t.arrays.size());
  for (size_t i = 0; i < t.arrays.size(); ++i) {
    if (t.arrays[i] != nullptr) {
      ctx.reply().Integer(lengths[i]);
    } else {
      ctx.reply().Null();
    }
  }
}

// True (and replies the error) when an element of one of the arrays would nest too deep.
bool ElementsTooDeep(CommandContext& ctx, const Targets& t,
                     const std::vector<json::Value>& values) {
  for (size_t i : t.order) {
    for (const json::Value& v : values) {
      if (TooDeep(t.depths[i] + 1, v)) {
        ctx.ReplyError(protocol::kErrJsonTooDeep);
        return true;
      }
    }
  }
  return false;
}

// Inserts copies of `values` into every array at `pos(len)`, deepest first; fills `lengths`
// and returns the bytes added.
template <typename Pos>
int64_t InsertAll(const Targets& t, const std::vector<json::Value>& values, Pos pos,
                  std::vector<int64_t>* lengths) {
  lengths->assign(t.arrays.size(), 0);
  int64_t delta = 0;
  for (size_t i : t.order) {
    json::Value* a = t.arrays[i];
    size_t at = pos(a->size());
    for (const json::Value& v : values) {
      a->Insert(at++, v.Clone());
      delta += SlotBytes(v, /*object_member=*/false);
    }
    (*lengths)[i] = static_cast<int64_t>(a->size());
  }
  return delta;
}

// ---- JSON.ARRAPPEND key path value [value ...] ----
// ---- JSON.ARRINSERT key path index value [value ...] ----

// Inserts the values from argument `first_value` on into every array the path matches: at the
// end (`index` nullopt: ARRAPPEND) or before `index` (ARRINSERT, negative counting from the end).
// RedisJSON names the path as given in ARRAPPEND's "not an array" error, as a JSONPath in
// ARRINSERT's.
void InsertValues(CommandContext& ctx, std::optional<int64_t> index, size_t first_value) {
  std::vector<json::Value> values;
  if (!ValuesArg(ctx, first_value, &values)) return;
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  json::Value& root = storage::JsonRoot(e->value);
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(2));
  if (!path) return;
  Targets t;
  if (!ArrayMatches(ctx, *path, root, index ? path->jsonpath() : path->original(), &t)) return;
  if (ElementsTooDeep(ctx, t, values)) return;
  auto position = [index](int64_t len) {
    if (!index) return len;
    return *index < 0 ? len + *index : *index;
  };
  if (index) {
    // Every index is checked before anything is inserted, so an error changes nothing. (A
    // nested match grows only by its own insertion, which comes before its parent's.)
    for (size_t k : t.order) {
      int64_t len = static_cast<int64_t>(t.arrays[k]->size());
      int64_t at = position(len);
      if (at < 0 || at > len) return ctx.ReplyError(protocol::kErrJsonIndexOutOfBounds);
    }
  }
  std::vector<int64_t> lengths;
  int64_t delta = InsertAll(
      t, values,
      [&](size_t len) { return static_cast<size_t>(position(static_cast<int64_t>(len))); },
      &lengths);
  storage::AdjustJsonBytes(e->value, delta);
  ReplyLengths(ctx, *path, t, lengths);
}

void ArrAppend(CommandContext& ctx) { InsertValues(ctx, std::nullopt, 3); }

void ArrInsert(CommandContext& ctx) {
  std::optional<int64_t> index = IndexArg(ctx, 3);
  if (!index) return;
  InsertValues(ctx, index, 4);
}

// ---- JSON.ARRPOP key [path [index]] ----

void ArrPop(CommandContext& ctx) {
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  json::Value& root = storage::JsonRoot(e->value);
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.argc() > 2 ? ctx.arg(2) : ".");
  if (!path) return;
  // Default: the last element. A malformed index is taken as -1, as RedisJSON does.
  int64_t index = -1;
  if (ctx.argc() > 3) index = ParseInt64(ctx.arg(3)).value_or(-1);
  Targets t;
  if (!ArrayMatches(ctx, *path, root, path->jsonpath(), &t)) return;
  std::vector<std::optional<json::Value>> popped(t.arrays.size());
  int64_t delta = 0;
  for (size_t i : t.order) {
    json::Value* a = t.arrays[i];
    if (a->empty()) continue;
    int64_t len = static_cast<int64_t>(a->size());
    popped[i] = a->Erase(static_cast<size_t>(ClampIndex(index, len)));
    delta -= SlotBytes(*popped[i], /*object_member=*/false);
  }
  storage::AdjustJsonBytes(e->value, delta);
  if (path->is_legacy()) {
    // The last array's element; null when that array was empty.
    for (size_t i = popped.size(); i-- > 0;) {
      if (t.arrays[i] == nullptr) continue;
      if (!popped[i]) return ctx.reply().Null();
      return ReplyJson(ctx.reply(), *popped[i]);
    }
    return ctx.reply().Null();
  }
  ctx.reply().ArrayHeader(popped.size());
  for (const std::optional<json::Value>& v : popped) {
    if (v) {
      ReplyJson(ctx.reply(), *v);
    } else {
      ctx.reply().Null();
    }
  }
}

// ---- JSON.ARRTRIM key path start stop ----

// Keeps [start, stop] (inclusive) as RedisJSON normalizes them; returns the new length.
size_t Trim(json::Value& a, int64_t start, int64_t stop) {
  int64_t len = static_cast<int64_t>(a.size());
  int64_t hi = ClampIndex(stop, len);
  int64_t lo = (start < 0 || start < len) ? ClampIndex(start, len) : hi + 1;
  if (len == 0 || lo > hi) {
    a.KeepRange(0, 0);
  } else {
    a.KeepRange(static_cast<size_t>(lo), static_cast<size_t>(hi + 1));
  }
  return a.size();
}

void ArrTrim(CommandContext& ctx) {
  std::optional<int64_t> start = IndexArg(ctx, 3);
  if (!start) return;
  std::optional<int64_t> stop = IndexArg(ctx, 4);
  if (!stop) return;
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  json::Value& root = storage::JsonRoot(e->value);
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(2));
  if (!path) return;
  Targets t;
  if (!ArrayMatches(ctx, *path, root, path->jsonpath(), &t)) return;
  std::vector<int64_t> lengths(t.arrays.size(), 0);
  int64_t delta = 0;
  for (size_t i : t.order) {
    json::Value* a = t.arrays[i];
    int64_t before = static_cast<int64_t>(a->MemoryUsage());
    lengths[i] = static_cast<int64_t>(Trim(*a, *start, *stop));
    delta += static_cast<int64_t>(a->MemoryUsage()) - before;
  }
  storage::AdjustJsonBytes(e->value, delta);
  ReplyLengths(ctx, *path, t, lengths);
}

}  // namespace

void RegisterJsonArrayCommands(server::CommandTable& table) {
  using namespace server;
  auto one = [&](const char* name, int arity, uint32_t flags, CommandHandler h) {
    table.Add({.name = name,
               .arity = arity,
               .flags = flags,
               .first_key = 1,
               .last_key = 1,
               .key_step = 1,
               .handler = h});
  };
  one("json.arrappend", -4, kWrite | kDenyOom, ArrAppend);
  one("json.arrinsert", -5, kWrite | kDenyOom, ArrInsert);
  one("json.arrpop", -2, kWrite, ArrPop);
  one("json.arrtrim", 5, kWrite, ArrTrim);
}

}  // namespace shoal::cmd::jsoncmd
