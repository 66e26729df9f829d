// Blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP.
//
// Each command parses its arguments on the connection's thread (they run kConnectionOnly, with
// the client at hand), then hands a BlockedWait to server::Block, which serves it at once when a
// key holds data or parks the client until one does (see server/blocking.h). The waits below
// only say what "ready" means for them and how to take the data and shape the reply; they run on
// the key's owner shard.
#include <cmath>
#include <memory>

#include "commands/helpers.h"
#include "commands/list_ops.h"
#include "commands/register.h"
#include "commands/zset_ops.h"
#include "server/blocking.h"
#include "server/write_log.h"
#include "server/client.h"

namespace shoal::cmd {

namespace {

using server::BlockedWait;
using server::CommandFlag;
using KeyState = BlockedWait::KeyState;

// Redis's getTimeoutFromObjectOrReply for seconds: a float, rounded up to whole milliseconds.
// Values too large for a 64-bit millisecond count wrap negative in Redis 7.0 ("timeout is
// negative"), and so they do here.
std::optional<int64_t> TimeoutMsOrReply(CommandContext& ctx, std::string_view arg) {
  std::optional<long double> secs = ParseLongDouble(arg);
  if (!secs) {
    ctx.ReplyError("ERR timeout is not a float or out of range");
    return std::nullopt;
  }
  long double ms = std::ceil(*secs * 1000.0L);
  if (!(ms < 9.2e18L) || ms < 0) {
    ctx.ReplyError("ERR timeout is negative");
    return std::nullopt;
  }
  return static_cast<int64_t>(ms);
}

// Redis's getRangeLongFromObjectOrReply(1, LONG_MAX, msg): the same message for "not a number"
// and "out of range".
std::optional<int64_t> PositiveOrReply(CommandContext& ctx, std::string_view arg,
                                       std::string_view message) {
  std::optional<int64_t> v = ParseInt64(arg);
  if (!v || *v < 1) {
    ctx.ReplyError(message);
    return std::nullopt;
  }
  return v;
}

ListEnd End(bool left) { return left ? ListEnd::kHead : ListEnd::kTail; }
std::string_view Side(bool left) { return left ? "LEFT" : "RIGHT"; }

// Pushes one element at `end` of the list at `key`, creating it if absent.
// REQUIRES: `key` is absent or holds a list.
void PushBack(storage::Db& db, std::string_view key, ListEnd end, std::string_view item) {
  Result<storage::Entry*> e = FindList(db, key, UnixTimeMs());
  std::string_view items[] = {item};
  PushElements(db, e.ok() ? *e : nullptr, key, end, items);
}

KeyState CheckType(storage::Db& db, std::string_view key, int64_t now_ms, storage::ValueType t) {
  storage::Entry* e = db.Find(key, now_ms, storage::kLookupNoTouch);
  if (e == nullptr) return KeyState::kEmpty;
  return e->value.type() == t ? KeyState::kReady : KeyState::kWrongType;
}

// --- lists -----------------------------------------------------------------------------------

// BLPOP, BRPOP (count 1, flat reply) and BLMPOP (count n, nested reply).
class ListPopWait : public BlockedWait {
 public:
  ListPopWait(bool left, int64_t count, bool mpop) : left_(left), count_(count), mpop_(mpop) {}

  KeyState Check(storage::Db& db, std::string_view key, int64_t now_ms) override {
    return CheckType(db, key, now_ms, storage::ValueType::kList);
  }
  void Serve(shard::Shard&, storage::Db& db, std::string_view key, int64_t now_ms) override {
    storage::Entry* e = db.Find(key, now_ms, storage::kLookupTouch);
    std::vector<std::string> items =
        PopElements(db, e, left_ ? ListEnd::kHead : ListEnd::kTail, static_cast<size_t>(count_));
    std::string n = std::to_string(items.size());
    server::WriteLog::Command(db_index, {left_ ? "LPOP" : "RPOP", key, n});
    std::string out;
    protocol::ReplyBuilder r(&out, resp);
    r.ArrayHeader(2);
    r.Bulk(key);
    if (mpop_) {
      r.ArrayHeader(items.size());
      for (const std::string& s : items) r.Bulk(s);
    } else {
      r.Bulk(items.front());
    }
    Deliver(std::move(out));
  }
  void ReplyTimeout(protocol::ReplyBuilder& r) override { r.NullArray(); }

 private:
  bool left_;
  int64_t count_;
  bool mpop_;
};

// BLMOVE and BRPOPLPUSH: waits on the source only; the destination may live on another shard.
class ListMoveWait : public BlockedWait {
 public:
  ListMoveWait(std::string dest, bool from_left, bool to_left)
      : dest_(std::move(dest)), from_left_(from_left), to_left_(to_left) {}

  KeyState Check(storage::Db& db, std::string_view key, int64_t now_ms) override {
    return CheckType(db, key, now_ms, storage::ValueType::kList);
  }
  void Serve(shard::Shard& shard, storage::Db& db, std::string_view key, int64_t now_ms) override {
    shard::ShardSet& set = shard.shard_set();
    shard::ShardId dest_owner = set.OwnerOf(dest_);
    if (dest_owner == shard.id()) {
      // Same shard: LMOVE's own logic checks the destination before anything moves.
      Result<std::optional<std::string>> moved =
          MoveElement(db, key, dest_, End(from_left_), End(to_left_), now_ms);
      if (!moved.ok()) return DeliverWrongType();
      server::WriteLog::Command(db_index, {"LMOVE", key, dest_, Side(from_left_), Side(to_left_)});
      return DeliverItem(**moved);
    }
    // Another shard: pop here, push there. If the destination turns out to hold another type,
    // the element goes back where it came from and the client gets WRONGTYPE.
    storage::Entry* e = db.Find(key, now_ms, storage::kLookupTouch);
    std::string item = std::move(PopElements(db, e, End(from_left_), 1).front());
    // Across shards the move is a pop here and a push there, each logged by its shard.
    server::WriteLog::Command(db_index, {from_left_ ? "LPOP" : "RPOP", key});
    auto self = std::static_pointer_cast<ListMoveWait>(shared_from_this());
    shard::Shard* source = &shard;
    std::string source_key(key);
    set.shard(dest_owner).Post([self, item, source, source_key, &set, dest_owner]() {
      shard::Shard& here = set.shard(dest_owner);
      storage::Db& ddb = here.db(self->db_index);
      int64_t now = UnixTimeMs();
      if (CheckType(ddb, self->dest_, now, storage::ValueType::kList) == KeyState::kWrongType) {
        source->Post([self, item, source, source_key] {
          storage::Db& sdb = source->db(self->db_index);
          PushBack(sdb, source_key, End(self->from_left_), item);
          server::WriteLog::Command(self->db_index,
                                    {self->from_left_ ? "LPUSH" : "RPUSH", source_key, item});
          server::ThisShardBlocking().ServeReady(*source);
          self->DeliverWrongType();
        });
        return;
      }
      PushBack(ddb, self->dest_, End(self->to_left_), item);
      server::WriteLog::Command(self->db_index,
                                {self->to_left_ ? "LPUSH" : "RPUSH", self->dest_, item});
      server::ThisShardBlocking().ServeReady(here);
      self->DeliverItem(item);
    });
  }
  // Redis answers every timed-out list wait with a null array, BLMOVE's included...
  void ReplyTimeout(protocol::ReplyBuilder& r) override { r.NullArray(); }
  // ...but inside MULTI it runs as LMOVE, whose empty reply is a null bulk string.
  void ReplyEmpty(protocol::ReplyBuilder& r) override { r.Null(); }

 private:
  void DeliverItem(const std::string& item) {
    std::string out;
    protocol::ReplyBuilder(&out, resp).Bulk(item);
    Deliver(std::move(out));
  }
  void DeliverWrongType() {
    std::string out;
    protocol::ReplyBuilder(&out, resp).Error(Status::WrongType());
    Deliver(std::move(out));
  }

  std::string dest_;
  bool from_left_;
  bool to_left_;
};

void BlockingListPop(CommandContext& ctx, bool left) {
  std::optional<int64_t> timeout = TimeoutMsOrReply(ctx, ctx.arg(ctx.argc() - 1));
  if (!timeout) return;
  auto wait = std::make_shared<ListPopWait>(left, 1, /*mpop=*/false);
  for (size_t i = 1; i + 1 < ctx.argc(); ++i) wait->keys.emplace_back(ctx.arg(i));
  wait->command = left ? "blpop" : "brpop";
  server::Block(ctx, std::move(wait), *timeout);
}

void BLPop(CommandContext& ctx) { BlockingListPop(ctx, true); }
void BRPop(CommandContext& ctx) { BlockingListPop(ctx, false); }

std::optional<bool> SideOrReply(CommandContext& ctx, std::string_view arg, std::string_view a,
                                std::string_view b) {
  if (ArgIs(arg, a)) return true;
  if (ArgIs(arg, b)) return false;
  ctx.ReplyError(Status::Syntax());
  return std::nullopt;
}

void StartMove(CommandContext& ctx, bool from_left, bool to_left, std::string_view timeout_arg,
               const char* name) {
  std::optional<int64_t> timeout = TimeoutMsOrReply(ctx, timeout_arg);
  if (!timeout) return;
  auto wait = std::make_shared<ListMoveWait>(std::string(ctx.arg(2)), from_left, to_left);
  wait->keys.emplace_back(ctx.arg(1));
  wait->command = name;
  server::Block(ctx, std::move(wait), *timeout);
}

void BLMove(CommandContext& ctx) {
  std::optional<bool> from = SideOrReply(ctx, ctx.arg(3), "left", "right");
  if (!from) return;
  std::optional<bool> to = SideOrReply(ctx, ctx.arg(4), "left", "right");
  if (!to) return;
  StartMove(ctx, *from, *to, ctx.arg(5), "blmove");
}

void BRPopLPush(CommandContext& ctx) { StartMove(ctx, false, true, ctx.arg(3), "brpoplpush"); }

// The shared tail of BLMPOP and BZMPOP: "timeout numkeys key... <side> [COUNT n]", checked in
// Redis's order (numkeys, side, options, then the timeout).
struct MPopArgs {
  std::vector<std::string> keys;
  bool first_side = true;  // LEFT / MIN.
  int64_t count = 1;
  int64_t timeout_ms = 0;
};

std::optional<MPopArgs> ParseMPop(CommandContext& ctx, std::string_view side_a,
                                  std::string_view side_b) {
  MPopArgs out;
  std::optional<int64_t> numkeys = PositiveOrReply(ctx, ctx.arg(2), "ERR numkeys should be greater than 0");
  if (!numkeys) return std::nullopt;
  size_t side_at = 3 + static_cast<size_t>(*numkeys);
  if (*numkeys > static_cast<int64_t>(ctx.argc()) || side_at >= ctx.argc()) {
    ctx.ReplyError(Status::Syntax());
    return std::nullopt;
  }
  std::optional<bool> side = SideOrReply(ctx, ctx.arg(side_at), side_a, side_b);
  if (!side) return std::nullopt;
  out.first_side = *side;
  bool have_count = false;
  for (size_t j = side_at + 1; j < ctx.argc(); ++j) {
    if (!have_count && ArgIs(ctx.arg(j), "count") && j + 1 < ctx.argc()) {
      std::optional<int64_t> c = PositiveOrReply(ctx, ctx.arg(++j), "ERR count should be greater than 0");
      if (!c) return std::nullopt;
      out.count = *c;
      have_count = true;
    } else {
      ctx.ReplyError(Status::Syntax());
      return std::nullopt;
    }
  }
  std::optional<int64_t> timeout = TimeoutMsOrReply(ctx, ctx.arg(1));
  if (!timeout) return std::nullopt;
  out.timeout_ms = *timeout;
  for (size_t i = 3; i < side_at; ++i) out.keys.emplace_back(ctx.arg(i));
  return out;
}

void BLMPop(CommandContext& ctx) {
  std::optional<MPopArgs> a = ParseMPop(ctx, "left", "right");
  if (!a) return;
  auto wait = std::make_shared<ListPopWait>(a->first_side, a->count, /*mpop=*/true);
  wait->keys = std::move(a->keys);
  wait->command = "blmpop";
  server::Block(ctx, std::move(wait), a->timeout_ms);
}

// --- sorted sets -----------------------------------------------------------------------------

class ZSetPopWait : public BlockedWait {
 public:
  ZSetPopWait(bool max, int64_t count, bool mpop) : max_(max), count_(count), mpop_(mpop) {}

  KeyState Check(storage::Db& db, std::string_view key, int64_t now_ms) override {
    return CheckType(db, key, now_ms, storage::ValueType::kZSet);
  }
  void Serve(shard::Shard&, storage::Db& db, std::string_view key, int64_t now_ms) override {
    storage::Entry* e = db.Find(key, now_ms, storage::kLookupTouch);
    std::vector<storage::ZEntry> popped = ZPopEntries(db, e, max_, count_);
    std::string n = std::to_string(popped.size());
    server::WriteLog::Command(db_index, {max_ ? "ZPOPMAX" : "ZPOPMIN", key, n});
    std::string out;
    protocol::ReplyBuilder r(&out, resp);
    if (mpop_) {
      ReplyZMPop(r, key, popped);
    } else {
      ReplyBZPop(r, key, popped);
    }
    Deliver(std::move(out));
  }
  void ReplyTimeout(protocol::ReplyBuilder& r) override { r.NullArray(); }

 private:
  bool max_;
  int64_t count_;
  bool mpop_;
};

void BlockingZPop(CommandContext& ctx, bool max) {
  std::optional<int64_t> timeout = TimeoutMsOrReply(ctx, ctx.arg(ctx.argc() - 1));
  if (!timeout) return;
  auto wait = std::make_shared<ZSetPopWait>(max, 1, /*mpop=*/false);
  for (size_t i = 1; i + 1 < ctx.argc(); ++i) wait->keys.emplace_back(ctx.arg(i));
  wait->command = max ? "bzpopmax" : "bzpopmin";
  server::Block(ctx, std::move(wait), *timeout);
}

void BZPopMin(CommandContext& ctx) { BlockingZPop(ctx, false); }
void BZPopMax(CommandContext& ctx) { BlockingZPop(ctx, true); }

void BZMPop(CommandContext& ctx) {
  std::optional<MPopArgs> a = ParseMPop(ctx, "min", "max");
  if (!a) return;
  auto wait = std::make_shared<ZSetPopWait>(!a->first_side, a->count, /*mpop=*/true);
  wait->keys = std::move(a->keys);
  wait->command = "bzmpop";
  server::Block(ctx, std::move(wait), a->timeout_ms);
}

}  // namespace

void RegisterBlockingCommands(server::CommandTable& table) {
  using server::kConnectionOnly;
  using server::kNoScript;
  using server::kWrite;
  // kConnectionOnly: the handler needs the client (to park it); the wait reaches the owners.
  constexpr uint32_t kBlocking = kWrite | kNoScript | kConnectionOnly;
  table.Add({.name = "blpop", .arity = -3, .flags = kBlocking, .first_key = 1, .last_key = -2,
             .key_step = 1, .handler = BLPop});
  table.Add({.name = "brpop", .arity = -3, .flags = kBlocking, .first_key = 1, .last_key = -2,
             .key_step = 1, .handler = BRPop});
  table.Add({.name = "blmove", .arity = 6, .flags = kBlocking | server::kDenyOom, .first_key = 1,
             .last_key = 2, .key_step = 1, .handler = BLMove});
  table.Add({.name = "brpoplpush", .arity = 4, .flags = kBlocking | server::kDenyOom,
             .first_key = 1, .last_key = 2, .key_step = 1, .handler = BRPopLPush});
  // Not noscript in Redis 7.0: a script may call them, and they do not block there (a script
  // runs them as LMPOP / ZMPOP: see commands/script_runner.cc).
  constexpr uint32_t kBlockingInScript = kWrite | kConnectionOnly;
  table.Add({.name = "blmpop", .arity = -5, .flags = kBlockingInScript, .first_key = 0, .last_key = 0,
             .key_step = 0, .handler = BLMPop, .get_keys = NumkeysKeys<0, 2>});
  table.Add({.name = "bzpopmin", .arity = -3, .flags = kBlocking | server::kFast, .first_key = 1,
             .last_key = -2, .key_step = 1, .handler = BZPopMin});
  table.Add({.name = "bzpopmax", .arity = -3, .flags = kBlocking | server::kFast, .first_key = 1,
             .last_key = -2, .key_step = 1, .handler = BZPopMax});
  table.Add({.name = "bzmpop", .arity = -5, .flags = kBlockingInScript, .first_key = 0, .last_key = 0,
             .key_step = 0, .handler = BZMPop, .get_keys = NumkeysKeys<0, 2>});
}

}  // namespace shoal::cmd
