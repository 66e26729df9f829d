// HRANDFIELD key [count [WITHVALUES]] and HSCAN key cursor [MATCH pattern] [COUNT count].
//
// HRANDFIELD follows Redis 7.0's cases, so that what is deterministic there is here too: a
// positive count of at least the hash's size returns the whole hash in its order; a smaller one
// returns distinct fields (for a listpack, in listpack order); a negative count returns that many
// fields drawn with replacement.
//
// HSCAN of a listpack returns everything at once with cursor 0, whatever the cursor, as Redis
// does; a hashtable is walked with its Dict's reverse-binary cursor.
#include "commands/hash_random_scan.h"

#include <absl/container/flat_hash_set.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <random>

#include "commands/helpers.h"
#include "common/glob.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Hash;
using storage::HashItem;
using ItemPair = std::pair<HashItem, HashItem>;

// Redis builds a negative count's whole reply in memory and dies trying when the count is huge
// (HRANDFIELD k -9223372036854775807). Past this many elements we refuse instead.
constexpr uint64_t kMaxRandomReplyCount = uint64_t{1} << 26;

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

uint64_t RandomBelow(uint64_t n) {
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(Rng());
}

auto RandomWord() {
  return [] { return Rng()(); };
}

// HRANDFIELD's array of `n` fields, or of `n` pairs: flat in RESP2, [field, value] arrays in RESP3.
void PairsHeader(CommandContext& ctx, uint64_t n, bool withvalues) {
  ctx.reply().ArrayHeader(withvalues && !ctx.reply().resp3() ? n * 2 : n);
}

void ReplyPair(CommandContext& ctx, const HashItem& f, const HashItem& v, bool withvalues) {
  if (withvalues && ctx.reply().resp3()) ctx.reply().ArrayHeader(2);
  ReplyHashItem(ctx, f);
  if (withvalues) ReplyHashItem(ctx, v);
}

void ReplyOneRandomField(CommandContext& ctx, Hash& h) {
  if (!h.is_listpack()) return ReplyHashItem(ctx, h.RandomTableField(RandomWord()).first);
  uint8_t* p = storage::lp::Seek(h.listpack(), static_cast<int64_t>(2 * RandomBelow(h.size())));
  ReplyHashItem(ctx, storage::lp::Get(p));
}

// `n` fields drawn with replacement.
void ReplyWithRepeats(CommandContext& ctx, Hash& h, uint64_t n, bool withvalues) {
  PairsHeader(ctx, n, withvalues);
  if (h.is_listpack()) {
    std::vector<ItemPair> pairs = h.Pairs();
    for (uint64_t i = 0; i < n; ++i) {
      const ItemPair& p = pairs[RandomBelow(pairs.size())];
      ReplyPair(ctx, p.first, p.second, withvalues);
    }
    return;
  }
  for (uint64_t i = 0; i < n; ++i) {
    ItemPair p = h.RandomTableField(RandomWord());
    ReplyPair(ctx, p.first, p.second, withvalues);
  }
}

// `n` distinct fields. REQUIRES: 0 < n < h.size().
void ReplyDistinct(CommandContext& ctx, Hash& h, uint64_t n, bool withvalues) {
  PairsHeader(ctx, n, withvalues);
  if (h.is_listpack()) {
    // Selection sampling: each field is taken with probability (still needed / still left), so
    // the chosen ones come out in listpack order, as Redis's lpRandomPairsUnique returns them.
    uint64_t left = h.size(), needed = n;
    h.ForEach([&](const HashItem& f, const HashItem& v) {
      if (needed > 0 && RandomBelow(left) < needed) {
        ReplyPair(ctx, f, v, withvalues);
        --needed;
      }
      --left;
    });
    return;
  }
  if (n * 3 > h.size()) {
    // Close to the whole hash: shuffle the first n of all fields into place.
    std::vector<ItemPair> pairs = h.Pairs();
    for (uint64_t i = 0; i < n; ++i) {
      std::swap(pairs[i], pairs[i + RandomBelow(pairs.size() - i)]);
      ReplyPair(ctx, pairs[i].first, pairs[i].second, withvalues);
    }
    return;
  }
  // Few of many: draw until n different fields came up (a field is known by its bytes' address).
  absl::flat_hash_set<const char*> seen;
  while (seen.size() < n) {
    ItemPair p = h.RandomTableField(RandomWord());
    if (seen.insert(p.first.str.data()).second) ReplyPair(ctx, p.first, p.second, withvalues);
  }
}


}  // namespace

void ReplyHashItem(CommandContext& ctx, const HashItem& item) {
  if (item.is_int) {
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(item.ival));
    return ctx.reply().Bulk(std::string_view(buf, n));
  }
  ctx.reply().Bulk(item.str);
}

void HRandField(CommandContext& ctx) {
  if (ctx.argc() == 2) {
    Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
    if (!e.ok()) return ctx.ReplyError(e.status());
    if (*e == nullptr) return ctx.reply().Null();
    Hash h(&(*e)->value);
    return ReplyOneRandomField(ctx, h);
  }
  std::optional<int64_t> count = IntArgOrReply(ctx, 2);
  if (!count) return;
  if (*count == INT64_MIN) {
    return ctx.ReplyError(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
  }
  if (ctx.argc() > 4 || (ctx.argc() == 4 && !ArgIs(ctx.arg(3), "WITHVALUES"))) {
    return ctx.ReplyError(Status::Syntax());
  }
  const bool withvalues = ctx.argc() == 4;
  // Redis doubles the count for the reply's length: it must not overflow.
  if (withvalues && (*count < -(INT64_MAX / 2) || *count > INT64_MAX / 2)) {
    return ctx.ReplyError("ERR value is out of range");
  }
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr || *count == 0) return ctx.reply().ArrayHeader(0);
  Hash h(&(*e)->value);
  if (*count < 0) {
    uint64_t n = static_cast<uint64_t>(-*count);
    if (n > kMaxRandomReplyCount) return ctx.ReplyError("ERR value is out of range");
    return ReplyWithRepeats(ctx, h, n, withvalues);
  }
  uint64_t n = static_cast<uint64_t>(*count);
  if (n >= h.size()) {
    PairsHeader(ctx, h.size(), withvalues);
    h.ForEach([&](const HashItem& f, const HashItem& v) { ReplyPair(ctx, f, v, withvalues); });
    return;
  }
  ReplyDistinct(ctx, h, n, withvalues);
}

void HScan(CommandContext& ctx) {
  std::optional<uint64_t> cursor = ParseScanCursor(ctx.arg(2));
  if (!cursor) return ctx.ReplyError("ERR invalid cursor");
  Result<Entry*> e = FindTyped(ctx, ctx.arg(1), storage::ValueType::kHash, kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) {  // Before the options are even read, as in Redis.
    ctx.reply().ArrayHeader(2);
    ctx.reply().Bulk("0");
    return ctx.reply().ArrayHeader(0);
  }
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < ctx.argc(); i += 2) {
    if (ArgIs(ctx.arg(i), "COUNT") && i + 1 < ctx.argc()) {
      std::optional<int64_t> n = IntArgOrReply(ctx, i + 1);
      if (!n) return;
      if (*n < 1) return ctx.ReplyError(Status::Syntax());
      count = *n;
    } else if (ArgIs(ctx.arg(i), "MATCH") && i + 1 < ctx.argc()) {
      pattern = ctx.arg(i + 1);
      use_pattern = pattern != "*";
    } else {
      return ctx.ReplyError(Status::Syntax());
    }
  }
  Hash h(&(*e)->value);
  std::vector<ItemPair> found;
  uint64_t next = 0;
  auto collect = [&](const HashItem& f, const HashItem& v) { found.emplace_back(f, v); };
  if (h.is_listpack()) {
    h.ForEach(collect);
  } else {
    // As Redis: about COUNT elements (a field and its value count as two), visiting at most
    // 10 * COUNT buckets.
    int64_t budget = count > INT64_MAX / 10 ? INT64_MAX : count * 10;
    next = *cursor;
    do {
      next = h.ScanTable(next, collect);
    } while (next != 0 && budget-- > 0 && static_cast<int64_t>(found.size() * 2) < count);
  }
  if (use_pattern) {
    std::string scratch;
    std::erase_if(found,
                  [&](const ItemPair& p) { return !GlobMatch(pattern, p.first.View(&scratch)); });
  }
  ctx.reply().ArrayHeader(2);
  ctx.reply().Bulk(std::to_string(next));
  ctx.reply().ArrayHeader(found.size() * 2);
  for (const ItemPair& p : found) {
    ReplyHashItem(ctx, p.first);
    ReplyHashItem(ctx, p.second);
  }
}

}  // namespace shoal::cmd
