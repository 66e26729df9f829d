// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: longest common subsequence, with the
// same dynamic-programming table, walk and match ranges as Redis so replies match byte for byte.
#include <cstdint>
#include <vector>

#include "commands/helpers.h"
#include "commands/register.h"

namespace shoal::cmd {
namespace {

struct LcsOptions {
  bool idx = false, len = false, withmatchlen = false;
  int64_t minmatchlen = 0;
};

bool ParseLcsOptions(CommandContext& ctx, LcsOptions* o) {
  for (size_t j = 3; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    size_t more = ctx.argc() - 1 - j;
    if (ArgIs(opt, "IDX")) {
      o->idx = true;
    } else if (ArgIs(opt, "LEN")) {
      o->len = true;
    } else if (ArgIs(opt, "WITHMATCHLEN")) {
      o->withmatchlen = true;
    } else if (ArgIs(opt, "MINMATCHLEN") && more > 0) {
      std::optional<int64_t> v = IntArgOrReply(ctx, j + 1);
      if (!v) return false;
      o->minmatchlen = *v < 0 ? 0 : *v;
      ++j;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  if (o->idx && o->len) {
    ctx.ReplyError("ERR If you want both the length and indexes, please just use IDX.");
    return false;
  }
  return true;
}

// Computes and replies. Runs on whichever thread holds both strings.
void ReplyLcs(CommandContext& ctx, std::string_view a, std::string_view b, const LcsOptions& o) {
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    return ctx.ReplyError("ERR String too long for LCS");
  }
  const uint64_t alen = a.size(), blen = b.size();
  const uint64_t cells = (alen + 1) * (blen + 1);
  if (cells * sizeof(uint32_t) >
      static_cast<uint64_t>(ctx.server().config.proto_max_bulk_len.load())) {
    return ctx.ReplyError(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  std::vector<uint32_t> table(cells);
  auto at = [&](uint64_t i, uint64_t j) -> uint32_t& { return table[j + i * (blen + 1)]; };
  for (uint64_t i = 1; i <= alen; ++i) {
    for (uint64_t j = 1; j <= blen; ++j) {
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
    }
  }
  const uint32_t total = at(alen, blen);
  std::string result;
  if (!o.len) result.assign(total, '\0');
  protocol::ReplyBuilder& r = ctx.reply();
  size_t mark = 0;
  if (o.idx) {
    r.MapHeader(2);
    r.Bulk("matches");
    mark = r.StartDeferredArray();
  }
  // Walk back from the end of both strings, collecting ranges of consecutive matches.
  uint64_t i = alen, j = blen;
  uint32_t idx = total;
  uint64_t arange_start = alen, arange_end = 0, brange_start = 0, brange_end = 0;
  size_t ranges = 0;
  const bool walk = o.idx || !o.len;
  while (walk && i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      if (!o.len) result[idx - 1] = a[i - 1];
      if (arange_start == alen) {
        arange_start = arange_end = i - 1;
        brange_start = brange_end = j - 1;
      } else if (arange_start == i && brange_start == j) {
        --arange_start;
        --brange_start;
      } else {
        emit = true;
      }
      if (arange_start == 0 || brange_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (arange_start != alen) emit = true;
    }
    if (emit) {
      int64_t match_len = static_cast<int64_t>(arange_end - arange_start + 1);
      if (o.idx && (o.minmatchlen == 0 || match_len >= o.minmatchlen)) {
        r.ArrayHeader(2 + (o.withmatchlen ? 1 : 0));
        r.ArrayHeader(2);
        r.Integer(static_cast<int64_t>(arange_start));
        r.Integer(static_cast<int64_t>(arange_end));
        r.ArrayHeader(2);
        r.Integer(static_cast<int64_t>(brange_start));
        r.Integer(static_cast<int64_t>(brange_end));
        if (o.withmatchlen) r.Integer(match_len);
        ++ranges;
      }
      arange_start = alen;  // Start a new range at the next match.
    }
  }
  if (o.idx) {
    r.FinishDeferredArray(mark, ranges);
    r.Bulk("len");
    r.Integer(total);
  } else if (o.len) {
    r.Integer(total);
  } else {
    r.Bulk(result);
  }
}

constexpr std::string_view kNotStrings = "ERR The specified keys must contain string values";

void Lcs(CommandContext& ctx) {
  storage::Entry* ea = ctx.db().Find(ctx.arg(1), ctx.now_ms(), kRead);
  storage::Entry* eb = ctx.db().Find(ctx.arg(2), ctx.now_ms(), kRead);
  if ((ea != nullptr && !ea->value.is_string()) || (eb != nullptr && !eb->value.is_string())) {
    return ctx.ReplyError(kNotStrings);
  }
  LcsOptions o;
  if (!ParseLcsOptions(ctx, &o)) return;
  std::string sa, sb;
  if (ea != nullptr) ea->value.AppendTo(&sa);
  if (eb != nullptr) eb->value.AppendTo(&sb);
  ReplyLcs(ctx, sa, sb, o);
}

// Keys on two shards: fetch both values, then compute here.
void LcsCoordinator(CommandContext& ctx) {
  struct Fetched {
    std::string key[2];
    std::string value[2];
    bool wrong_type[2] = {false, false};
    std::vector<std::string> args;
  };
  auto f = std::make_shared<Fetched>();
  f->key[0] = std::string(ctx.arg(1));
  f->key[1] = std::string(ctx.arg(2));
  f->args = CopyArgs(ctx, 0);
  shard::ShardSet& set = *ctx.server().shards;
  shard::ShardId owners[2] = {set.OwnerOf(f->key[0]), set.OwnerOf(f->key[1])};
  int db = ctx.db_index();
  ctx.FanOut(
      {owners[0], owners[1]},
      [f, owners, db](shard::Shard& s) {
        for (int k = 0; k < 2; ++k) {
          if (owners[k] != s.id()) continue;
          storage::Entry* e = s.db(db).Find(f->key[k], UnixTimeMs(), kRead);
          if (e == nullptr) continue;
          if (!e->value.is_string()) {
            f->wrong_type[k] = true;
          } else {
            e->value.AppendTo(&f->value[k]);
          }
        }
      },
      [f](CommandContext& c) {
        if (f->wrong_type[0] || f->wrong_type[1]) return c.ReplyError(kNotStrings);
        std::vector<std::string_view> argv(f->args.begin(), f->args.end());
        server::CommandContext with_args(&c.spec(), argv, &c.reply(), &c.shard(), c.db_index(),
                                         c.client());
        LcsOptions o;
        if (!ParseLcsOptions(with_args, &o)) return;
        ReplyLcs(with_args, f->value[0], f->value[1], o);
      });
}

}  // namespace

void RegisterLcsCommand(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "lcs", .arity = -3, .flags = kReadOnly, .first_key = 1, .last_key = 2,
             .key_step = 1, .handler = Lcs, .coordinator = LcsCoordinator});
}

}  // namespace shoal::cmd
