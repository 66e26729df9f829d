// Lists: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS.
// The commands that move elements between keys (LMOVE RPOPLPUSH LMPOP) live in
// list_move_commands.cc; the shard-side operations shared with the blocking commands in
// list_ops.h. Argument checks come before or after the key lookup exactly where Redis 7.0 puts
// them, since that decides which error a bad call gets.
#include <cstdint>

#include "commands/helpers.h"
#include "commands/list_ops.h"
#include "commands/register.h"

namespace shoal::cmd {

void RegisterListMoveCommands(server::CommandTable& table);

namespace {

using storage::Entry;
using storage::Quicklist;

constexpr std::string_view kErrMustBePositive = "ERR value is out of range, must be positive";

Quicklist* ListIn(Entry* e) { return storage::ListOf(e->value); }

void ReplyItem(CommandContext& ctx, Quicklist::Pos pos) {
  storage::lp::Item it = Quicklist::Get(pos);
  std::string scratch;
  ctx.reply().Bulk(it.View(&scratch));
}

// ---- pushes and pops ----

// LPUSH RPUSH, and with `only_existing` LPUSHX RPUSHX.
void Push(CommandContext& ctx, ListEnd end, bool only_existing) {
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms());
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr && only_existing) return ctx.reply().Integer(0);
  size_t len = PushElements(ctx.db(), *e, ctx.arg(1), end, ctx.args().subspan(2));
  ctx.reply().Integer(static_cast<int64_t>(len));
}

void LPush(CommandContext& ctx) { Push(ctx, ListEnd::kHead, false); }
void RPush(CommandContext& ctx) { Push(ctx, ListEnd::kTail, false); }
void LPushX(CommandContext& ctx) { Push(ctx, ListEnd::kHead, true); }
void RPushX(CommandContext& ctx) { Push(ctx, ListEnd::kTail, true); }

// LPOP key [count], RPOP key [count]. Without a count: one element or a null; with one: an
// array (empty for count 0), or a null array for a missing key.
void Pop(CommandContext& ctx, ListEnd end) {
  if (ctx.argc() > 3) return ctx.ReplyError(protocol::WrongArityError(ctx.spec().name));
  const bool has_count = ctx.argc() == 3;
  int64_t count = 1;
  if (has_count) {
    std::optional<int64_t> n = ParseInt64(ctx.arg(2));
    if (!n || *n < 0) return ctx.ReplyError(kErrMustBePositive);
    count = *n;
  }
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms());
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return has_count ? ctx.reply().NullArray() : ctx.reply().Null();
  if (has_count && count == 0) return ctx.reply().ArrayHeader(0);
  std::vector<std::string> out = PopElements(ctx.db(), *e, end, static_cast<size_t>(count));
  if (!has_count) return ctx.reply().Bulk(out[0]);
  ctx.reply().ArrayHeader(out.size());
  for (const std::string& s : out) ctx.reply().Bulk(s);
}

void LPop(CommandContext& ctx) { Pop(ctx, ListEnd::kHead); }
void RPop(CommandContext& ctx) { Pop(ctx, ListEnd::kTail); }

// ---- reads ----

void LLen(CommandContext& ctx) {
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms(), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  ctx.reply().Integer(*e == nullptr ? 0 : static_cast<int64_t>(ListIn(*e)->size()));
}

void LIndex(CommandContext& ctx) {
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms(), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Null();
  std::optional<int64_t> index = IntArgOrReply(ctx, 2);
  if (!index) return;
  Quicklist::Pos pos = ListIn(*e)->Seek(*index);
  if (!pos.valid()) return ctx.reply().Null();
  ReplyItem(ctx, pos);
}

void LRange(CommandContext& ctx) {
  std::optional<int64_t> start = IntArgOrReply(ctx, 2);
  if (!start) return;
  std::optional<int64_t> end = IntArgOrReply(ctx, 3);
  if (!end) return;
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms(), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().ArrayHeader(0);
  const Quicklist* q = ListIn(*e);
  const int64_t len = static_cast<int64_t>(q->size());
  int64_t a = *start, b = *end;
  if (a < 0) a += len;
  if (b < 0) b += len;
  if (a < 0) a = 0;
  if (a > b || a >= len) return ctx.reply().ArrayHeader(0);
  if (b >= len) b = len - 1;
  ctx.reply().ArrayHeader(static_cast<size_t>(b - a + 1));
  std::string scratch;
  Quicklist::Pos pos = q->Seek(a);
  for (int64_t i = a; i <= b; ++i, q->Next(&pos)) {
    ctx.reply().Bulk(Quicklist::Get(pos).View(&scratch));
  }
}

// Wrapping arithmetic, for LPOS's RANK -9223372036854775808: Redis negates it in a `long`, which
// wraps to itself, and then every match qualifies. Reproduced without signed overflow.
int64_t WrapNeg(int64_t v) { return static_cast<int64_t>(0 - static_cast<uint64_t>(v)); }
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void LPos(CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;  // count -1: no COUNT given.
  for (size_t j = 3; j < ctx.argc(); ++j) {
    const bool more = j + 1 < ctx.argc();
    if (ArgIs(ctx.arg(j), "RANK") && more) {
      std::optional<int64_t> v = IntArgOrReply(ctx, ++j);
      if (!v) return;
      if (*v == 0) {
        return ctx.ReplyError(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      rank = *v;
    } else if (ArgIs(ctx.arg(j), "COUNT") && more) {
      std::optional<int64_t> v = ParseInt64(ctx.arg(++j));
      if (!v || *v < 0) return ctx.ReplyError("ERR COUNT can't be negative");
      count = *v;
    } else if (ArgIs(ctx.arg(j), "MAXLEN") && more) {
      std::optional<int64_t> v = ParseInt64(ctx.arg(++j));
      if (!v || *v < 0) return ctx.ReplyError("ERR MAXLEN can't be negative");
      maxlen = *v;
    } else {
      return ctx.ReplyError(Status::Syntax());
    }
  }
  const bool from_tail = rank < 0;
  if (from_tail) rank = WrapNeg(rank);
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms(), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return count != -1 ? ctx.reply().ArrayHeader(0) : ctx.reply().Null();
  const Quicklist* q = ListIn(*e);
  const int64_t len = static_cast<int64_t>(q->size());
  const storage::ElementMatcher m(ctx.arg(2));
  size_t mark = count != -1 ? ctx.reply().StartDeferredArray() : 0;
  int64_t index = 0, matches = 0, found = -1;
  size_t emitted = 0;
  for (Quicklist::Pos pos = q->Seek(from_tail ? -1 : 0); pos.valid() && (maxlen == 0 || index < maxlen);
       from_tail ? q->Prev(&pos) : q->Next(&pos), ++index) {
    if (!m.Matches(pos.p)) continue;
    ++matches;
    if (matches < rank) continue;
    int64_t at = from_tail ? len - index - 1 : index;
    if (count == -1) {
      found = at;
      break;
    }
    ctx.reply().Integer(at);
    ++emitted;
    if (count != 0 && WrapSub(matches, rank) + 1 >= count) break;
  }
  if (count != -1) return ctx.reply().FinishDeferredArray(mark, emitted);
  if (found == -1) return ctx.reply().Null();
  ctx.reply().Integer(found);
}

// ---- edits ----

void LSet(CommandContext& ctx) {
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms());
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.ReplyError(Status::NoSuchKey());
  std::optional<int64_t> index = IntArgOrReply(ctx, 2);
  if (!index) return;
  Quicklist* q = ListIn(*e);
  Quicklist::Pos pos = q->Seek(*index);
  if (!pos.valid()) return ctx.ReplyError(Status::OutOfRange());
  q->Replace(pos, ctx.arg(3));
  ctx.reply().Ok();
}

// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the pivot, 0 without the key.
void LInsert(CommandContext& ctx) {
  bool after;
  if (ArgIs(ctx.arg(2), "AFTER")) {
    after = true;
  } else if (ArgIs(ctx.arg(2), "BEFORE")) {
    after = false;
  } else {
    return ctx.ReplyError(Status::Syntax());
  }
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms());
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  Quicklist* q = ListIn(*e);
  Quicklist::Pos pivot = q->FindFirst(ctx.arg(3));
  if (!pivot.valid()) return ctx.reply().Integer(-1);
  q->Insert(pivot, ctx.arg(4), after);
  ctx.reply().Integer(static_cast<int64_t>(q->size()));
}

// LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
void LRem(CommandContext& ctx) {
  std::optional<int64_t> count = IntArgOrReply(ctx, 2);
  if (!count) return;
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms());
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  Quicklist* q = ListIn(*e);
  // The magnitude as unsigned: -9223372036854775808 has no positive int64.
  uint64_t limit = *count < 0 ? 0 - static_cast<uint64_t>(*count) : static_cast<uint64_t>(*count);
  size_t removed = q->RemoveMatching(ctx.arg(3), limit, *count < 0 ? ListEnd::kTail : ListEnd::kHead);
  if (q->size() == 0) ctx.db().Erase(*e);
  ctx.reply().Integer(static_cast<int64_t>(removed));
}

void LTrim(CommandContext& ctx) {
  std::optional<int64_t> start = IntArgOrReply(ctx, 2);
  if (!start) return;
  std::optional<int64_t> end = IntArgOrReply(ctx, 3);
  if (!end) return;
  Result<Entry*> e = FindList(ctx.db(), ctx.arg(1), ctx.now_ms());
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Ok();
  Quicklist* q = ListIn(*e);
  const int64_t len = static_cast<int64_t>(q->size());
  int64_t a = *start, b = *end;
  if (a < 0) a += len;
  if (b < 0) b += len;
  if (a < 0) a = 0;
  int64_t ltrim, rtrim;
  if (a > b || a >= len) {
    ltrim = len;  // Out of range, or an empty range: the list goes.
    rtrim = 0;
  } else {
    if (b >= len) b = len - 1;
    ltrim = a;
    rtrim = len - b - 1;
  }
  q->DeleteRange(0, static_cast<size_t>(ltrim));
  q->DeleteRange(q->size() - static_cast<size_t>(rtrim), static_cast<size_t>(rtrim));
  if (q->size() == 0) ctx.db().Erase(*e);
  ctx.reply().Ok();
}

}  // namespace

void RegisterListCommands(server::CommandTable& table) {
  using namespace server;  // Command flags.
  auto one_key = [&](const char* name, int arity, uint32_t flags, CommandHandler h) {
    table.Add({.name = name, .arity = arity, .flags = flags, .first_key = 1, .last_key = 1,
               .key_step = 1, .handler = h});
  };
  one_key("lpush", -3, kWrite | kDenyOom | kFast, LPush);
  one_key("rpush", -3, kWrite | kDenyOom | kFast, RPush);
  one_key("lpushx", -3, kWrite | kDenyOom | kFast, LPushX);
  one_key("rpushx", -3, kWrite | kDenyOom | kFast, RPushX);
  one_key("lpop", -2, kWrite | kFast, LPop);
  one_key("rpop", -2, kWrite | kFast, RPop);
  one_key("llen", 2, kReadOnly | kFast, LLen);
  one_key("lrange", 4, kReadOnly, LRange);
  one_key("lindex", 3, kReadOnly, LIndex);
  one_key("lset", 4, kWrite | kDenyOom, LSet);
  one_key("linsert", 5, kWrite | kDenyOom, LInsert);
  one_key("lrem", 4, kWrite, LRem);
  one_key("ltrim", 4, kWrite, LTrim);
  one_key("lpos", -3, kReadOnly, LPos);
  RegisterListMoveCommands(table);
}

}  // namespace shoal::cmd
