// Work on one blocking connection: the preflight that says plainly what a server lacks, the
// setup of the accounts, and the audits that read every account atomically.

#pragma once

#include <string>

#include "conn.h"
#include "ledger.h"

namespace ledger {

// Checks that the server runs every command this run needs and loads the scripts (their SHAs
// go to `shared`). Returns "" or a description of each failure, one a line.
std::string Preflight(Conn& conn, Shared& shared);

// Deletes the ledger keys and creates the accounts: balance keys, coin lists and coin sets with
// coins numbered apart (L<n> in lists, S<n> in sets). Returns "" or what went wrong.
std::string Setup(Conn& conn, const Options& opts);

struct Totals {
  long long balance = 0, list_coins = 0, set_coins = 0;
  bool operator==(const Totals&) const = default;
  std::string ToString() const;
};

// The totals a fresh setup leaves.
Totals SetupTotals(const Options& opts);

struct AuditResult {
  bool ok = false;    // The audit ran (no transport error, no error reply).
  std::string error;  // Why not, if !ok.
  Totals totals;
  long long lowest = 0;               // Smallest balance.
  long long missing = 0;              // Balance keys that do not exist.
  std::vector<std::string> problems;  // Coin identity problems (full audits only).
};

// One atomic read of every account: MULTI + MGET + LLEN/SCARD ... EXEC, or the audit script.
// A full audit also reads every coin (LRANGE/SMEMBERS in the same MULTI) and checks that each
// coin of the setup is held exactly once (with `expect_coins`) or that none is held twice.
AuditResult Audit(Conn& conn, Shared& shared, bool use_script);
AuditResult FullAudit(Conn& conn, Shared& shared, bool expect_coins);

// Compares an audit with the expected totals; reports each violation. Returns how many.
int CheckAudit(Shared& shared, const AuditResult& a, const Totals& expected,
               const std::string& which);

}  // namespace ledger
