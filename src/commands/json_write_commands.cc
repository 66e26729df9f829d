// JSON write commands: JSON.SET JSON.MSET JSON.MERGE JSON.DEL JSON.FORGET JSON.CLEAR
// JSON.TOGGLE JSON.NUMINCRBY JSON.NUMMULTBY JSON.STRAPPEND. Array commands live in
// json_array_commands.cc. JSON.MSET across shards has a coordinator that checks every triple on
// its owner before any is written, all under the transaction's locks, so it is all or nothing
// and atomic like MSET.
#include <algorithm>
#include <cmath>
#include <memory>

#include "commands/json_common.h"
#include "commands/register.h"
#include "protocol/errors.h"

namespace shoal::cmd::jsoncmd {
namespace {

using storage::Entry;

// The document of `key` for a write command. Replies and returns false on a wrong type.
bool WriteDoc(CommandContext& ctx, std::string_view key, Entry** out) {
  Result<Entry*> e = FindJson(ctx, key);
  if (!e.ok()) {
    ctx.ReplyError(e.status());
    return false;
  }
  *out = *e;
  return true;
}

// ---- JSON.SET key path value [NX | XX] / JSON.MERGE key path value ----

// JSON.SET and JSON.MERGE after their options: the same checks, replies and new-key rule; only
// what happens to an existing value differs (replaced, or merged per RFC 7386).
void SetOrMerge(CommandContext& ctx, SetMode mode, bool merge) {
  Entry* e = nullptr;
  if (!WriteDoc(ctx, ctx.arg(1), &e)) return;
  std::optional<json::Value> value = JsonArgOrReply(ctx, ctx.arg(3));
  if (!value) return;
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(2));
  if (!path) return;
  if (e == nullptr) {
    if (mode == SetMode::kXx) return ctx.reply().Null();
    if (!path->is_root()) return ctx.ReplyError(protocol::kErrJsonNewAtRoot);
    ctx.db().Insert(ctx.arg(1), storage::MakeJson(std::move(*value)));
    return ctx.reply().Ok();
  }
  SetPlan plan = PlanSet(*path, storage::JsonRoot(e->value), mode, *value);
  if (!plan.error.empty()) return ctx.ReplyError(plan.error);
  if (plan.nothing()) return ctx.reply().Null();
  ApplySet(e->value, plan, std::move(*value), merge);
  ctx.reply().Ok();
}

void Set(CommandContext& ctx) {
  SetMode mode = SetMode::kAny;
  for (size_t i = 4; i < ctx.argc(); ++i) {
    if (ArgIs(ctx.arg(i), "NX") && mode == SetMode::kAny) {
      mode = SetMode::kNx;
    } else if (ArgIs(ctx.arg(i), "XX") && mode == SetMode::kAny) {
      mode = SetMode::kXx;
    } else {
      return ctx.ReplyError(Status::Syntax());
    }
  }
  SetOrMerge(ctx, mode, /*merge=*/false);
}

void Merge(CommandContext& ctx) { SetOrMerge(ctx, SetMode::kAny, /*merge=*/true); }

// ---- JSON.MSET key path value [key path value ...] ----

// One triple, parsed: what every check and write needs, owned (it may cross threads).
struct Triple {
  std::string key;
  json::Path path;
  json::Value value;
};

// Parses every triple's path and value. Replies the first error and returns false.
bool ParseTriples(CommandContext& ctx, std::vector<Triple>* out) {
  if ((ctx.argc() - 1) % 3 != 0) {
    ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
    return false;
  }
  for (size_t i = 1; i + 2 < ctx.argc(); i += 3) {
    std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(i + 1));
    if (!path) return false;
    std::optional<json::Value> value = JsonArgOrReply(ctx, ctx.arg(i + 2));
    if (!value) return false;
    out->push_back(Triple{std::string(ctx.arg(i)), std::move(*path), std::move(*value)});
  }
  return true;
}

// Runs on: the owner of t.key. The error JSON.MSET would answer for this triple, or "".
std::string CheckTriple(storage::Db& db, int64_t now, Triple& t) {
  Entry* e = db.Find(t.key, now);
  if (e == nullptr) return t.path.is_root() ? "" : std::string(protocol::kErrJsonNewAtRoot);
  if (e->value.type() != storage::ValueType::kJson) return std::string(protocol::kErrWrongType);
  if (t.path.is_root()) return "";
  return PlanSet(t.path, storage::JsonRoot(e->value), SetMode::kAny, t.value).error;
}

// Runs on: the owner of t.key, after every triple passed CheckTriple.
void WriteTriple(storage::Db& db, int64_t now, Triple& t) {
  Entry* e = db.Find(t.key, now);
  if (e == nullptr) {
    db.Insert(t.key, storage::MakeJson(std::move(t.value)));
    return;
  }
  SetPlan plan = PlanSet(t.path, storage::JsonRoot(e->value), SetMode::kAny, t.value);
  ApplySet(e->value, plan, std::move(t.value), /*merge=*/false);
}

void MSet(CommandContext& ctx) {
  std::vector<Triple> triples;
  if (!ParseTriples(ctx, &triples)) return;
  for (Triple& t : triples) {
    std::string err = CheckTriple(ctx.db(), ctx.now_ms(), t);
    if (!err.empty()) return ctx.ReplyError(err);
  }
  for (Triple& t : triples) WriteTriple(ctx.db(), ctx.now_ms(), t);
  ctx.reply().Ok();
}

struct MSetJob {
  std::vector<Triple> triples;
  ShardGroups groups;
  std::vector<std::string> errors;  // Per triple; each written by its key's owner only.
};

void MSetCoordinator(CommandContext& ctx) {
  auto job = std::make_shared<MSetJob>();
  if (!ParseTriples(ctx, &job->triples)) return;
  std::vector<std::string> keys;
  for (const Triple& t : job->triples) keys.push_back(t.key);
  job->groups = GroupByShard(keys);
  job->errors.resize(job->triples.size());
  int db = ctx.db_index();
  int64_t now = ctx.now_ms();
  // Two rounds under the transaction's locks: check every triple, then write them all.
  ctx.FanOut(
      job->groups.shards,
      [job, db, now](shard::Shard& s) {
        for (size_t i : job->groups.Of(s.id())) {
          job->errors[i] = CheckTriple(s.db(db), now, job->triples[i]);
        }
      },
      [job, db, now](CommandContext& c) {
        for (const std::string& err : job->errors) {
          if (!err.empty()) return c.ReplyError(err);
        }
        c.FanOut(
            job->groups.shards,
            [job, db, now](shard::Shard& s) {
              for (size_t i : job->groups.Of(s.id())) WriteTriple(s.db(db), now, job->triples[i]);
            },
            [](CommandContext& c2) { c2.reply().Ok(); });
      });
}

// ---- JSON.DEL / JSON.FORGET key [path] ----

void Del(CommandContext& ctx) {
  Entry* e = nullptr;
  if (!WriteDoc(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.reply().Integer(0);
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.argc() > 2 ? ctx.arg(2) : ".");
  if (!path) return;
  if (path->is_root()) {
    ctx.db().Erase(e);
    return ctx.reply().Integer(1);
  }
  json::Value& root = storage::JsonRoot(e->value);
  std::vector<json::Match> matches = json::SelectForUpdate(*path, root);
  size_t removed = matches.empty() ? 0 : json::EraseMatches(root, matches);
  if (removed > 0) RecountJson(e->value);
  ctx.reply().Integer(static_cast<int64_t>(removed));
}

// ---- JSON.CLEAR key [path] ----

void Clear(CommandContext& ctx) {
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  // RedisJSON reads only the first path.
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.argc() > 2 ? ctx.arg(2) : "$");
  if (!path) return;
  int64_t cleared = 0, delta = 0;
  // Deepest first: clearing a container destroys what it holds, matches included.
  std::vector<json::Match> matches = json::SelectForUpdate(*path, storage::JsonRoot(e->value));
  std::stable_sort(matches.begin(), matches.end(),
                   [](const json::Match& a, const json::Match& b) { return a.depth > b.depth; });
  for (json::Match& m : matches) {
    json::Value& v = *m.value;
    bool non_empty_container = v.is_container() && !v.empty();
    bool non_zero = (v.is_int() && v.as_int() != 0) || (v.is_double() && v.as_double() != 0.0);
    if (!non_empty_container && !non_zero) continue;
    int64_t before = static_cast<int64_t>(v.MemoryUsage());
    if (non_zero) {
      v = json::Value(int64_t{0});  // RedisJSON clears every number to the integer 0.
    } else {
      v.ClearChildren();
    }
    delta += static_cast<int64_t>(v.MemoryUsage()) - before;
    ++cleared;
  }
  storage::AdjustJsonBytes(e->value, delta);
  ctx.reply().Integer(cleared);
}

// ---- JSON.TOGGLE key path ----

void Toggle(CommandContext& ctx) {
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(2));
  if (!path) return;
  std::vector<json::Match> matches = json::SelectForUpdate(*path, storage::JsonRoot(e->value));
  if (path->is_legacy()) {
    std::optional<bool> last;
    for (json::Match& m : matches) {
      if (!m.value->is_bool()) continue;
      *m.value = json::Value(!m.value->as_bool());
      last = m.value->as_bool();
    }
    if (!last)
      return ctx.ReplyError(protocol::JsonPathMissingOrError(path->jsonpath(), "not a bool"));
    return ctx.reply().Bulk(*last ? "true" : "false");
  }
  ctx.reply().ArrayHeader(matches.size());
  for (json::Match& m : matches) {
    if (!m.value->is_bool()) {
      ctx.reply().Null();
      continue;
    }
    *m.value = json::Value(!m.value->as_bool());
    ctx.reply().Integer(m.value->as_bool() ? 1 : 0);
  }
}

// ---- JSON.NUMINCRBY / JSON.NUMMULTBY key path number ----

// target op= operand, as RedisJSON computes it: integers stay integers when both are integers
// (and the result fits), else doubles; a result that is not a finite number is an error.
Status NumOp(json::Value& target, const json::Value& operand, bool mult) {
  if (target.is_int() && operand.is_int()) {
    int64_t r;
    bool overflow = mult ? __builtin_mul_overflow(target.as_int(), operand.as_int(), &r)
                         : __builtin_add_overflow(target.as_int(), operand.as_int(), &r);
    if (!overflow) {
      target = json::Value(r);
      return Status::Ok();
    }
  }
  double r = mult ? target.number() * operand.number() : target.number() + operand.number();
  if (!std::isfinite(r)) return Status::Error(std::string(protocol::kErrJsonNotANumber));
  target = json::Value(r);
  return Status::Ok();
}

void NumCommand(CommandContext& ctx, bool mult) {
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  std::optional<json::Path> path = PathArgOrReply(ctx, ctx.arg(2));
  if (!path) return;
  std::vector<json::Match> matches = json::SelectForUpdate(*path, storage::JsonRoot(e->value));
  bool any_number = false;
  for (const json::Match& m : matches) any_number = any_number || m.value->is_number();
  if (!any_number && path->is_legacy() && !ctx.reply().resp3()) {
    return ctx.ReplyError(
        protocol::JsonPathMissingOrError(path->jsonpath(), "does not contains a number"));
  }
  // The operand is read only once there is a number to apply it to, as in RedisJSON.
  json::Value operand;
  if (any_number) {
    std::optional<json::Value> parsed = JsonArgOrReply(ctx, ctx.arg(3));
    if (!parsed) return;
    if (!parsed->is_number()) return ctx.ReplyError(protocol::kErrJsonBadNumber);
    operand = std::move(*parsed);
  }
  // Apply everything first: an error leaves earlier matches changed, as in RedisJSON.
  for (const json::Match& m : matches) {
    if (!m.value->is_number()) continue;
    Status s = NumOp(*m.value, operand, mult);
    if (!s.ok()) return ctx.ReplyError(s);
  }
  protocol::ReplyBuilder& r = ctx.reply();
  if (r.resp3()) {  // RESP3: an array of numbers for either path form (RedisJSON 2.6).
    r.ArrayHeader(matches.size());
    for (const json::Match& m : matches) {
      if (m.value->is_int()) {
        r.Integer(m.value->as_int());
      } else if (m.value->is_double()) {
        r.Double(m.value->as_double());
      } else {
        r.Null();
      }
    }
    return;
  }
  if (path->is_legacy()) {
    const json::Value* last = nullptr;
    for (const json::Match& m : matches) {
      if (m.value->is_number()) last = m.value;
    }
    return ReplyJson(r, *last);
  }
  // RESP2 JSONPath: one JSON array of the new values, null for non-numbers.
  json::Value out = json::Value::Array(matches.size());
  for (const json::Match& m : matches) {
    out.PushBack(m.value->is_number() ? m.value->Clone() : json::Value());
  }
  ReplyJson(r, out);
}

void NumIncrBy(CommandContext& ctx) { NumCommand(ctx, /*mult=*/false); }
void NumMultBy(CommandContext& ctx) { NumCommand(ctx, /*mult=*/true); }

// ---- JSON.STRAPPEND key [path] string ----

void StrAppend(CommandContext& ctx) {
  std::string_view path_text = ctx.argc() > 3 ? ctx.arg(2) : ".";
  std::string_view json_text = ctx.argc() > 3 ? ctx.arg(3) : ctx.arg(2);
  Entry* e = nullptr;
  if (!ExistingDoc(ctx, ctx.arg(1), &e)) return;
  std::optional<json::Path> path = PathArgOrReply(ctx, path_text);
  if (!path) return;
  std::vector<json::Match> matches = json::SelectForUpdate(*path, storage::JsonRoot(e->value));
  bool any_string = false;
  for (const json::Match& m : matches) any_string = any_string || m.value->is_string();
  if (!any_string && path->is_legacy()) {
    return ctx.ReplyError(protocol::JsonPathMissingOrError(path->jsonpath(), "not a string"));
  }
  json::Value tail;
  if (any_string) {
    std::optional<json::Value> parsed = JsonArgOrReply(ctx, json_text);
    if (!parsed) return;
    if (!parsed->is_string())
      return ctx.ReplyError(protocol::JsonWrongTypeError("string", json_text));
    tail = std::move(*parsed);
  }
  int64_t delta = 0;
  for (const json::Match& m : matches) {
    if (!m.value->is_string()) continue;
    int64_t before = static_cast<int64_t>(m.value->HeapUsage());
    m.value->AppendString(tail.as_string());
    delta += static_cast<int64_t>(m.value->HeapUsage()) - before;
  }
  storage::AdjustJsonBytes(e->value, delta);
  if (path->is_legacy()) {
    int64_t len = 0;
    for (const json::Match& m : matches) {
      if (m.value->is_string()) len = static_cast<int64_t>(m.value->as_string().size());
    }
    return ctx.reply().Integer(len);
  }
  ctx.reply().ArrayHeader(matches.size());
  for (const json::Match& m : matches) {
    if (m.value->is_string()) {
      ctx.reply().Integer(static_cast<int64_t>(m.value->as_string().size()));
    } else {
      ctx.reply().Null();
    }
  }
}

}  // namespace

void RegisterJsonWriteCommands(server::CommandTable& table) {
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
  one("json.set", -4, kWrite | kDenyOom, Set);
  table.Add({.name = "json.mset",
             .arity = -4,
             .flags = kWrite | kDenyOom,
             .first_key = 1,
             .last_key = -1,
             .key_step = 3,
             .handler = MSet,
             .coordinator = MSetCoordinator});
  one("json.merge", 4, kWrite | kDenyOom, Merge);
  one("json.del", -2, kWrite, Del);
  one("json.forget", -2, kWrite, Del);
  one("json.clear", -2, kWrite, Clear);
  one("json.toggle", 3, kWrite | kDenyOom, Toggle);
  one("json.numincrby", 4, kWrite, NumIncrBy);
  one("json.nummultby", 4, kWrite, NumMultBy);
  one("json.strappend", -3, kWrite | kDenyOom, StrAppend);
}

}  // namespace shoal::cmd::jsoncmd

namespace shoal::cmd {

void RegisterJsonCommands(server::CommandTable& table) {
  jsoncmd::RegisterJsonReadCommands(table);
  jsoncmd::RegisterJsonWriteCommands(table);
  jsoncmd::RegisterJsonArrayCommands(table);
}

}  // namespace shoal::cmd
