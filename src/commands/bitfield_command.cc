// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
//              [OVERFLOW WRAP|SAT|FAIL] ...   and BITFIELD_RO key [GET type offset] ...
//
// As in Redis, every operation is parsed (and any error replied) before the key is touched; a
// command with a write creates the key and pads it to its farthest written bit before running
// the operations in order, even if an OVERFLOW FAIL then skips every write.
#include <vector>

#include "commands/bitmap_args.h"
#include "storage/bitops.h"

namespace shoal::cmd {
namespace {

using storage::BitfieldOverflow;

constexpr std::string_view kErrType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";

enum class FieldOp : uint8_t { kGet, kSet, kIncrBy };

struct Operation {
  FieldOp op;
  BitfieldOverflow overflow;
  bool is_signed;
  int bits;
  uint64_t offset;
  int64_t value;  // SET's value or INCRBY's increment.
};

// "i1".."i64" or "u1".."u63"; replies the error and returns false otherwise.
bool ParseFieldType(CommandContext& ctx, std::string_view arg, bool* is_signed, int* bits) {
  std::string_view s = arg.substr(0, arg.find('\0'));
  if (s.empty() || (s[0] != 'i' && s[0] != 'u')) {
    ctx.ReplyError(kErrType);
    return false;
  }
  *is_signed = s[0] == 'i';
  std::optional<int64_t> n = ParseInt64(s.substr(1));
  if (!n || *n < 1 || *n > (*is_signed ? 64 : 63)) {
    ctx.ReplyError(kErrType);
    return false;
  }
  *bits = static_cast<int>(*n);
  return true;
}

// Parses every operation. Returns false after replying an error.
bool ParseOperations(CommandContext& ctx, std::vector<Operation>* ops, uint64_t* max_write_bit,
                     bool* has_write) {
  BitfieldOverflow overflow = BitfieldOverflow::kWrap;
  for (size_t j = 2; j < ctx.argc(); ++j) {
    const size_t more = ctx.argc() - j - 1;
    std::string_view sub = ctx.arg(j);
    FieldOp op;
    if (OptionIs(sub, "get") && more >= 2) {
      op = FieldOp::kGet;
    } else if (OptionIs(sub, "set") && more >= 3) {
      op = FieldOp::kSet;
    } else if (OptionIs(sub, "incrby") && more >= 3) {
      op = FieldOp::kIncrBy;
    } else if (OptionIs(sub, "overflow") && more >= 1) {
      std::string_view mode = ctx.arg(++j);
      if (OptionIs(mode, "wrap")) {
        overflow = BitfieldOverflow::kWrap;
      } else if (OptionIs(mode, "sat")) {
        overflow = BitfieldOverflow::kSat;
      } else if (OptionIs(mode, "fail")) {
        overflow = BitfieldOverflow::kFail;
      } else {
        ctx.ReplyError("ERR Invalid OVERFLOW type specified");
        return false;
      }
      continue;
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
    Operation o{
        .op = op, .overflow = overflow, .is_signed = false, .bits = 0, .offset = 0, .value = 0};
    if (!ParseFieldType(ctx, ctx.arg(j + 1), &o.is_signed, &o.bits)) return false;
    if (!ParseBitOffset(ctx, ctx.arg(j + 2), /*hash=*/true, o.bits, &o.offset)) return false;
    if (op != FieldOp::kGet) {
      *has_write = true;
      *max_write_bit = std::max(*max_write_bit, o.offset + o.bits - 1);
      std::optional<int64_t> v = IntArgOrReply(ctx, j + 3);
      if (!v) return false;
      o.value = *v;
    }
    ops->push_back(o);
    j += op == FieldOp::kGet ? 2 : 3;
  }
  return true;
}

// SET or INCRBY on the field: replies the old value (SET) or the new one (INCRBY), or null when
// OVERFLOW FAIL refuses the write.
void WriteField(CommandContext& ctx, uint8_t* p, size_t size, const Operation& o) {
  std::string_view s(reinterpret_cast<const char*>(p), size);
  const int64_t incr = o.op == FieldOp::kIncrBy ? o.value : 0;
  uint64_t stored;
  int64_t reply;
  int overflow;
  if (o.is_signed) {
    int64_t old = storage::GetSignedBits(s, o.offset, o.bits);
    // SET checks its value as if it were an increment of 0 from that value.
    int64_t base = o.op == FieldOp::kIncrBy ? old : o.value;
    int64_t result =
        static_cast<int64_t>(static_cast<uint64_t>(base) + static_cast<uint64_t>(incr));
    overflow = storage::CheckSignedOverflow(base, incr, o.bits, o.overflow, &result);
    stored = static_cast<uint64_t>(result);
    reply = o.op == FieldOp::kIncrBy ? result : old;
  } else {
    uint64_t old = storage::GetUnsignedBits(s, o.offset, o.bits);
    uint64_t base = o.op == FieldOp::kIncrBy ? old : static_cast<uint64_t>(o.value);
    uint64_t result = base + static_cast<uint64_t>(incr);
    overflow = storage::CheckUnsignedOverflow(base, incr, o.bits, o.overflow, &result);
    stored = result;
    reply = static_cast<int64_t>(o.op == FieldOp::kIncrBy ? result : old);
  }
  if (overflow != 0 && o.overflow == BitfieldOverflow::kFail) return ctx.reply().Null();
  ctx.reply().Integer(reply);
  storage::SetBits(p, o.offset, o.bits, stored);
}

void BitfieldGeneric(CommandContext& ctx, bool read_only_command) {
  std::vector<Operation> ops;
  uint64_t max_write_bit = 0;
  bool has_write = false;
  if (!ParseOperations(ctx, &ops, &max_write_bit, &has_write)) return;
  std::string scratch;
  std::string_view current;  // What GETs read when nothing is written.
  uint8_t* p = nullptr;
  size_t size = 0;
  if (!has_write) {
    Result<storage::Entry*> e = FindString(ctx, ctx.arg(1), kRead);
    if (!e.ok()) return ctx.ReplyError(e.status());
    if (*e != nullptr) current = (*e)->value.GetString(&scratch);
  } else {
    if (read_only_command) {
      return ctx.ReplyError("ERR BITFIELD_RO only supports the GET subcommand");
    }
    p = reinterpret_cast<uint8_t*>(StringForBitWrite(ctx, ctx.arg(1), max_write_bit, &size));
    if (p == nullptr) return;
    current = std::string_view(reinterpret_cast<const char*>(p), size);
  }
  ctx.reply().ArrayHeader(ops.size());
  for (const Operation& o : ops) {
    if (o.op != FieldOp::kGet) {
      WriteField(ctx, p, size, o);
    } else if (o.is_signed) {
      ctx.reply().Integer(storage::GetSignedBits(current, o.offset, o.bits));
    } else {
      ctx.reply().Integer(
          static_cast<int64_t>(storage::GetUnsignedBits(current, o.offset, o.bits)));
    }
  }
}

void Bitfield(CommandContext& ctx) { BitfieldGeneric(ctx, false); }
void BitfieldRo(CommandContext& ctx) { BitfieldGeneric(ctx, true); }

}  // namespace

void RegisterBitfieldCommands(server::CommandTable& table) {
  using namespace server;
  table.Add({.name = "bitfield", .arity = -2, .flags = kWrite | kDenyOom, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = Bitfield});
  table.Add({.name = "bitfield_ro", .arity = -2, .flags = kReadOnly | kFast, .first_key = 1,
             .last_key = 1, .key_step = 1, .handler = BitfieldRo});
}

}  // namespace shoal::cmd
