// What the ledger client's parts share: options, key names, transfer kinds, counters, and the
// reporter that prints violations and errors as they happen.

#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "conn.h"

namespace ledger {

// Transfer kinds (the ledger) and request kinds (--bench). The order is the --mix order.
enum class Kind : uint8_t {
  kWatch,   // WATCH a b; MGET a b; MULTI DECRBY a x INCRBY b x EXEC, retried on a nil EXEC.
  kScript,  // EVALSHA of kTransferScript over both balance keys.
  kLmove,   // LMOVE coins-list:a coins-list:b LEFT RIGHT: one coin, one command.
  kSmove,   // SRANDMEMBER coins-set:a, then SMOVE coins-set:a coins-set:b coin (retried if gone).
  // Negative controls for the test, never in the default mix: they must produce violations.
  // DECRBY a x, then INCRBY b x in the next round trip: not atomic, audits see money missing.
  kUnsafe,
  // The WATCH transfer without WATCH: MGET a b, then MULTI DECRBY INCRBY EXEC. The balance
  // check goes stale, so concurrent transfers overdraw: a broken WATCH looks like this.
  kNoWatch,
  kMulti,   // --bench multi: MULTI, 5 x INCR of random keys, EXEC.
  kEvalsha  // --bench evalsha: EVALSHA of kRmwScript on one random key.
};
inline constexpr int kKinds = 8;
inline constexpr int kTransferKinds = 6;
inline constexpr std::array<const char*, kKinds> kKindNames = {
    "watch", "script", "lmove", "smove", "unsafe", "nowatch", "multi", "evalsha"};

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  int accounts = 1000;
  long long balance = 1000;  // Starting balance of every account.
  int coins = 5;             // Starting coins per account, in its list and in its set each.
  long long max_amount = 100;
  int clients = 50;  // Transfer connections.
  int threads = 1;   // Client threads driving them.
  int pipeline = 1;  // Operations in flight per connection (a WATCH transfer is always alone).
  double seconds = 10;
  long long transfers = 0;  // When > 0: run exactly this many transfers (or --bench requests).
  std::array<int, kTransferKinds> mix = {1, 1, 1, 1, 0, 0};
  uint64_t seed = 0;
  int auditors = 1;
  int audit_interval_ms = 20;
  std::string audit_with = "both";  // multi, script or both (alternating).
  bool setup = false, setup_only = false, audit_only = false, no_audit = false;
  std::string bench;            // "", "multi" or "evalsha".
  long long keyspace = 100000;  // --bench: keys bench:txn:<i> / bench:rmw:<i>, i < keyspace.
  double timeout = 10;          // Seconds without a reply before a connection counts as hung.
  long long max_errors = 100;   // Error replies after which the run stops early.
  std::string prefix = "ledger:";

  std::string Balance(long i) const { return prefix + "bal:" + std::to_string(i); }
  std::string CoinList(long i) const { return prefix + "lc:" + std::to_string(i); }
  std::string CoinSet(long i) const { return prefix + "sc:" + std::to_string(i); }
  bool audits_multi() const { return audit_with != "script"; }
  bool audits_script() const { return audit_with != "multi"; }
};

struct KindStats {
  long long moved = 0;    // Transfers that moved money or a coin (for --bench: requests done).
  long long refused = 0;  // Transfers refused for lack of funds or coins.
  long long retries = 0;  // Nil EXECs (WATCH conflicts), coins gone before SMOVE.
  long long errors = 0;   // Unexpected replies.
};

struct Stats {
  std::array<KindStats, kKinds> kind{};
  std::vector<uint32_t> latency_us;  // Per finished operation, first send to last reply.
  void Add(const Stats& o);
  long long done() const;  // Finished transfers (moved + refused) or requests.
  long long retries() const;
  long long errors() const;
};

// Prints the first violations and errors as they happen and counts all of them.
class Reporter {
 public:
  void Violation(const std::string& what);
  void Error(const std::string& what);
  long long violations() const { return violations_.load(); }
  long long errors() const { return errors_.load(); }
  std::string first_error() const;

 private:
  std::atomic<long long> violations_{0}, errors_{0};
  mutable std::mutex mu_;
  std::string first_error_;
};

// State the worker and auditor threads share with main.
struct Shared {
  const Options& opts;
  Reporter reporter;
  std::atomic<bool> stop{false};  // No new operations; retries are dropped.
  std::atomic<long long> budget{std::numeric_limits<long long>::max()};  // Ops left to start.
  std::string transfer_sha, audit_sha, rmw_sha;
  explicit Shared(const Options& o) : opts(o) {}
};

}  // namespace ledger
