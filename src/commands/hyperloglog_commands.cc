// HyperLogLog: PFADD PFCOUNT PFMERGE over string values in Redis's HLL format
// (storage/hyperloglog.h). PFDEBUG and PFSELFTEST (Redis's testing aids) are not provided.
//
// PFCOUNT of one key caches the estimate in the value's header, as Redis does (so GET shows it).
// PFCOUNT and PFMERGE across shards: a coordinator copies the HLL strings from their shards and
// merges their registers on the connection's thread; PFMERGE then writes the merged registers
// into the destination on its own shard. Until the transaction layer lands, another client may
// observe the moment in between.
#include <memory>
#include <vector>

#include "commands/helpers.h"
#include "commands/register.h"
#include "storage/encoding_limits.h"
#include "storage/hyperloglog.h"

namespace shoal::cmd {
namespace {

using storage::Entry;
using storage::Value;
using storage::ValueHllBuffer;

constexpr std::string_view kErrNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kErrCorrupt = "INVALIDOBJ Corrupted HLL object detected";

size_t SparseMaxBytes() {
  return static_cast<size_t>(storage::Limit(storage::Limits().hll_sparse_max_bytes));
}

// A new, empty HLL value; "raw" as Redis creates it.
Value NewHllValue() {
  std::string bytes = storage::HllEmpty();
  Value v = Value::RawString(bytes);
  v.MutableString(bytes.size());
  return v;
}

// Why a key cannot be read as an HLL: nothing wrong, not a string, or a string of another shape.
enum class HllCheck : uint8_t { kOk, kWrongType, kNotHll };

HllCheck CheckHll(const Value& v) {
  if (!v.is_string()) return HllCheck::kWrongType;
  // An integer-encoded string is never an HLL (and is shorter than a header anyway).
  if (v.is_int()) return HllCheck::kNotHll;
  std::string unused;
  return storage::HllIsValid(v.GetString(&unused)) ? HllCheck::kOk : HllCheck::kNotHll;
}

// Replies the error for a failed check; returns true if there was one.
bool ReplyHllCheck(CommandContext& ctx, HllCheck check) {
  if (check == HllCheck::kWrongType) ctx.ReplyError(Status::WrongType());
  if (check == HllCheck::kNotHll) ctx.ReplyError(kErrNotHll);
  return check != HllCheck::kOk;
}

void PfAdd(CommandContext& ctx) {
  Entry* e = ctx.db().Find(ctx.arg(1), ctx.now_ms(), kWriteLookup);
  int updated = 0;
  if (e == nullptr) {
    e = ctx.db().Insert(ctx.arg(1), NewHllValue());
    updated = 1;  // Creating the key is a change, even with no elements.
  } else if (ReplyHllCheck(ctx, CheckHll(e->value))) {
    return;
  }
  ValueHllBuffer hll(&e->value);
  hll.Resize(hll.view().size());  // Unshared, hence "raw", as Redis leaves it.
  const size_t sparse_max = SparseMaxBytes();
  for (size_t i = 2; i < ctx.argc(); ++i) {
    int r = storage::HllAdd(hll, ctx.arg(i), sparse_max);
    if (r < 0) return ctx.ReplyError(kErrCorrupt);
    updated += r;
  }
  if (updated > 0) storage::HllInvalidateCache(hll.Resize(hll.view().size()));
  ctx.reply().Integer(updated > 0 ? 1 : 0);
}

// PFCOUNT of one key: the cached estimate, or a fresh one that is then cached.
void PfCountOne(CommandContext& ctx) {
  Entry* e = ctx.db().Find(ctx.arg(1), ctx.now_ms(), kRead);
  if (e == nullptr) return ctx.reply().Integer(0);
  if (ReplyHllCheck(ctx, CheckHll(e->value))) return;
  ValueHllBuffer hll(&e->value);
  uint8_t* p = hll.Resize(hll.view().size());
  if (std::optional<uint64_t> cached = storage::HllCachedCount(hll.view())) {
    return ctx.reply().Integer(static_cast<int64_t>(*cached));
  }
  std::optional<uint64_t> count = storage::HllCount(hll.view());
  if (!count) return ctx.ReplyError(kErrCorrupt);
  storage::HllSetCachedCount(p, *count);
  ctx.reply().Integer(static_cast<int64_t>(*count));
}

// The register-wise maximum of several HLLs, in key order, stopping at the first bad one.
struct Merge {
  std::vector<uint8_t> max = std::vector<uint8_t>(storage::kHllRegisters, 0);
  bool any_dense = false;

  // Replies the error and returns false if `v` is not a sound HLL.
  bool Add(CommandContext& ctx, const Value& v) {
    if (ReplyHllCheck(ctx, CheckHll(v))) return false;
    std::string unused;
    return Add(ctx, v.GetString(&unused));
  }
  // REQUIRES: HllIsValid(hll).
  bool Add(CommandContext& ctx, std::string_view hll) {
    any_dense = any_dense || storage::HllIsDense(hll);
    if (!storage::HllMergeInto(hll, max.data())) {
      ctx.ReplyError(kErrCorrupt);
      return false;
    }
    return true;
  }
};

void PfCount(CommandContext& ctx) {
  if (ctx.argc() == 2) return PfCountOne(ctx);
  Merge m;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Entry* e = ctx.db().Find(ctx.arg(i), ctx.now_ms(), kRead);
    if (e != nullptr && !m.Add(ctx, e->value)) return;
  }
  ctx.reply().Integer(static_cast<int64_t>(storage::HllCountRegisters(m.max.data())));
}

// Runs on: the destination's shard. Raises the destination's registers to `max` (creating it
// if missing); dense if it already is or `dense` asks for it, else sparse while that fits.
// Returns what to reply: OK, or the error that stopped it.
Status MergeInto(storage::Db& db, std::string_view key, const Merge& m, int64_t now_ms) {
  Entry* e = db.Find(key, now_ms, kWriteLookup);
  if (e == nullptr) {
    e = db.Insert(key, NewHllValue());
  } else if (HllCheck check = CheckHll(e->value); check != HllCheck::kOk) {
    // Only when the destination changed since its copy was checked (across shards).
    return check == HllCheck::kWrongType ? Status::WrongType()
                                         : Status::Error(std::string(kErrNotHll));
  }
  ValueHllBuffer hll(&e->value);
  hll.Resize(hll.view().size());  // Unshared ("raw").
  if (m.any_dense && !storage::HllToDense(hll)) return Status::Error(std::string(kErrCorrupt));
  const size_t sparse_max = SparseMaxBytes();
  for (size_t i = 0; i < storage::kHllRegisters; ++i) {
    if (m.max[i] == 0) continue;
    if (storage::HllSetRegister(hll, static_cast<uint32_t>(i), m.max[i], sparse_max) < 0) {
      return Status::Error(std::string(kErrCorrupt));
    }
  }
  storage::HllInvalidateCache(hll.Resize(hll.view().size()));
  return Status::Ok();
}

void PfMerge(CommandContext& ctx) {
  Merge m;
  // The destination is one of the sources: its registers are kept.
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Entry* e = ctx.db().Find(ctx.arg(i), ctx.now_ms(), kRead);
    if (e != nullptr && !m.Add(ctx, e->value)) return;
  }
  Status s = MergeInto(ctx.db(), ctx.arg(1), m, ctx.now_ms());
  if (!s.ok()) return ctx.ReplyError(s);
  ctx.reply().Ok();
}

// ---- across shards ----

// Copies of the keys arguments [1, argc) from their shards, for a coordinator.
struct Gathered {
  std::vector<std::string> keys;
  // Per key, written only by its owner shard.
  std::vector<uint8_t> found;       // The key exists.
  std::vector<uint8_t> check;       // HllCheck of its value.
  std::vector<std::string> values;  // Its bytes, when check is kOk.
  Status dest_status;               // PFMERGE's second hop.
};

// Runs `then` once every key's value has been copied into `g`.
void Gather(CommandContext& ctx, std::shared_ptr<Gathered> g, CommandContext::Continuation then) {
  g->keys = CopyArgs(ctx, 1);
  const size_t n = g->keys.size();
  g->found.assign(n, 0);
  g->check.assign(n, 0);
  g->values.resize(n);
  ShardGroups groups = GroupByShard(g->keys);
  const int db = ctx.db_index();
  ctx.FanOut(
      groups.shards,
      [g, groups, db](shard::Shard& s) {
        int64_t now = UnixTimeMs();
        for (size_t i : groups.Of(s.id())) {
          Entry* e = s.db(db).Find(g->keys[i], now, kRead);
          if (e == nullptr) continue;
          g->found[i] = 1;
          HllCheck check = CheckHll(e->value);
          g->check[i] = static_cast<uint8_t>(check);
          if (check == HllCheck::kOk) e->value.AppendTo(&g->values[i]);
        }
      },
      std::move(then));
}

// Merges the gathered HLLs in key order; replies the first error and returns false.
bool MergeGathered(CommandContext& ctx, const Gathered& g, Merge* m) {
  for (size_t i = 0; i < g.keys.size(); ++i) {
    if (!g.found[i]) continue;
    if (ReplyHllCheck(ctx, static_cast<HllCheck>(g.check[i]))) return false;
    if (!m->Add(ctx, g.values[i])) return false;
  }
  return true;
}

void PfCountCoordinator(CommandContext& ctx) {
  auto g = std::make_shared<Gathered>();
  Gather(ctx, g, [g](CommandContext& c) {
    Merge m;
    if (!MergeGathered(c, *g, &m)) return;
    c.reply().Integer(static_cast<int64_t>(storage::HllCountRegisters(m.max.data())));
  });
}

void PfMergeCoordinator(CommandContext& ctx) {
  auto g = std::make_shared<Gathered>();
  const int db = ctx.db_index();
  Gather(ctx, g, [g, db](CommandContext& c) {
    auto m = std::make_shared<Merge>();
    if (!MergeGathered(c, *g, m.get())) return;
    c.FanOut(
        {c.server().shards->OwnerOf(g->keys[0])},
        [g, m, db](shard::Shard& s) {
          g->dest_status = MergeInto(s.db(db), g->keys[0], *m, UnixTimeMs());
        },
        [g](CommandContext& c2) {
          if (!g->dest_status.ok()) return c2.ReplyError(g->dest_status);
          c2.reply().Ok();
        });
  });
}

}  // namespace

void RegisterHyperLogLogCommands(server::CommandTable& table) {
  using namespace server;  // Command flags.
  table.Add({.name = "pfadd", .arity = -2, .flags = kWrite | kDenyOom | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = PfAdd});
  table.Add({.name = "pfcount", .arity = -2, .flags = kReadOnly, .first_key = 1, .last_key = -1,
             .key_step = 1, .handler = PfCount, .coordinator = PfCountCoordinator});
  table.Add({.name = "pfmerge", .arity = -2, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = -1, .key_step = 1, .handler = PfMerge,
             .coordinator = PfMergeCoordinator});
}

}  // namespace shoal::cmd
