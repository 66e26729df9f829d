// The Lua scripts the ledger client loads (SCRIPT LOAD) and runs by EVALSHA.
//
// Every script declares all the keys it touches, so a server may run it on just the shards that
// own them. Lua 5.1 numbers are doubles: exact for the sums here (far below 2^53).

#pragma once

namespace ledger {

// KEYS[1] pays ARGV[1] to KEYS[2] if it holds enough. Returns 1 (moved) or 0 (refused); a
// missing balance key is an error reply starting with LEDGER (the client reports a violation).
inline constexpr const char* kTransferScript = R"lua(
local from = tonumber(redis.call('GET', KEYS[1]))
local amount = tonumber(ARGV[1])
if from == nil then return redis.error_reply('LEDGER missing balance ' .. KEYS[1]) end
if from < amount then return 0 end
redis.call('DECRBY', KEYS[1], amount)
redis.call('INCRBY', KEYS[2], amount)
return 1
)lua";

// Reads every account at once. KEYS = n balance keys, then n coin lists, then n coin sets;
// ARGV[1] = n. Returns {sum of balances, smallest balance, missing balance keys, list coins,
// set coins}.
inline constexpr const char* kAuditScript = R"lua(
local n = tonumber(ARGV[1])
local sum, low, missing, lcoins, scoins = 0, nil, 0, 0, 0
for i = 1, n do
  local v = tonumber(redis.call('GET', KEYS[i]))
  if v == nil then
    missing = missing + 1
  else
    sum = sum + v
    if low == nil or v < low then low = v end
  end
  lcoins = lcoins + redis.call('LLEN', KEYS[n + i])
  scoins = scoins + redis.call('SCARD', KEYS[2 * n + i])
end
return {sum, low or 0, missing, lcoins, scoins}
)lua";

// The benchmark's small read-modify-write script: adds ARGV[1] to the number in KEYS[1].
inline constexpr const char* kRmwScript = R"lua(
local v = (tonumber(redis.call('GET', KEYS[1])) or 0) + tonumber(ARGV[1])
redis.call('SET', KEYS[1], v)
return v
)lua";

}  // namespace ledger
