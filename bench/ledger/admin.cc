#include "admin.h"

#include <set>
#include <unordered_map>

#include "scripts.h"

namespace ledger {
namespace {

// Seconds for one setup batch (1000 commands, each up to 100 keys): more than --timeout, which
// bounds the preflight and audits, since a sanitizer build of a server may take a while.
constexpr double kSetupTimeout = 60;

// Runs `cmds` and fails on the first reply that `ok` rejects.
std::string Batch(Conn& conn, const std::vector<Args>& cmds,
                  bool (*ok)(const redisReply*, const Args&)) {
  std::vector<Reply> replies;
  std::string err;
  if (!RoundTrip(conn, cmds, &replies, kSetupTimeout, &err)) return err;
  for (size_t i = 0; i < cmds.size(); i++) {
    if (!ok(replies[i].get(), cmds[i])) return cmds[i][0] + " -> " + Describe(replies[i].get());
  }
  return "";
}

// Sends `cmds` in pipelined chunks of about 1000.
std::string Chunked(Conn& conn, const std::vector<Args>& cmds,
                    bool (*ok)(const redisReply*, const Args&)) {
  for (size_t lo = 0; lo < cmds.size(); lo += 1000) {
    std::vector<Args> part(cmds.begin() + lo, cmds.begin() + std::min(cmds.size(), lo + 1000));
    if (std::string e = Batch(conn, part, ok); !e.empty()) return e;
  }
  return "";
}

bool IsSha(const redisReply* r) { return r->type == REDIS_REPLY_STRING && r->len == 40; }

// One preflight step: `cmd` must get the reply `want` accepts.
void Expect(Conn& conn, double timeout, const Args& cmd, bool (*want)(const redisReply*),
            std::string* problems, std::string* bulk = nullptr) {
  std::vector<Reply> replies;
  std::string err;
  std::string shown = cmd[0] + (cmd.size() > 1 && cmd[0] != "SCRIPT" ? " " + cmd[1] : "");
  if (cmd[0] == "SCRIPT") shown = "SCRIPT LOAD";
  if (!RoundTrip(conn, {cmd}, &replies, timeout, &err)) {
    *problems += "  " + shown + ": " + err + "\n";
  } else if (!want(replies[0].get())) {
    *problems += "  " + shown + " -> " + Describe(replies[0].get()) + "\n";
  } else if (bulk != nullptr) {
    bulk->assign(replies[0]->str, replies[0]->len);
  }
}

}  // namespace

std::string Totals::ToString() const {
  return "balances " + std::to_string(balance) + ", list coins " + std::to_string(list_coins) +
         ", set coins " + std::to_string(set_coins);
}

Totals SetupTotals(const Options& o) {
  return {o.accounts * o.balance, static_cast<long long>(o.accounts) * o.coins,
          static_cast<long long>(o.accounts) * o.coins};
}

std::string Preflight(Conn& conn, Shared& shared) {
  const Options& o = shared.opts;
  std::string p;
  auto ok = [](const redisReply* r) { return IsStatus(r, "OK"); };
  auto nil = [](const redisReply* r) { return r->type == REDIS_REPLY_NIL; };
  auto zero = [](const redisReply* r) { return r->type == REDIS_REPLY_INTEGER && r->integer == 0; };
  auto empty = [](const redisReply* r) { return r->type == REDIS_REPLY_ARRAY && r->elements == 0; };
  auto pong = [](const redisReply* r) { return IsStatus(r, "PONG"); };
  Expect(conn, o.timeout, {"PING"}, pong, &p);
  if (!p.empty()) return p;
  bool ledger = o.bench.empty() && !o.setup_only && !o.audit_only;  // Transfers will run.
  bool auditors = ledger && o.auditors > 0;
  // Full audits (before and after a run, --audit-only) always use MULTI.
  bool multi = o.bench == "multi" || (ledger && o.mix[0] > 0) || o.audit_only ||
               (ledger && !o.no_audit) || (auditors && o.audits_multi());
  if (multi) {
    // An empty transaction: nothing to undo if a step fails.
    Expect(conn, o.timeout, {"MULTI"}, ok, &p);
    Expect(conn, o.timeout, {"EXEC"}, empty, &p);
  }
  if (ledger && o.mix[0] > 0) {
    Expect(conn, o.timeout, {"WATCH", o.prefix + "preflight"}, ok, &p);
    Expect(conn, o.timeout, {"UNWATCH"}, ok, &p);
  }
  if (ledger && o.mix[1] > 0)
    Expect(conn, o.timeout, {"SCRIPT", "LOAD", kTransferScript}, IsSha, &p, &shared.transfer_sha);
  if (auditors && o.audits_script())
    Expect(conn, o.timeout, {"SCRIPT", "LOAD", kAuditScript}, IsSha, &p, &shared.audit_sha);
  if (o.bench == "evalsha")
    Expect(conn, o.timeout, {"SCRIPT", "LOAD", kRmwScript}, IsSha, &p, &shared.rmw_sha);
  if (ledger && o.mix[2] > 0) {
    Expect(conn, o.timeout,
           {"LMOVE", o.prefix + "preflight:a", o.prefix + "preflight:b", "LEFT", "RIGHT"}, nil, &p);
  }
  if (ledger && o.mix[3] > 0) {
    Expect(conn, o.timeout, {"SRANDMEMBER", o.prefix + "preflight:s"}, nil, &p);
    Expect(conn, o.timeout, {"SMOVE", o.prefix + "preflight:s", o.prefix + "preflight:t", "c"},
           zero, &p);
  }
  return p;
}

std::string Setup(Conn& conn, const Options& o) {
  std::vector<Args> del;
  for (long lo = 0; lo < o.accounts; lo += 100) {
    Args d = {"DEL"};
    for (long i = lo; i < std::min<long>(o.accounts, lo + 100); i++) {
      d.insert(d.end(), {o.Balance(i), o.CoinList(i), o.CoinSet(i)});
    }
    del.push_back(std::move(d));
  }
  auto is_int = [](const redisReply* r, const Args&) { return r->type == REDIS_REPLY_INTEGER; };
  if (std::string e = Chunked(conn, del, is_int); !e.empty()) return e;
  std::vector<Args> make;
  for (long i = 0; i < o.accounts; i++) {
    make.push_back({"SET", o.Balance(i), std::to_string(o.balance)});
    if (o.coins == 0) continue;
    Args list = {"RPUSH", o.CoinList(i)}, set = {"SADD", o.CoinSet(i)};
    for (long c = 0; c < o.coins; c++) {
      list.push_back("L" + std::to_string(i * o.coins + c));
      set.push_back("S" + std::to_string(i * o.coins + c));
    }
    make.push_back(std::move(list));
    make.push_back(std::move(set));
  }
  return Chunked(conn, make, [](const redisReply* r, const Args& cmd) {
    if (cmd[0] == "SET") return IsStatus(r, "OK");
    return r->type == REDIS_REPLY_INTEGER && r->integer == static_cast<long long>(cmd.size() - 2);
  });
}

namespace {

// Reads the replies of "MULTI, MGET balances, LLEN x n, SCARD x n, [coin reads], EXEC".
AuditResult ParseMultiAudit(const std::vector<Reply>& replies, long n, bool full) {
  AuditResult a;
  if (!IsStatus(replies.front().get(), "OK")) {
    a.error = "MULTI -> " + Describe(replies.front().get());
    return a;
  }
  for (size_t i = 1; i + 1 < replies.size(); i++) {
    if (!IsStatus(replies[i].get(), "QUEUED")) {
      a.error = "queued audit command -> " + Describe(replies[i].get());
      return a;
    }
  }
  const redisReply* exec = replies.back().get();
  size_t want = 1 + 2 * n + (full ? 2 * n : 0);
  if (exec->type != REDIS_REPLY_ARRAY || exec->elements != want) {
    a.error = "EXEC -> " + Describe(exec);
    return a;
  }
  const redisReply* mget = exec->element[0];
  if (mget->type != REDIS_REPLY_ARRAY || mget->elements != static_cast<size_t>(n)) {
    a.error = "MGET in EXEC -> " + Describe(mget);
    return a;
  }
  bool first = true;
  for (long i = 0; i < n; i++) {
    long long v;
    if (mget->element[i]->type == REDIS_REPLY_NIL) {
      a.missing++;
      continue;
    }
    if (!AsInt(mget->element[i], &v)) {
      a.error = "balance " + std::to_string(i) + " -> " + Describe(mget->element[i]);
      return a;
    }
    a.totals.balance += v;
    a.lowest = first ? v : std::min(a.lowest, v);
    first = false;
  }
  for (long i = 0; i < 2 * n; i++) {
    const redisReply* r = exec->element[1 + i];
    if (r->type != REDIS_REPLY_INTEGER) {
      a.error = (i < n ? "LLEN -> " : "SCARD -> ") + Describe(r);
      return a;
    }
    (i < n ? a.totals.list_coins : a.totals.set_coins) += r->integer;
  }
  a.ok = true;
  return a;
}

}  // namespace

static AuditResult RunAudit(Conn& conn, Shared& shared, bool use_script, bool full,
                            bool expect_coins) {
  const Options& o = shared.opts;
  const long n = o.accounts;
  AuditResult a;
  std::vector<Args> cmds;
  if (use_script) {
    Args c = {"EVALSHA", shared.audit_sha, std::to_string(3 * n)};
    for (long i = 0; i < n; i++) c.push_back(o.Balance(i));
    for (long i = 0; i < n; i++) c.push_back(o.CoinList(i));
    for (long i = 0; i < n; i++) c.push_back(o.CoinSet(i));
    c.push_back(std::to_string(n));
    cmds.push_back(std::move(c));
  } else {
    cmds.push_back({"MULTI"});
    Args mget = {"MGET"};
    for (long i = 0; i < n; i++) mget.push_back(o.Balance(i));
    cmds.push_back(std::move(mget));
    for (long i = 0; i < n; i++) cmds.push_back({"LLEN", o.CoinList(i)});
    for (long i = 0; i < n; i++) cmds.push_back({"SCARD", o.CoinSet(i)});
    if (full) {
      for (long i = 0; i < n; i++) cmds.push_back({"LRANGE", o.CoinList(i), "0", "-1"});
      for (long i = 0; i < n; i++) cmds.push_back({"SMEMBERS", o.CoinSet(i)});
    }
    cmds.push_back({"EXEC"});
  }
  std::vector<Reply> replies;
  if (!RoundTrip(conn, cmds, &replies, o.timeout, &a.error)) return a;
  if (!use_script) {
    a = ParseMultiAudit(replies, n, full);
    if (!a.ok || !full) return a;
    // Every coin is held once; after a setup, exactly the setup's coins are held.
    const redisReply* exec = replies.back().get();
    std::unordered_map<std::string, int> seen;
    for (long i = 0; i < 2 * n; i++) {
      const redisReply* r = exec->element[1 + 2 * n + i];
      if (r->type != REDIS_REPLY_ARRAY) {
        a.ok = false;
        a.error = "coin read -> " + Describe(r);
        return a;
      }
      for (size_t j = 0; j < r->elements; j++) {
        std::string coin(r->element[j]->str, r->element[j]->len);
        if (++seen[coin] == 2) a.problems.push_back("coin " + coin + " is held twice");
        char want = i < n ? 'L' : 'S';
        if (coin.empty() || coin[0] != want) {
          a.problems.push_back("unexpected member " + coin + " in " +
                               (i < n ? o.CoinList(i) : o.CoinSet(i - n)));
        }
      }
    }
    if (expect_coins) {
      for (char kind : {'L', 'S'}) {
        for (long c = 0; c < static_cast<long>(n) * o.coins; c++) {
          if (!seen.count(kind + std::to_string(c))) {
            a.problems.push_back(std::string("coin ") + kind + std::to_string(c) + " is gone");
          }
        }
      }
    }
    return a;
  }
  const redisReply* r = replies[0].get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 5) {
    a.error = "audit EVALSHA -> " + Describe(r);
    return a;
  }
  long long v[5];
  for (int i = 0; i < 5; i++) {
    if (r->element[i]->type != REDIS_REPLY_INTEGER) {
      a.error = "audit EVALSHA element -> " + Describe(r->element[i]);
      return a;
    }
    v[i] = r->element[i]->integer;
  }
  a.totals = {v[0], v[3], v[4]};
  a.lowest = v[1];
  a.missing = v[2];
  a.ok = true;
  return a;
}

AuditResult Audit(Conn& conn, Shared& shared, bool use_script) {
  return RunAudit(conn, shared, use_script, false, false);
}

AuditResult FullAudit(Conn& conn, Shared& shared, bool expect_coins) {
  return RunAudit(conn, shared, false, true, expect_coins);
}

int CheckAudit(Shared& shared, const AuditResult& a, const Totals& expected,
               const std::string& which) {
  int found = 0;
  auto violation = [&](const std::string& what) {
    shared.reporter.Violation(which + ": " + what);
    found++;
  };
  if (a.totals != expected) {
    violation("totals changed: expected " + expected.ToString() + ", read " + a.totals.ToString());
  }
  if (a.lowest < 0) violation("a balance is negative: " + std::to_string(a.lowest));
  if (a.missing > 0) violation(std::to_string(a.missing) + " balance keys are missing");
  for (size_t i = 0; i < a.problems.size() && i < 10; i++) violation(a.problems[i]);
  if (a.problems.size() > 10) {
    violation("... and " + std::to_string(a.problems.size() - 10) + " more coin problems");
  }
  return found;
}

}  // namespace ledger
