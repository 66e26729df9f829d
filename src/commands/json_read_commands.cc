// JSON read commands: JSON.GET JSON.MGET JSON.TYPE JSON.STRLEN JSON.ARRLEN JSON.OBJKEYS
// JSON.OBJLEN JSON.ARRINDEX JSON.RESP JSON.DEBUG. Replies follow RedisJSON 2.x per path form
// (see json_common.h); JSON.MGET across shards has a coordinator, atomic like MGET.
#include <memory>

#include "commands/json_common.h"
#include "commands/register.h"
#include "protocol/errors.h"

namespace shoal::cmd::jsoncmd {
namespace {

using storage::Entry;

// The document of `key` for a read command. nullptr either with `*missing` set (the key is
// absent: the caller replies) or after replying the wrong-type error.
json::Value* ReadDoc(CommandContext& ctx, std::string_view key, bool* missing) {
  Result<Entry*> e = FindJson(ctx, key, kRead);
  if (!e.ok()) {
    ctx.ReplyError(e.status());
    return nullptr;
  }
  *missing = *e == nullptr;
  return *e == nullptr ? nullptr : &storage::JsonRoot((*e)->value);
}

// ---- JSON.GET key [INDENT s] [NEWLINE s] [SPACE s] [NOESCAPE] [path ...] ----

struct GetArgs {
  json::FormatOptions fmt;
  std::vector<std::string_view> paths;
};

// RedisJSON reads every argument longer than its longest keyword as a path at once.
constexpr size_t kLongestGetKeyword = 8;  // NOESCAPE

bool ParseGetArgs(CommandContext& ctx, GetArgs* a) {
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view arg = ctx.arg(i);
    std::string_view* slot = nullptr;
    if (arg.size() <= kLongestGetKeyword) {
      if (ArgIs(arg, "INDENT")) slot = &a->fmt.indent;
      if (ArgIs(arg, "NEWLINE")) slot = &a->fmt.newline;
      if (ArgIs(arg, "SPACE")) slot = &a->fmt.space;
      if (ArgIs(arg, "NOESCAPE")) continue;  // Accepted and ignored, as RedisJSON does.
    }
    if (slot == nullptr) {
      a->paths.push_back(arg);
      continue;
    }
    if (i + 1 >= ctx.argc()) {
      ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
      return false;
    }
    *slot = ctx.arg(++i);
  }
  if (a->paths.empty()) a->paths.push_back(".");  // No path: the legacy root.
  return true;
}

// Several paths: an object {"<path as given>": value-or-matches, ...} in argument order.
// Legacy values when every path is legacy (an unmatched one is an error), else match arrays.
// Paths that do not parse are left out, as RedisJSON does.
void GetMulti(CommandContext& ctx, const json::Value& root, const GetArgs& a) {
  struct PathMatches {
    std::string_view text;
    std::vector<const json::Value*> found;
  };
  std::vector<PathMatches> entries;
  bool all_legacy = true;
  for (std::string_view text : a.paths) {
    Result<json::Path> p = json::Path::Parse(text);
    if (!p.ok()) continue;
    all_legacy = all_legacy && p->is_legacy();
    bool repeated = false;  // A path given twice is one member (RedisJSON's map).
    for (const PathMatches& e : entries) repeated = repeated || e.text == text;
    if (repeated) continue;
    entries.push_back(PathMatches{text, json::Select(*p, root)});
  }
  if (all_legacy) {
    for (const PathMatches& e : entries) {
      if (e.found.empty()) return ctx.ReplyError(protocol::JsonPathMissingError(e.text));
    }
  }
  ReplyJsonBody(ctx.reply(), [&](std::string* out) {
    json::JsonWriter w(&a.fmt, out);
    w.BeginObject();
    for (const PathMatches& e : entries) {
      w.Key(e.text);
      if (all_legacy) {
        w.Write(*e.found[0]);
        continue;
      }
      w.BeginArray();
      for (const json::Value* v : e.found) w.Write(*v);
      w.EndArray();
    }
    w.EndObject();
  });
}

void Get(CommandContext& ctx) {
  GetArgs a;
  if (!ParseGetArgs(ctx, &a)) return;
  bool missing = false;
  json::Value* root = ReadDoc(ctx, ctx.arg(1), &missing);
  if (root == nullptr) {
    if (missing) ctx.reply().Null();
    return;
  }
  if (a.paths.size() > 1) return GetMulti(ctx, *root, a);
  std::optional<json::Path> path = PathArgOrReply(ctx, a.paths[0]);
  if (!path) return;
  if (path->is_root() && path->is_legacy()) return ReplyJson(ctx.reply(), *root, a.fmt);
  std::vector<const json::Value*> found = json::Select(*path, *root);
  if (!path->is_legacy()) return ReplyJsonArray(ctx.reply(), found, a.fmt);
  if (found.empty()) return ctx.ReplyError(protocol::JsonPathMissingError(path->jsonpath()));
  ReplyJson(ctx.reply(), *found[0], a.fmt);
}

// ---- JSON.MGET key [key ...] path ----

// Appends one key's JSON.MGET element: its value(s) at `path`, or null when the key is absent,
// not JSON, or (legacy path) has no match.
void MGetOne(storage::Db& db, int64_t now, std::string_view key, const json::Path* path,
             protocol::ReplyBuilder& r) {
  Entry* e = db.Find(key, now, kRead);
  if (e == nullptr || e->value.type() != storage::ValueType::kJson || path == nullptr) {
    return r.Null();
  }
  const json::Value& root = storage::JsonRoot(e->value);
  std::vector<const json::Value*> found = json::Select(*path, root);
  if (!path->is_legacy()) return ReplyJsonArray(r, found);
  if (found.empty()) return r.Null();
  ReplyJson(r, *found[0]);
}

std::optional<json::Path> MGetPath(std::string_view text) {
  Result<json::Path> p = json::Path::Parse(text);
  if (!p.ok()) return std::nullopt;  // Every element is then null, as in RedisJSON.
  return std::move(p).value();
}

void MGet(CommandContext& ctx) {
  std::optional<json::Path> path = MGetPath(ctx.arg(ctx.argc() - 1));
  ctx.reply().ArrayHeader(ctx.argc() - 2);
  for (size_t i = 1; i + 1 < ctx.argc(); ++i) {
    MGetOne(ctx.db(), ctx.now_ms(), ctx.arg(i), path ? &*path : nullptr, ctx.reply());
  }
}

struct MGetJob {
  std::vector<std::string> keys;
  ShardGroups groups;
  std::optional<json::Path> path;
  bool resp3 = false;
  std::vector<std::string> replies;  // One RESP element per key; each written by its owner.
};

void MGetCoordinator(CommandContext& ctx) {
  auto job = std::make_shared<MGetJob>();
  for (size_t i = 1; i + 1 < ctx.argc(); ++i) job->keys.emplace_back(ctx.arg(i));
  job->groups = GroupByShard(job->keys);
  job->path = MGetPath(ctx.arg(ctx.argc() - 1));
  job->resp3 = ctx.reply().resp3();
  job->replies.resize(job->keys.size());
  int db = ctx.db_index();
  int64_t now = ctx.now_ms();
  ctx.FanOut(
      job->groups.shards,
      [job, db, now](shard::Shard& s) {
        for (size_t i : job->groups.Of(s.id())) {
          protocol::ReplyBuilder r(&job->replies[i], job->resp3 ? 3 : 2);
          MGetOne(s.db(db), now, job->keys[i], job->path ? &*job->path : nullptr, r);
        }
      },
      [job](CommandContext& c) {
        c.reply().ArrayHeader(job->replies.size());
        for (const std::string& r : job->replies) c.reply().Raw(r);
      });
}

// ---- Commands that take `key [path]` ----

// A read command's key and path: the parsed path (the legacy root when the argument is absent)
// and the key's document (nullptr when the key is absent).
struct ReadTarget {
  json::Path path;
  const json::Value* root;
};

// Parses the path argument at `path_arg`, then finds the document of the key at `key_arg`: a
// bad path is reported before a wrong type, as RedisJSON does. Replies the error and returns
// nullopt for either.
std::optional<ReadTarget> ReadKeyPath(CommandContext& ctx, size_t key_arg = 1,
                                      size_t path_arg = 2) {
  std::optional<json::Path> path =
      PathArgOrReply(ctx, ctx.argc() > path_arg ? ctx.arg(path_arg) : ".");
  if (!path) return std::nullopt;
  bool missing = false;
  const json::Value* root = ReadDoc(ctx, ctx.arg(key_arg), &missing);
  if (root == nullptr && !missing) return std::nullopt;
  return ReadTarget{std::move(*path), root};
}

// A legacy path's value: its first match, or nullptr when nothing matches.
const json::Value* FirstMatch(const json::Path& path, const json::Value& root) {
  std::vector<const json::Value*> found = json::Select(path, root);
  return found.empty() ? nullptr : found[0];
}

// RedisJSON's error for a legacy path whose value is not of the `wanted` type.
void ReplyWrongType(CommandContext& ctx, std::string_view wanted, const json::Value& v) {
  ctx.ReplyError(protocol::JsonWrongTypeError(wanted, json::TypeName(v.type())));
}

// A JSONPath reply: one entry per match, `reply_one(value)` for a match of type `kind` and null
// for the others.
template <typename ReplyOne>
void ReplyEachOfType(CommandContext& ctx, const std::vector<const json::Value*>& found,
                     json::Type kind, ReplyOne reply_one) {
  ctx.reply().ArrayHeader(found.size());
  for (const json::Value* v : found) {
    if (v->type() == kind) {
      reply_one(*v);
    } else {
      ctx.reply().Null();
    }
  }
}

// ---- JSON.TYPE key [path] ----

void Type(CommandContext& ctx) {
  std::optional<ReadTarget> t = ReadKeyPath(ctx);
  if (!t) return;
  // RESP3 wraps the RESP2 reply in one more array (RedisJSON 2.6).
  if (ctx.reply().resp3()) ctx.reply().ArrayHeader(1);
  if (t->root == nullptr) return ctx.reply().Null();
  std::vector<const json::Value*> found = json::Select(t->path, *t->root);
  if (t->path.is_legacy()) {
    if (found.empty()) return ctx.reply().Null();
    return ctx.reply().Bulk(json::TypeName(found[0]->type()));
  }
  ctx.reply().ArrayHeader(found.size());
  for (const json::Value* v : found) ctx.reply().Bulk(json::TypeName(v->type()));
}

// ---- JSON.STRLEN / JSON.ARRLEN / JSON.OBJLEN key [path] ----
// One count for three types; what a legacy path or a missing key answers differs, as in
// RedisJSON.

// Bytes of a string, elements of an array, members of an object.
int64_t Length(const json::Value& v) {
  return static_cast<int64_t>(v.is_string() ? v.as_string().size() : v.size());
}

// The JSONPath reply: the length of each match of type `kind`, null for the others.
void ReplyLengths(CommandContext& ctx, const ReadTarget& t, json::Type kind) {
  ReplyEachOfType(ctx, json::Select(t.path, *t.root), kind,
                  [&](const json::Value& v) { ctx.reply().Integer(Length(v)); });
}

void Strlen(CommandContext& ctx) {
  std::optional<ReadTarget> t = ReadKeyPath(ctx);
  if (!t) return;
  if (t->path.is_legacy()) {
    if (t->root == nullptr) return ctx.reply().Null();
    const json::Value* v = FirstMatch(t->path, *t->root);
    if (v == nullptr) return ctx.ReplyError(protocol::JsonPathMissingError(t->path.jsonpath()));
    if (!v->is_string()) return ReplyWrongType(ctx, "string", *v);
    return ctx.reply().Integer(Length(*v));
  }
  if (t->root == nullptr) return ctx.ReplyError(protocol::kErrJsonNoKey);
  ReplyLengths(ctx, *t, json::Type::kString);
}

void Arrlen(CommandContext& ctx) {
  std::optional<ReadTarget> t = ReadKeyPath(ctx);
  if (!t) return;
  if (t->path.is_legacy()) {
    if (t->root == nullptr) return ctx.reply().Null();
    const json::Value* v = FirstMatch(t->path, *t->root);
    if (v == nullptr) return ctx.ReplyError(protocol::JsonPathMissingError(t->path.original()));
    if (!v->is_array()) {
      return ctx.ReplyError(protocol::JsonPathMissingOrError(t->path.original(), "not an array"));
    }
    return ctx.reply().Integer(Length(*v));
  }
  if (t->root == nullptr) return ctx.ReplyError(protocol::kErrJsonNoKey);
  ReplyLengths(ctx, *t, json::Type::kArray);
}

void Objlen(CommandContext& ctx) {
  std::optional<ReadTarget> t = ReadKeyPath(ctx);
  if (!t) return;
  if (t->path.is_legacy()) {
    if (t->root == nullptr) return ctx.reply().Null();
    const json::Value* v = FirstMatch(t->path, *t->root);
    if (v == nullptr) return ctx.reply().Null();
    if (!v->is_object()) return ReplyWrongType(ctx, "object", *v);
    return ctx.reply().Integer(Length(*v));
  }
  if (t->root == nullptr) {
    return ctx.ReplyError(protocol::JsonPathMissingOrError(t->path.jsonpath(), "not an object"));
  }
  ReplyLengths(ctx, *t, json::Type::kObject);
}

// ---- JSON.OBJKEYS key [path] ----

void ReplyKeys(CommandContext& ctx, const json::Value& obj) {
  ctx.reply().ArrayHeader(obj.size());
  for (const json::Member& m : obj.members()) ctx.reply().Bulk(m.name());
}

void Objkeys(CommandContext& ctx) {
  std::optional<ReadTarget> t = ReadKeyPath(ctx);
  if (!t) return;
  if (t->path.is_legacy()) {
    if (t->root == nullptr) return ctx.reply().Null();
    const json::Value* v = FirstMatch(t->path, *t->root);
    if (v == nullptr) return ctx.reply().Null();
    if (!v->is_object()) {
      return ctx.ReplyError(protocol::JsonPathMissingOrError(t->path.jsonpath(), "not an object"));
    }
    return ReplyKeys(ctx, *v);
  }
  if (t->root == nullptr) return ctx.ReplyError(protocol::kErrJsonNoKey);
  ReplyEachOfType(ctx, json::Select(t->path, *t->root), json::Type::kObject,
                  [&](const json::Value& v) { ReplyKeys(ctx, v); });
}

// ---- JSON.ARRINDEX key path value [start [stop]] ----

// RedisJSON's is_equal: same JSON type (an integer never equals a double), deep for containers.
bool SameValue(const json::Value& a, const json::Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case json::Type::kNull:
      return true;
    case json::Type::kBool:
      return a.as_bool() == b.as_bool();
    case json::Type::kInt:
      return a.as_int() == b.as_int();
    case json::Type::kDouble:
      return a.as_double() == b.as_double();
    case json::Type::kString:
      return a.as_string() == b.as_string();
    case json::Type::kArray: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!SameValue(a[i], b[i])) return false;
      }
      return true;
    }
    case json::Type::kObject: {
      if (a.size() != b.size()) return false;
      for (const json::Member& m : a.members()) {
        const json::Value* other = b.Find(m.name());
        if (other == nullptr || !SameValue(m.value, *other)) return false;
      }
      return true;
    }
  }
  return false;
}

// The first index of `needle` in arr[start, stop) as RedisJSON normalizes them: negative counts
// from the end, start clamps into the array, stop 0 means the end. -1 when not found.
int64_t IndexOf(const json::Value& arr, const json::Value& needle, int64_t start, int64_t stop) {
  int64_t len = static_cast<int64_t>(arr.size());
  if (len == 0) return -1;
  start = ClampIndex(start, len);
  stop = stop == 0 ? len : (stop < 0 ? std::max<int64_t>(0, len + stop) : std::min(stop, len));
  for (int64_t i = start; i < stop; ++i) {
    if (SameValue(arr[static_cast<size_t>(i)], needle)) return i;
  }
  return -1;
}

void Arrindex(CommandContext& ctx) {
  if (ctx.argc() > 6) return ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
  int64_t start = 0, stop = 0;
  for (size_t i = 4; i < ctx.argc(); ++i) {
    std::optional<int64_t> v = ParseInt64(ctx.arg(i));
    if (!v) return ctx.ReplyError(protocol::kErrJsonNotInteger);
    (i == 4 ? start : stop) = *v;
  }
  bool missing = false;
  json::Value* root = ReadDoc(ctx, ctx.arg(1), &missing);
  if (root == nullptr && !missing) return;
  std::optional<json::Value> needle = JsonArgOrReply(ctx, ctx.arg(3));
  if (!needle) return;
  if (missing) return ctx.ReplyError(protocol::JsonPathMissingError(ctx.arg(2)));
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(2));
  if (!path) return;
  if (path->is_legacy()) {
    const json::Value* v = FirstMatch(*path, *root);
    if (v == nullptr) return ctx.ReplyError(protocol::JsonPathMissingError(path->jsonpath()));
    if (!v->is_array()) return ReplyWrongType(ctx, "array", *v);
    return ctx.reply().Integer(IndexOf(*v, *needle, start, stop));
  }
  ReplyEachOfType(ctx, json::Select(*path, *root), json::Type::kArray, [&](const json::Value& v) {
    ctx.reply().Integer(IndexOf(v, *needle, start, stop));
  });
}

// ---- JSON.RESP key [path] ----

void Resp(CommandContext& ctx) {
  std::optional<ReadTarget> t = ReadKeyPath(ctx);
  if (!t) return;
  if (t->root == nullptr) return ctx.reply().Null();
  std::vector<const json::Value*> found = json::Select(t->path, *t->root);
  if (t->path.is_legacy()) {
    if (found.empty()) return ctx.ReplyError(protocol::JsonPathMissingError(t->path.jsonpath()));
    return ReplyResp(ctx.reply(), *found[0]);
  }
  ctx.reply().ArrayHeader(found.size());
  for (const json::Value* v : found) ReplyResp(ctx.reply(), *v);
}

// ---- JSON.DEBUG MEMORY key [path] | JSON.DEBUG HELP ----

void DebugMemory(CommandContext& ctx) {
  if (ctx.argc() > 4) return ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
  std::optional<ReadTarget> t = ReadKeyPath(ctx, /*key_arg=*/2, /*path_arg=*/3);
  if (!t) return;
  if (t->path.is_legacy()) {
    if (t->root == nullptr) return ctx.reply().Integer(0);
    const json::Value* v = FirstMatch(t->path, *t->root);
    if (v == nullptr) return ctx.ReplyError(protocol::JsonPathMissingError(t->path.jsonpath()));
    return ctx.reply().Integer(static_cast<int64_t>(v->MemoryUsage()));
  }
  if (t->root == nullptr) return ctx.reply().ArrayHeader(0);
  std::vector<const json::Value*> found = json::Select(t->path, *t->root);
  ctx.reply().ArrayHeader(found.size());
  for (const json::Value* v : found) ctx.reply().Integer(static_cast<int64_t>(v->MemoryUsage()));
}

void DebugHelp(CommandContext& ctx) {
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk("MEMORY <key> [path] - reports memory usage");
  ctx.reply().Bulk("HELP                - this message");
}

}  // namespace

void RegisterJsonReadCommands(server::CommandTable& table) {
  using namespace server;
  auto one = [&](const char* name, int arity, CommandHandler h) {
    table.Add({.name = name,
               .arity = arity,
               .flags = kReadOnly,
               .first_key = 1,
               .last_key = 1,
               .key_step = 1,
               .handler = h});
  };
  one("json.get", -2, Get);
  table.Add({.name = "json.mget",
             .arity = -3,
             .flags = kReadOnly,
             .first_key = 1,
             .last_key = -2,
             .key_step = 1,
             .handler = MGet,
             .coordinator = MGetCoordinator});
  one("json.type", -2, Type);
  one("json.strlen", -2, Strlen);
  one("json.arrlen", -2, Arrlen);
  one("json.objlen", -2, Objlen);
  one("json.objkeys", -2, Objkeys);
  one("json.arrindex", -4, Arrindex);
  one("json.resp", -2, Resp);
  CommandSpec debug{.name = "json.debug", .arity = -2, .flags = kReadOnly};
  debug.AddSubcommand("memory", -3, kReadOnly, DebugMemory, 2);
  debug.AddSubcommand("help", 2, kReadOnly, DebugHelp);
  table.Add(std::move(debug));
}

}  // namespace shoal::cmd::jsoncmd
