#include "commands/expire_args.h"

#include <climits>

#include "commands/helpers.h"

namespace shoal::cmd {

bool ExpireValueToDeadline(server::CommandContext& ctx, size_t arg, bool seconds, bool relative,
                           int64_t* when_ms) {
  std::optional<int64_t> v = IntArgOrReply(ctx, arg);
  if (!v) return false;
  int64_t ms = *v;
  if (ms <= 0 || (seconds && ms > LLONG_MAX / 1000)) {
    ctx.ReplyError(Status(Code::kInvalidExpire));
    return false;
  }
  if (seconds) ms *= 1000;
  if (relative) {
    // Redis adds without checking and then rejects a wrapped (non-positive) result.
    ms = static_cast<int64_t>(static_cast<uint64_t>(ms) + static_cast<uint64_t>(ctx.now_ms()));
  }
  if (ms <= 0) {
    ctx.ReplyError(Status(Code::kInvalidExpire));
    return false;
  }
  *when_ms = ms;
  return true;
}

bool ValidateExpireValue(server::CommandContext& ctx, ExpireArgs* out) {
  if (out->expire_arg == 0) return true;
  bool seconds = out->flags & (kEx | kExAt);
  bool relative = out->flags & (kEx | kPx);
  return ExpireValueToDeadline(ctx, out->expire_arg, seconds, relative, &out->when_ms);
}

bool ParseExpireArgs(server::CommandContext& ctx, size_t from, ExpireArgsFor which,
                     ExpireArgs* out, bool validate_value) {
  const bool set = which == ExpireArgsFor::kSet;
  const bool getex = which == ExpireArgsFor::kGetEx;
  uint32_t& f = out->flags;
  constexpr uint32_t kAnyExpire = kEx | kPx | kExAt | kPxAt;
  for (size_t j = from; j < ctx.argc(); ++j) {
    std::string_view opt = ctx.arg(j);
    bool has_next = j + 1 < ctx.argc();
    if (set && ArgIs(opt, "NX") && !(f & kSetXx)) {
      f |= kSetNx;
    } else if (set && ArgIs(opt, "XX") && !(f & kSetNx)) {
      f |= kSetXx;
    } else if (set && ArgIs(opt, "GET")) {
      f |= kSetGet;
    } else if (set && ArgIs(opt, "KEEPTTL") && !(f & (kPersist | kAnyExpire))) {
      f |= kKeepTtl;
    } else if (getex && ArgIs(opt, "PERSIST") && !(f & (kKeepTtl | kAnyExpire))) {
      f |= kPersist;
    } else if (ArgIs(opt, "EX") && !(f & (kKeepTtl | kPersist | kExAt | kPx | kPxAt)) && has_next) {
      f |= kEx;
      out->expire_arg = static_cast<int>(++j);
    } else if (ArgIs(opt, "PX") && !(f & (kKeepTtl | kPersist | kEx | kExAt | kPxAt)) &&
               has_next) {
      f |= kPx;
      out->expire_arg = static_cast<int>(++j);
    } else if (ArgIs(opt, "EXAT") && !(f & (kKeepTtl | kPersist | kEx | kPx | kPxAt)) &&
               has_next) {
      f |= kExAt;
      out->expire_arg = static_cast<int>(++j);
    } else if (ArgIs(opt, "PXAT") && !(f & (kKeepTtl | kPersist | kEx | kExAt | kPx)) &&
               has_next) {
      f |= kPxAt;
      out->expire_arg = static_cast<int>(++j);
    } else {
      ctx.ReplyError(Status::Syntax());
      return false;
    }
  }
  return !validate_value || ValidateExpireValue(ctx, out);
}

}  // namespace shoal::cmd
