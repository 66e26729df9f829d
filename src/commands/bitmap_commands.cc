// Bitmaps: SETBIT GETBIT BITCOUNT BITPOS BITOP. They work on plain string values (BITFIELD lives
// in bitfield_command.cc); the bit arithmetic is in storage/bitops.h.
//
// BITOP across shards: a coordinator copies the source strings from their shards, computes the
// result on the connection's thread, then stores (or deletes) the destination on its own shard.
// Until the transaction layer lands, another client may observe the moment in between.
#include <memory>

#include "commands/bitmap_args.h"
#include "commands/register.h"
#include "storage/bitops.h"

namespace shoal::cmd {

bool ParseBitOffset(CommandContext& ctx, std::string_view arg, bool hash, int bits,
                    uint64_t* offset) {
  std::string_view s = arg;
  bool field_numbered = hash && !s.empty() && s[0] == '#';
  if (field_numbered) s.remove_prefix(1);
  std::optional<int64_t> v = ParseInt64(s);
  if (!v) {
    ctx.ReplyError(kErrBitOffset);
    return false;
  }
  int64_t off = *v;
  // Multiplied in two's complement: an overflow turns negative (refused) as it does in Redis.
  if (field_numbered) off = static_cast<int64_t>(static_cast<uint64_t>(off) * bits);
  if (off < 0 || (off >> 3) >= ctx.server().config.proto_max_bulk_len.load()) {
    ctx.ReplyError(kErrBitOffset);
    return false;
  }
  *offset = static_cast<uint64_t>(off);
  return true;
}

char* StringForBitWrite(CommandContext& ctx, std::string_view key, uint64_t max_bit, size_t* size) {
  Result<storage::Entry*> e = FindString(ctx, key);
  if (!e.ok()) {
    ctx.ReplyError(e.status());
    return nullptr;
  }
  size_t needed = static_cast<size_t>(max_bit >> 3) + 1;
  storage::Entry* entry = *e;
  if (entry == nullptr) entry = ctx.db().Insert(key, storage::Value::RawString(""));
  *size = std::max(entry->value.string_size(), needed);
  return entry->value.MutableString(*size);
}

namespace {

using storage::Entry;
using storage::Value;

constexpr std::string_view kErrBitValue = "ERR bit is not an integer or out of range";

void SetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, ctx.arg(2), false, 0, &offset)) return;
  std::optional<int64_t> on = ParseInt64(ctx.arg(3));
  if (!on || (*on & ~int64_t{1}) != 0) return ctx.ReplyError(kErrBitValue);
  size_t size;
  char* p = StringForBitWrite(ctx, ctx.arg(1), offset, &size);
  if (p == nullptr) return;
  auto& byte = reinterpret_cast<uint8_t*>(p)[offset >> 3];
  const uint8_t mask = static_cast<uint8_t>(0x80 >> (offset & 7));
  const bool old = (byte & mask) != 0;
  byte = *on ? (byte | mask) : (byte & static_cast<uint8_t>(~mask));
  ctx.reply().Integer(old ? 1 : 0);
}

void GetBit(CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(ctx, ctx.arg(2), false, 0, &offset)) return;
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  std::string scratch;
  std::string_view s = (*e)->value.GetString(&scratch);
  uint64_t byte = offset >> 3;
  int bit = byte < s.size() ? (static_cast<uint8_t>(s[byte]) >> (7 - (offset & 7))) & 1 : 0;
  ctx.reply().Integer(bit);
}

// BYTE or BIT, the unit of BITCOUNT's and BITPOS's range. Replies a syntax error otherwise.
bool ParseRangeUnit(CommandContext& ctx, std::string_view arg, bool* bit_unit) {
  if (OptionIs(arg, "bit")) {
    *bit_unit = true;
  } else if (OptionIs(arg, "byte")) {
    *bit_unit = false;
  } else {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  return true;
}

void BitCount(CommandContext& ctx) {
  // The key is looked at first: a missing key counts 0 whatever the other arguments say.
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  if (*e == nullptr) return ctx.reply().Integer(0);
  std::string scratch;
  std::string_view s = (*e)->value.GetString(&scratch);
  if (ctx.argc() == 2) return ctx.reply().Integer(storage::CountBitsInRange(s, 0, -1, false));
  if (ctx.argc() != 4 && ctx.argc() != 5) return ctx.ReplyError(Status::Syntax());
  std::optional<int64_t> start = IntArgOrReply(ctx, 2);
  if (!start) return;
  std::optional<int64_t> end = IntArgOrReply(ctx, 3);
  if (!end) return;
  // A reversed negative range is empty before the unit is even read, as in Redis.
  if (*start < 0 && *end < 0 && *start > *end) return ctx.reply().Integer(0);
  bool bit_unit = false;
  if (ctx.argc() == 5 && !ParseRangeUnit(ctx, ctx.arg(4), &bit_unit)) return;
  ctx.reply().Integer(storage::CountBitsInRange(s, *start, *end, bit_unit));
}

void BitPos(CommandContext& ctx) {
  std::optional<int64_t> bit = IntArgOrReply(ctx, 2);
  if (!bit) return;
  if (*bit != 0 && *bit != 1) return ctx.ReplyError("ERR The bit argument must be 1 or 0.");
  Result<Entry*> e = FindString(ctx, ctx.arg(1), kRead);
  if (!e.ok()) return ctx.ReplyError(e.status());
  // A missing key is an endless run of zeros.
  if (*e == nullptr) return ctx.reply().Integer(*bit ? -1 : 0);
  std::string scratch;
  std::string_view s = (*e)->value.GetString(&scratch);
  const int b = static_cast<int>(*bit);
  if (ctx.argc() == 3)
    return ctx.reply().Integer(storage::FindBitInRange(s, b, 0, -1, false, false));
  if (ctx.argc() > 6) return ctx.ReplyError(Status::Syntax());
  std::optional<int64_t> start = IntArgOrReply(ctx, 3);
  if (!start) return;
  bool bit_unit = false;
  if (ctx.argc() == 6 && !ParseRangeUnit(ctx, ctx.arg(5), &bit_unit)) return;
  int64_t end = -1;
  if (ctx.argc() >= 5) {
    std::optional<int64_t> v = IntArgOrReply(ctx, 4);
    if (!v) return;
    end = *v;
  }
  ctx.reply().Integer(storage::FindBitInRange(s, b, *start, end, ctx.argc() >= 5, bit_unit));
}

// ---- BITOP ----

// Parses the operation and checks NOT's single source; replies the error and returns false.
bool ParseBitOp(CommandContext& ctx, storage::BitOpKind* op) {
  std::string_view name = ctx.arg(1);
  if (OptionIs(name, "and")) {
    *op = storage::BitOpKind::kAnd;
  } else if (OptionIs(name, "or")) {
    *op = storage::BitOpKind::kOr;
  } else if (OptionIs(name, "xor")) {
    *op = storage::BitOpKind::kXor;
  } else if (OptionIs(name, "not")) {
    *op = storage::BitOpKind::kNot;
  } else {
    ctx.ReplyError(Status::Syntax());
    return false;
  }
  if (*op == storage::BitOpKind::kNot && ctx.argc() != 4) {
    ctx.ReplyError("ERR BITOP NOT must be called with a single source key.");
    return false;
  }
  return true;
}

// Runs on: the destination's shard. Stores BITOP's result (a raw string, as Redis creates it,
// replacing any value and TTL), or deletes the destination when the result is empty.
void StoreBitOpResult(storage::Db& db, std::string_view key, const std::string& result,
                      int64_t now_ms) {
  if (result.empty()) {
    db.Erase(key, now_ms);
    return;
  }
  Value v = Value::RawString(result);
  v.MutableString(result.size());  // Marks it "raw"; no reallocation at the same size.
  db.Upsert(key, std::move(v), now_ms);
}

void BitOpCmd(CommandContext& ctx) {
  storage::BitOpKind op;
  if (!ParseBitOp(ctx, &op)) return;
  const size_t n = ctx.argc() - 3;
  std::vector<std::string> scratch(n);  // Integers formatted as text; sized once, never moved.
  std::vector<std::string_view> sources(n);
  for (size_t i = 0; i < n; ++i) {
    Result<Entry*> e = FindString(ctx, ctx.arg(3 + i), kRead);
    if (!e.ok()) return ctx.ReplyError(e.status());
    if (*e != nullptr) sources[i] = (*e)->value.GetString(&scratch[i]);
  }
  std::string result = storage::BitOp(op, sources);
  StoreBitOpResult(ctx.db(), ctx.arg(2), result, ctx.now_ms());
  ctx.reply().Integer(static_cast<int64_t>(result.size()));
}

void BitOpCoordinator(CommandContext& ctx) {
  storage::BitOpKind op;
  if (!ParseBitOp(ctx, &op)) return;
  struct State {
    std::string dest;
    std::vector<std::string> keys;
    // Per source key, written only by its owner shard: its bytes, and whether it is a string.
    std::vector<std::string> values;
    std::vector<uint8_t> wrong_type;
    std::string result;
  };
  auto st = std::make_shared<State>();
  st->dest = std::string(ctx.arg(2));
  st->keys = CopyArgs(ctx, 3);
  st->values.resize(st->keys.size());
  st->wrong_type.assign(st->keys.size(), 0);
  ShardGroups groups = GroupByShard(st->keys);
  const int db = ctx.db_index();
  ctx.FanOut(
      groups.shards,
      [st, groups, db](shard::Shard& s) {
        int64_t now = UnixTimeMs();
        for (size_t i : groups.Of(s.id())) {
          Entry* e = s.db(db).Find(st->keys[i], now, kRead);
          if (e == nullptr) continue;
          if (!e->value.is_string()) {
            st->wrong_type[i] = 1;
          } else {
            e->value.AppendTo(&st->values[i]);
          }
        }
      },
      [st, op, db](CommandContext& c) {
        for (uint8_t w : st->wrong_type) {
          if (w) return c.ReplyError(Status::WrongType());
        }
        std::vector<std::string_view> sources(st->values.begin(), st->values.end());
        st->result = storage::BitOp(op, sources);
        c.FanOut(
            {c.server().shards->OwnerOf(st->dest)},
            [st, db](shard::Shard& s) {
              StoreBitOpResult(s.db(db), st->dest, st->result, UnixTimeMs());
            },
            [st](CommandContext& c2) {
              c2.reply().Integer(static_cast<int64_t>(st->result.size()));
            });
      });
}

}  // namespace

void RegisterBitmapCommands(server::CommandTable& table) {
  using namespace server;  // Command flags.
  table.Add({.name = "setbit", .arity = 4, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = SetBit});
  table.Add({.name = "getbit", .arity = 3, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = GetBit});
  table.Add({.name = "bitcount", .arity = -2, .flags = kReadOnly, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = BitCount});
  table.Add({.name = "bitpos", .arity = -3, .flags = kReadOnly, .first_key = 1, .last_key = 1,
             .key_step = 1, .handler = BitPos});
  table.Add({.name = "bitop", .arity = -4, .flags = kWrite | kDenyOom, .first_key = 2,
             .last_key = -1, .key_step = 1, .handler = BitOpCmd,
             .coordinator = BitOpCoordinator});
  RegisterBitfieldCommands(table);
}

}  // namespace shoal::cmd
