// Parsing of the expiry options shared by SET and GETEX (EX PX EXAT PXAT KEEPTTL PERSIST, plus
// SET's NX XX GET), following Redis 7.0's rules for which combinations are a syntax error.
#pragma once

#include <cstdint>

#include "server/command_context.h"

namespace shoal::cmd {

enum SetFlag : uint32_t {
  kSetNx = 1 << 0,
  kSetXx = 1 << 1,
  kSetGet = 1 << 2,
  kKeepTtl = 1 << 3,
  kPersist = 1 << 4,
  kEx = 1 << 5,
  kPx = 1 << 6,
  kExAt = 1 << 7,
  kPxAt = 1 << 8,
};

struct ExpireArgs {
  uint32_t flags = 0;
  int expire_arg = 0;     // Index of the EX/PX/EXAT/PXAT value, 0 if none.
  int64_t when_ms = -1;   // Absolute deadline, once validated.
};

enum class ExpireArgsFor { kSet, kGetEx };

// Parses options from argument `from` on. Replies and returns false on error (syntax error,
// non-integer or invalid expire time).
// With `validate_value` false the EX/PX/... value is left for ValidateExpireValue (GETEX checks
// it only after finding the key, as Redis does).
bool ParseExpireArgs(server::CommandContext& ctx, size_t from, ExpireArgsFor which,
                     ExpireArgs* out, bool validate_value = true);
bool ValidateExpireValue(server::CommandContext& ctx, ExpireArgs* args);

// Validates a relative (seconds or ms) or absolute expire value as Redis's
// getExpireMillisecondsOrReply does; replies and returns false on error.
bool ExpireValueToDeadline(server::CommandContext& ctx, size_t arg, bool seconds, bool relative,
                           int64_t* when_ms);

}  // namespace shoal::cmd
