// Sorted sets across keys: ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD, and ZMPOP.
//
// The algebra follows Redis 7.0's zunionInterDiffGenericCommand step by step, because its order is
// observable: numkeys is checked first, then every input key's type (WRONGTYPE wins over a bad
// option), then the options; union and intersection visit the inputs from the smallest to the
// largest (a stable sort, as glibc's qsort is for these sizes), which decides in which order
// floating-point scores are summed; a weighted score that comes out NaN (0 * inf) counts as 0.
// Plain sets are accepted as inputs, every member scoring 1.
//
// Keys on several shards: the coordinator copies each input's (member, score) pairs on its owner
// shard, computes on the connection's thread, and (STORE forms) places the result on the
// destination's shard in a second hop. ZMPOP walks its keys in order, one hop per run of keys
// owned by the same shard, and pops from the first that exists.
#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cmath>

#include "commands/register.h"
#include "commands/zset_args.h"
#include "commands/zset_ops.h"
#include "storage/set_object.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;
using storage::ZEntry;

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// ---- Inputs ----

// One input key: missing, a zset or set on this thread, or a copy made on its owner shard.
class Source {
 public:
  static Source Local(const Value* v) {
    Source s;
    s.local_ = v;
    return s;
  }
  static Source Copied(std::vector<ZEntry> entries) {
    Source s;
    s.copy_ = std::move(entries);
    return s;
  }

  size_t size() const {
    if (local_ == nullptr) return copy_.size();
    if (local_->type() == storage::ValueType::kZSet) return storage::ZSetLength(*local_);
    return storage::SetSize(*local_);
  }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    if (local_ == nullptr) {
      for (const ZEntry& e : copy_) fn(std::string_view(e.member), e.score);
      return;
    }
    if (local_->type() == storage::ValueType::kZSet) {
      for (storage::ZSetCursor c(*local_, 0, false); c.valid(); c.Next()) fn(c.member(), c.score());
      return;
    }
    storage::SetForEach(*local_, [&](const storage::SetMember& m) {
      char buf[24];
      fn(m.View(buf), 1.0);
      return true;
    });
  }

  // Whether both read the same value in place (the same key given twice). Iterating one while
  // looking members up in the other must then be avoided: a lookup may advance a hash table's
  // rehash, under a set's iteration.
  bool SameAs(const Source& o) const { return local_ != nullptr && local_ == o.local_; }

  bool Find(std::string_view member, double* score) {
    if (local_ == nullptr) {
      if (index_.empty() && !copy_.empty()) {
        index_.reserve(copy_.size());
        for (const ZEntry& e : copy_) index_.emplace(e.member, e.score);
      }
      auto it = index_.find(member);
      if (it == index_.end()) return false;
      *score = it->second;
      return true;
    }
    if (local_->type() == storage::ValueType::kZSet) {
      std::optional<double> s = storage::ZSetScore(*local_, member);
      if (!s) return false;
      *score = *s;
      return true;
    }
    *score = 1.0;
    return storage::SetContains(*local_, member);
  }

 private:
  const Value* local_ = nullptr;
  std::vector<ZEntry> copy_;
  absl::flat_hash_map<std::string_view, double> index_;
};

bool IsAlgebraInput(const Value& v) {
  return v.type() == storage::ValueType::kZSet || v.type() == storage::ValueType::kSet;
}

// A set's members scoring 1, or a zset's pairs: what a coordinator carries back from a shard.
std::vector<ZEntry> CopyInput(const Value& v) {
  if (v.type() == storage::ValueType::kZSet) return CopyZSet(v);
  std::vector<ZEntry> out;
  Source::Local(&v).ForEach([&](std::string_view m, double s) {
    out.push_back(ZEntry{std::string(m), s});
  });
  return out;
}

// ---- Arguments ----

struct AlgebraArgs {
  SetOp op = SetOp::kUnion;
  bool store = false;
  bool card_only = false;
  std::string dst;
  std::vector<std::string> keys;
  std::vector<double> weights;
  Aggregate aggregate = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;  // ZINTERCARD: 0 is no limit.
  // Redis checks the options only after the keys' types: a bad option is replied after that.
  std::string option_error;
};

// numkeys, then the keys. Replies and returns false on a bad count.
bool ParseAlgebraKeys(CommandContext& ctx, AlgebraArgs* a) {
  size_t numkeys_idx = a->store ? 2 : 1;
  std::optional<int64_t> n = ParseInt64(ctx.arg(numkeys_idx));
  if (!n) {
    ctx.ReplyError(Status::NotInteger());
    return false;
  }
  if (*n < 1) {
    ctx.ReplyError("ERR at least 1 input key is needed for '" + ctx.spec().name + "' command");
    return false;
  }
  if (*n > static_cast<int64_t>(ctx.argc() - numkeys_idx - 1)) {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  if (a->store) a->dst = std::string(ctx.arg(1));
  for (int64_t i = 0; i < *n; ++i) a->keys.emplace_back(ctx.arg(numkeys_idx + 1 + i));
  a->weights.assign(a->keys.size(), 1.0);
  return true;
}

void ParseAlgebraOptions(CommandContext& ctx, AlgebraArgs* a) {
  const size_t setnum = a->keys.size();
  size_t j = (a->store ? 3 : 2) + setnum;
  const bool weighted = a->op != SetOp::kDiff && !a->card_only;
  while (j < ctx.argc()) {
    size_t remaining = ctx.argc() - j;
    std::string_view opt = ctx.arg(j);
    if (weighted && remaining >= setnum + 1 && ArgIs(opt, "weights")) {
      ++j;
      for (size_t i = 0; i < setnum; ++i, ++j) {
        std::optional<double> w = ParseDouble(ctx.arg(j));
        if (!w) {
          a->option_error = "ERR weight value is not a float";
          return;
        }
        a->weights[i] = *w;
      }
    } else if (weighted && remaining >= 2 && ArgIs(opt, "aggregate")) {
      std::string_view how = ctx.arg(j + 1);
      if (ArgIs(how, "sum")) {
        a->aggregate = Aggregate::kSum;
      } else if (ArgIs(how, "min")) {
        a->aggregate = Aggregate::kMin;
      } else if (ArgIs(how, "max")) {
        a->aggregate = Aggregate::kMax;
      } else {
        a->option_error = "ERR syntax error";
        return;
      }
      j += 2;
    } else if (!a->store && !a->card_only && ArgIs(opt, "withscores")) {
      a->withscores = true;
      ++j;
    } else if (a->card_only && remaining >= 2 && ArgIs(opt, "limit")) {
      std::optional<int64_t> l = ParseInt64(ctx.arg(j + 1));
      if (!l || *l < 0) {
        a->option_error = "ERR LIMIT can't be negative";
        return;
      }
      a->limit = *l;
      j += 2;
    } else {
      a->option_error = "ERR syntax error";
      return;
    }
  }
}

// ---- The computation ----

void Accumulate(double* target, double val, Aggregate how) {
  switch (how) {
    case Aggregate::kSum:
      *target += val;
      if (std::isnan(*target)) *target = 0.0;  // inf + -inf: Redis's convention is 0.
      break;
    case Aggregate::kMin:
      *target = val < *target ? val : *target;
      break;
    case Aggregate::kMax:
      *target = val > *target ? val : *target;
      break;
  }
}

struct AlgebraResult {
  std::vector<ZEntry> entries;  // Sorted by (score, member).
  int64_t cardinality = 0;      // ZINTERCARD.
};

AlgebraResult Compute(const AlgebraArgs& a, std::vector<Source>& srcs) {
  AlgebraResult out;
  std::vector<size_t> order(srcs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (a.op != SetOp::kDiff) {
    std::vector<size_t> sizes(srcs.size());
    for (size_t i = 0; i < srcs.size(); ++i) sizes[i] = srcs[i].size();
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t x, size_t y) { return sizes[x] < sizes[y]; });
  }
  if (a.op == SetOp::kUnion) {
    absl::flat_hash_map<std::string, double> acc;
    for (size_t i : order) {
      double w = a.weights[i];
      srcs[i].ForEach([&](std::string_view m, double s) {
        double score = w * s;
        if (std::isnan(score)) score = 0;
        auto [it, inserted] = acc.try_emplace(std::string(m), score);
        if (!inserted) Accumulate(&it->second, score, a.aggregate);
      });
    }
    out.entries.reserve(acc.size());
    for (auto& [m, s] : acc) out.entries.push_back(ZEntry{m, s});
  } else if (a.op == SetOp::kInter) {
    Source& first = srcs[order[0]];
    if (first.size() > 0) {
      bool done = false;
      first.ForEach([&](std::string_view m, double s) {
        if (done) return;
        double score = a.weights[order[0]] * s;
        if (std::isnan(score)) score = 0;
        for (size_t k = 1; k < order.size(); ++k) {
          double value = s;
          if (!srcs[order[k]].SameAs(first) && !srcs[order[k]].Find(m, &value)) return;
          Accumulate(&score, value * a.weights[order[k]], a.aggregate);
        }
        if (a.card_only) {
          ++out.cardinality;
          if (a.limit > 0 && out.cardinality >= a.limit) done = true;
        } else {
          out.entries.push_back(ZEntry{std::string(m), score});
        }
      });
    }
  } else {
    bool self_diff = false;  // The first key again: everything is subtracted.
    for (size_t k = 1; k < srcs.size(); ++k) self_diff = self_diff || srcs[k].SameAs(srcs[0]);
    if (!self_diff) {
      srcs[0].ForEach([&](std::string_view m, double s) {
        double unused;
        for (size_t k = 1; k < srcs.size(); ++k) {
          if (srcs[k].Find(m, &unused)) return;
        }
        out.entries.push_back(ZEntry{std::string(m), s});
      });
    }
  }
  std::sort(out.entries.begin(), out.entries.end(), [](const ZEntry& x, const ZEntry& y) {
    return storage::ZLess(x.score, x.member, y.score, y.member);
  });
  return out;
}

// Runs on: the destination's shard. Redis stores a non-empty result (replacing whatever was
// there) and deletes the destination for an empty one.
int64_t StoreResult(storage::Db& db, std::string_view dst, const std::vector<ZEntry>& entries,
                    int64_t now_ms) {
  if (entries.empty()) {
    db.Erase(dst, now_ms);
    return 0;
  }
  db.Upsert(dst, storage::ZSetFromSorted(entries), now_ms);
  return static_cast<int64_t>(entries.size());
}

void ReplyResult(CommandContext& ctx, const AlgebraArgs& a, const AlgebraResult& r) {
  if (a.card_only) return ctx.reply().Integer(r.cardinality);
  ReplyZEntries(ctx.reply(), r.entries, a.withscores);
}

// Keys all on this shard: read the inputs in place.
void AlgebraHere(CommandContext& ctx, AlgebraArgs& a) {
  std::vector<Source> srcs;
  srcs.reserve(a.keys.size());
  for (const std::string& k : a.keys) {
    Entry* e = ctx.db().Find(k, ctx.now_ms(), a.store ? kWriteLookup : kRead);
    if (e == nullptr) {
      srcs.push_back(Source::Copied({}));
      continue;
    }
    if (!IsAlgebraInput(e->value)) return ctx.ReplyError(Status::WrongType());
    srcs.push_back(Source::Local(&e->value));
  }
  if (!a.option_error.empty()) return ctx.ReplyError(a.option_error);
  AlgebraResult r = Compute(a, srcs);
  if (a.store) return ctx.reply().Integer(StoreResult(ctx.db(), a.dst, r.entries, ctx.now_ms()));
  ReplyResult(ctx, a, r);
}

// Keys on several shards: copy the inputs out, compute here, store on the destination's shard.
void AlgebraAcrossShards(CommandContext& ctx, std::shared_ptr<AlgebraArgs> a) {
  struct Fetch {
    std::vector<std::vector<ZEntry>> copies;
    std::vector<char> wrong_type;  // Per key; written by its owner shard only.
    int64_t stored = 0;
  };
  auto f = std::make_shared<Fetch>();
  f->copies.resize(a->keys.size());
  f->wrong_type.assign(a->keys.size(), 0);
  ShardGroups groups = GroupByShard(a->keys);
  int db = ctx.db_index();
  ctx.FanOut(
      groups.shards,
      [a, f, groups, db](shard::Shard& s) {
        int64_t now = UnixTimeMs();
        for (size_t i : groups.Of(s.id())) {
          Entry* e = s.db(db).Find(a->keys[i], now, a->store ? kWriteLookup : kRead);
          if (e == nullptr) continue;
          if (!IsAlgebraInput(e->value)) {
            f->wrong_type[i] = 1;
          } else {
            f->copies[i] = CopyInput(e->value);
          }
        }
      },
      [a, f, db](CommandContext& c) {
        for (char w : f->wrong_type) {
          if (w) return c.ReplyError(Status::WrongType());
        }
        if (!a->option_error.empty()) return c.ReplyError(a->option_error);
        std::vector<Source> srcs;
        for (auto& copy : f->copies) srcs.push_back(Source::Copied(std::move(copy)));
        auto r = std::make_shared<AlgebraResult>(Compute(*a, srcs));
        if (!a->store) return ReplyResult(c, *a, *r);
        c.FanOut(
            {c.server().shards->OwnerOf(a->dst)},
            [a, f, r, db](shard::Shard& s) {
              f->stored = StoreResult(s.db(db), a->dst, r->entries, UnixTimeMs());
            },
            [f](CommandContext& c2) { c2.reply().Integer(f->stored); });
      });
}

std::shared_ptr<AlgebraArgs> ParseAlgebra(CommandContext& ctx, SetOp op, bool store,
                                          bool card_only) {
  auto a = std::make_shared<AlgebraArgs>();
  a->op = op;
  a->store = store;
  a->card_only = card_only;
  if (!ParseAlgebraKeys(ctx, a.get())) return nullptr;
  ParseAlgebraOptions(ctx, a.get());
  return a;
}

template <SetOp kOp, bool kStore, bool kCard>
void AlgebraHandler(CommandContext& ctx) {
  std::shared_ptr<AlgebraArgs> a = ParseAlgebra(ctx, kOp, kStore, kCard);
  if (a != nullptr) AlgebraHere(ctx, *a);
}

template <SetOp kOp, bool kStore, bool kCard>
void AlgebraCoordinator(CommandContext& ctx) {
  std::shared_ptr<AlgebraArgs> a = ParseAlgebra(ctx, kOp, kStore, kCard);
  if (a != nullptr) AlgebraAcrossShards(ctx, a);
}

// ---- ZMPOP ----

struct ZMPopArgs {
  std::vector<std::string> keys;
  bool max = false;
  int64_t count = 1;
};

bool ParseZMPop(CommandContext& ctx, ZMPopArgs* a) {
  std::optional<int64_t> n = ParseInt64(ctx.arg(1));
  if (!n || *n < 1) {
    ctx.ReplyError("ERR numkeys should be greater than 0");
    return false;
  }
  size_t where_idx = 1 + static_cast<size_t>(*n) + 1;
  if (*n > static_cast<int64_t>(ctx.argc()) || where_idx >= ctx.argc()) {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  if (ArgIs(ctx.arg(where_idx), "min")) {
    a->max = false;
  } else if (ArgIs(ctx.arg(where_idx), "max")) {
    a->max = true;
  } else {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  bool have_count = false;
  for (size_t j = where_idx + 1; j < ctx.argc(); ++j) {
    bool more = j + 1 < ctx.argc();
    if (!have_count && ArgIs(ctx.arg(j), "count") && more) {
      ++j;
      std::optional<int64_t> c = ParseInt64(ctx.arg(j));
      if (!c || *c < 1) {
        ctx.ReplyError("ERR count should be greater than 0");
        return false;
      }
      a->count = *c;
      have_count = true;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  for (int64_t i = 0; i < *n; ++i) a->keys.emplace_back(ctx.arg(2 + i));
  return true;
}

void ZMPop(CommandContext& ctx) {
  ZMPopArgs a;
  if (!ParseZMPop(ctx, &a)) return;
  for (const std::string& k : a.keys) {
    Result<Entry*> e = FindZSet(ctx, k, kWriteLookup);
    if (!e.ok()) return ctx.ReplyError(e.status());
    if (*e == nullptr) continue;
    return ReplyZMPop(ctx.reply(), k, ZPopEntries(ctx.db(), *e, a.max, a.count));
  }
  ctx.reply().NullArray();
}

// The keys in order, each run of keys owned by one shard handled in one hop.
struct ZMPopWalk {
  ZMPopArgs args;
  int db = 0;
  size_t next = 0;  // First key not yet looked at.
  bool wrong_type = false;
  std::string popped_key;
  std::vector<ZEntry> popped;
};

void ZMPopStep(CommandContext& ctx, std::shared_ptr<ZMPopWalk> w) {
  shard::ShardSet& shards = *ctx.server().shards;
  shard::ShardId owner = shards.OwnerOf(w->args.keys[w->next]);
  size_t end = w->next;
  while (end < w->args.keys.size() && shards.OwnerOf(w->args.keys[end]) == owner) ++end;
  ctx.FanOut(
      {owner},
      [w, end](shard::Shard& s) {
        storage::Db& db = s.db(w->db);
        for (; w->next < end; ++w->next) {
          const std::string& k = w->args.keys[w->next];
          Result<Entry*> e = FindZSetIn(db, k, UnixTimeMs(), kWriteLookup);
          if (!e.ok()) {
            w->wrong_type = true;
            return;
          }
          if (*e == nullptr) continue;
          w->popped_key = k;
          w->popped = ZPopEntries(db, *e, w->args.max, w->args.count);
          return;
        }
      },
      [w](CommandContext& c) {
        if (w->wrong_type) return c.ReplyError(Status::WrongType());
        if (!w->popped.empty()) return ReplyZMPop(c.reply(), w->popped_key, w->popped);
        if (w->next >= w->args.keys.size()) return c.reply().NullArray();
        ZMPopStep(c, w);
      });
}

void ZMPopCoordinator(CommandContext& ctx) {
  auto w = std::make_shared<ZMPopWalk>();
  if (!ParseZMPop(ctx, &w->args)) return;
  w->db = ctx.db_index();
  ZMPopStep(ctx, w);
}

}  // namespace

void RegisterZSetAlgebraCommands(server::CommandTable& table) {
  using namespace server;
  auto numkeys = [&](const char* name, int arity, uint32_t flags, KeysFn keys, CommandHandler h,
                     CommandHandler coordinator) {
    // first/last/step are what COMMAND INFO reports for Redis's movablekeys commands.
    bool dest = keys == NumkeysKeys<1, 2>;
    table.Add({.name = name,
               .arity = arity,
               .flags = flags,
               .first_key = dest ? 1 : 0,
               .last_key = dest ? 1 : 0,
               .key_step = dest ? 1 : 0,
               .handler = h,
               .coordinator = coordinator,
               .get_keys = keys});
  };
  numkeys("zunion", -3, kReadOnly, NumkeysKeys<0, 1>, AlgebraHandler<SetOp::kUnion, false, false>,
          AlgebraCoordinator<SetOp::kUnion, false, false>);
  numkeys("zinter", -3, kReadOnly, NumkeysKeys<0, 1>, AlgebraHandler<SetOp::kInter, false, false>,
          AlgebraCoordinator<SetOp::kInter, false, false>);
  numkeys("zdiff", -3, kReadOnly, NumkeysKeys<0, 1>, AlgebraHandler<SetOp::kDiff, false, false>,
          AlgebraCoordinator<SetOp::kDiff, false, false>);
  numkeys("zintercard", -3, kReadOnly, NumkeysKeys<0, 1>,
          AlgebraHandler<SetOp::kInter, false, true>,
          AlgebraCoordinator<SetOp::kInter, false, true>);
  numkeys("zunionstore", -4, kWrite | kDenyOom, NumkeysKeys<1, 2>,
          AlgebraHandler<SetOp::kUnion, true, false>,
          AlgebraCoordinator<SetOp::kUnion, true, false>);
  numkeys("zinterstore", -4, kWrite | kDenyOom, NumkeysKeys<1, 2>,
          AlgebraHandler<SetOp::kInter, true, false>,
          AlgebraCoordinator<SetOp::kInter, true, false>);
  numkeys("zdiffstore", -4, kWrite | kDenyOom, NumkeysKeys<1, 2>,
          AlgebraHandler<SetOp::kDiff, true, false>, AlgebraCoordinator<SetOp::kDiff, true, false>);
  numkeys("zmpop", -4, kWrite, NumkeysKeys<0, 1>, ZMPop, ZMPopCoordinator);
}

}  // namespace shoal::cmd
