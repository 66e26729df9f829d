// shoal-ledger: the ledger test and transaction benchmark client (issue 4).
//
// N accounts hold money (a balance key each) and coins (a list and a set of coin ids each),
// spread over every shard by their key names. Client connections move random amounts between
// random pairs of accounts with four kinds of transfers (see ledger.h: WATCH/MULTI/EXEC with
// retries, an EVALSHA script, LMOVE, SRANDMEMBER+SMOVE), while auditors read every account in
// one atomic step (MULTI + MGET + LLEN/SCARD, or a script) and check that the totals never
// change and no balance is negative. At the end a full audit also checks every coin's identity.
//
//   shoal-ledger --port 6379 --setup --seconds 60                  # the demo
//   shoal-ledger --port P --bench multi --transfers 100000          # fixed-count benchmark
//
// Output: a summary, then one line `LEDGER_RESULT {json}` for scripts. Exit status: 0 when the
// run was clean, 1 on any violation, 2 on error replies, lost connections, timeouts, or a server
// that lacks a command the run needs (said plainly at the start), 3 on bad usage.

#include "ledger.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <thread>

#include "admin.h"
#include "worker.h"

namespace ledger {

void Stats::Add(const Stats& o) {
  for (int i = 0; i < kKinds; i++) {
    kind[i].moved += o.kind[i].moved;
    kind[i].refused += o.kind[i].refused;
    kind[i].retries += o.kind[i].retries;
    kind[i].errors += o.kind[i].errors;
  }
  latency_us.insert(latency_us.end(), o.latency_us.begin(), o.latency_us.end());
}

long long Stats::done() const {
  long long n = 0;
  for (const KindStats& k : kind) n += k.moved + k.refused;
  return n;
}

long long Stats::retries() const {
  long long n = 0;
  for (const KindStats& k : kind) n += k.retries;
  return n;
}

long long Stats::errors() const {
  long long n = 0;
  for (const KindStats& k : kind) n += k.errors;
  return n;
}

namespace {
constexpr long long kShownLines = 20;  // Violations and errors printed as they happen.
}

void Reporter::Violation(const std::string& what) {
  if (++violations_ <= kShownLines) {
    std::lock_guard<std::mutex> lock(mu_);
    std::fprintf(stderr, "VIOLATION: %s\n", what.c_str());
  }
}

void Reporter::Error(const std::string& what) {
  long long n = ++errors_;
  std::lock_guard<std::mutex> lock(mu_);
  if (first_error_.empty()) first_error_ = what;
  if (n <= kShownLines) std::fprintf(stderr, "ERROR: %s\n", what.c_str());
}

std::string Reporter::first_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

double Percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k] / 1000.0;  // Milliseconds.
}

std::unique_ptr<Conn> OpenOrDie(const Options& o) {
  std::string err;
  auto conn = Conn::Open(o.host, o.port, o.timeout, &err);
  if (!conn) {
    std::fprintf(stderr, "shoal-ledger: %s\n", err.c_str());
    std::exit(2);
  }
  return conn;
}

// Audits until `shared.stop`, alternating MULTI and script audits as --audit-with says.
void Auditor(Shared& shared, int index, const Totals& expected, const std::atomic<bool>& stop,
             std::atomic<long long>* audits) {
  const Options& o = shared.opts;
  std::string err;
  auto conn = Conn::Open(o.host, o.port, o.timeout, &err);
  if (!conn) {
    shared.reporter.Error("auditor: " + err);
    return;
  }
  for (long long round = index; !stop.load(); round++) {
    bool script = o.audit_with == "script" || (o.audit_with == "both" && round % 2 == 1);
    AuditResult a = Audit(*conn, shared, script);
    if (!a.ok) {
      shared.reporter.Error(std::string("auditor (") + (script ? "script" : "MULTI") +
                            "): " + a.error);
      if (shared.reporter.errors() >= o.max_errors) shared.stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    CheckAudit(shared, a, expected, std::string("audit (") + (script ? "script" : "MULTI") + ")");
    ++*audits;
    std::this_thread::sleep_for(std::chrono::milliseconds(o.audit_interval_ms));
  }
}

int ParseMix(const std::string& text, Options* o) {
  o->mix = {0, 0, 0, 0, 0, 0};
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::string name = item.substr(0, item.find('='));
    int weight = 1;
    if (item.size() > name.size()) {
      char* end = nullptr;
      weight = static_cast<int>(std::strtol(item.c_str() + name.size() + 1, &end, 10));
      if (*end != '\0' || end == item.c_str() + name.size() + 1) weight = -1;
    }
    auto it = std::find(kKindNames.begin(), kKindNames.begin() + kTransferKinds, name);
    if (it == kKindNames.begin() + kTransferKinds || weight < 0) {
      std::fprintf(stderr,
                   "shoal-ledger: bad --mix item '%s' (kinds: watch, script, lmove, "
                   "smove, unsafe, nowatch; e.g. watch=2,script=1)\n",
                   item.c_str());
      return 3;
    }
    o->mix[it - kKindNames.begin()] = weight;
  }
  if (std::all_of(o->mix.begin(), o->mix.end(), [](int w) { return w == 0; })) {
    std::fprintf(stderr, "shoal-ledger: --mix has no kind with a weight above 0\n");
    return 3;
  }
  return 0;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "shoal-ledger: concurrent transfers between accounts, checked by atomic audits; "
      "also the transaction benchmark client (--bench)."};
  std::string mix = "watch,script,lmove,smove";
  app.add_option("--host", o.host, "server address")->capture_default_str();
  app.add_option("-p,--port", o.port, "server port")->capture_default_str();
  app.add_option("--accounts", o.accounts, "accounts (>= 2)")->capture_default_str();
  app.add_option("--balance", o.balance, "starting balance per account")->capture_default_str();
  app.add_option("--coins", o.coins, "starting coins per account, in its list and its set")
      ->capture_default_str();
  app.add_option("--max-amount", o.max_amount, "largest amount per transfer")
      ->capture_default_str();
  app.add_option("-c,--clients", o.clients, "transfer connections")->capture_default_str();
  app.add_option("--threads", o.threads, "client threads")->capture_default_str();
  app.add_option("-P,--pipeline", o.pipeline,
                 "operations in flight per connection (a WATCH transfer is always alone)")
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "run time (an upper bound with --transfers)")
      ->capture_default_str();
  app.add_option("-n,--transfers", o.transfers,
                 "run exactly this many transfers (--bench: requests); 0 = by time")
      ->capture_default_str();
  app.add_option("--mix", mix,
                 "transfer kinds and weights: watch, script, lmove, smove; negative controls "
                 "that must produce violations: unsafe (not atomic), nowatch (no WATCH)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "random seed (default: from the clock; printed)");
  app.add_option("--auditors", o.auditors, "auditor connections")->capture_default_str();
  app.add_option("--audit-interval-ms", o.audit_interval_ms, "pause between an auditor's audits")
      ->capture_default_str();
  app.add_option("--audit-with", o.audit_with, "multi, script or both (alternating)")
      ->check(CLI::IsMember({"multi", "script", "both"}))
      ->capture_default_str();
  app.add_flag("--setup", o.setup, "(re)create the accounts before the run");
  app.add_flag("--setup-only", o.setup_only, "create the accounts and exit");
  app.add_flag("--audit-only", o.audit_only,
               "one full audit against the totals a setup with these options leaves, and exit");
  app.add_flag("--no-audit", o.no_audit,
               "skip the audits before and after the run (benchmarks: audit separately)");
  app.add_option("--bench", o.bench,
                 "benchmark instead of the ledger: multi (MULTI, 5 INCR, EXEC) or evalsha "
                 "(a read-modify-write script), on keys bench:txn:<i> / bench:rmw:<i>")
      ->check(CLI::IsMember({"multi", "evalsha"}));
  app.add_option("--keyspace", o.keyspace, "--bench: keys to pick from")->capture_default_str();
  app.add_option("--timeout", o.timeout, "seconds without a reply before giving up")
      ->capture_default_str();
  app.add_option("--max-errors", o.max_errors, "error replies after which the run stops")
      ->capture_default_str();
  app.add_option("--prefix", o.prefix, "key prefix of the ledger")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 3;
  }
  if (int rc = ParseMix(mix, &o)) return rc;
  if (o.accounts < 2 || o.clients < 1 || o.threads < 1 || o.pipeline < 1 || o.max_amount < 1 ||
      o.keyspace < 1 || o.coins < 0 || o.balance < 0) {
    std::fprintf(stderr,
                 "shoal-ledger: --accounts >= 2, --clients, --threads, --pipeline, "
                 "--max-amount, --keyspace >= 1, --coins, --balance >= 0\n");
    return 3;
  }
  if (o.seed == 0) o.seed = std::chrono::system_clock::now().time_since_epoch().count();
  o.threads = std::min(o.threads, o.clients);

  Shared shared(o);
  auto control = OpenOrDie(o);
  std::string server = o.host + ":" + std::to_string(o.port);
  if (std::string p = Preflight(*control, shared); !p.empty()) {
    std::fprintf(stderr,
                 "shoal-ledger: the server at %s cannot run this workload; these commands "
                 "failed:\n%sLEDGER_RESULT {\"ok\":false,\"unsupported\":%s}\n",
                 server.c_str(), p.c_str(), JsonString(p).c_str());
    return 2;
  }
  bool from_setup = o.setup || o.setup_only || o.audit_only;
  Totals expected = SetupTotals(o);
  if (o.setup || o.setup_only) {
    if (std::string e = Setup(*control, o); !e.empty()) {
      std::fprintf(stderr, "shoal-ledger: setup failed: %s\n", e.c_str());
      return 2;
    }
    std::printf("setup: %d accounts of %lld, %d coins each in a list and a set\n", o.accounts,
                o.balance, o.coins);
    if (o.setup_only) return 0;
  }
  bool bench = !o.bench.empty();
  bool audit = !bench && !o.no_audit;
  if (audit || o.audit_only) {
    AuditResult a = FullAudit(*control, shared, from_setup);
    if (!a.ok) {
      std::fprintf(stderr, "shoal-ledger: the audit before the run failed: %s\n", a.error.c_str());
      return 2;
    }
    if (!from_setup) expected = a.totals;  // The ledger as found is the baseline.
    CheckAudit(shared, a, expected, o.audit_only ? "audit" : "audit before the run");
    std::printf("%s: %s, lowest balance %lld\n", o.audit_only ? "audit" : "before the run",
                a.totals.ToString().c_str(), a.lowest);
    if (o.audit_only) {
      long long v = shared.reporter.violations();
      std::printf("LEDGER_RESULT {\"ok\":%s,\"violations\":%lld}\n", v ? "false" : "true", v);
      return v ? 1 : 0;
    }
  }

  // Connect everything before the clock starts.
  std::vector<std::vector<std::unique_ptr<Conn>>> conns(o.threads);
  for (int i = 0; i < o.clients; i++) conns[i % o.threads].push_back(OpenOrDie(o));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; t++) {
    workers.push_back(std::make_unique<Worker>(shared, t, std::move(conns[t])));
  }
  if (o.transfers > 0) shared.budget = o.transfers;
  std::atomic<long long> audits{0};
  std::atomic<int> running{o.threads};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (auto& w : workers) {
    threads.emplace_back([&w, &running] {
      w->Run();
      --running;
    });
  }
  std::atomic<bool> auditors_stop{false};  // After the workers: audits see the last transfers.
  std::vector<std::thread> auditors;
  for (int i = 0; !bench && i < o.auditors; i++) {
    auditors.emplace_back([&, i] { Auditor(shared, i, expected, auditors_stop, &audits); });
  }
  // Workers end by themselves with --transfers; --seconds is the limit either way (unless
  // --transfers is given and --seconds was left at its default).
  bool by_time = o.transfers == 0 || app.count("--seconds") > 0;
  auto deadline = start + std::chrono::duration<double>(o.seconds);
  while (running.load() > 0 && !(by_time && Clock::now() >= deadline)) {
    if (shared.reporter.errors() >= o.max_errors) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  shared.stop = true;  // No new operations; in-flight ones finish, retries are dropped.
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auditors_stop = true;
  for (auto& t : auditors) t.join();

  Stats total;
  for (auto& w : workers) total.Add(w->stats());
  std::string final_state = "skipped";
  if (audit) {
    AuditResult a = FullAudit(*control, shared, from_setup);
    if (!a.ok) {
      shared.reporter.Error("final audit: " + a.error);
      final_state = "error";
    } else {
      final_state = CheckAudit(shared, a, expected, "final audit") ? "violated" : "ok";
      std::printf("after the run: %s, lowest balance %lld\n", a.totals.ToString().c_str(),
                  a.lowest);
    }
  }
  long long done = total.done(), violations = shared.reporter.violations();
  long long errors = shared.reporter.errors();
  double p50 = Percentile(total.latency_us, 0.50), p99 = Percentile(total.latency_us, 0.99);
  double rate = done / std::max(elapsed, 1e-9);
  const char* unit = bench ? "requests" : "transfers";
  std::printf(
      "%s: %lld %s in %.2f s = %.0f/s (p50 %.3f ms, p99 %.3f ms), retries %lld, "
      "error replies %lld, audits %lld, violations %lld, final audit %s\n",
      server.c_str(), done, unit, elapsed, rate, p50, p99, total.retries(), errors, audits.load(),
      violations, final_state.c_str());
  std::ostringstream kinds;
  for (int i = 0; i < kKinds; i++) {
    const KindStats& k = total.kind[i];
    if (k.moved + k.refused + k.retries + k.errors == 0) continue;
    std::printf("  %-8s moved %lld, refused %lld, retries %lld, errors %lld\n", kKindNames[i],
                k.moved, k.refused, k.retries, k.errors);
    kinds << (kinds.tellp() > 0 ? "," : "") << "\"" << kKindNames[i] << "\":{\"moved\":" << k.moved
          << ",\"refused\":" << k.refused << ",\"retries\":" << k.retries
          << ",\"errors\":" << k.errors << "}";
  }
  bool ok = violations == 0 && errors == 0 && final_state != "error";
  std::printf(
      "LEDGER_RESULT {\"ok\":%s,\"mode\":\"%s\",\"server\":\"%s\",\"seed\":%llu,"
      "\"seconds\":%.3f,\"done\":%lld,\"per_second\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"retries\":%lld,\"errors\":%lld,\"first_error\":%s,\"audits\":%lld,"
      "\"violations\":%lld,\"final_audit\":\"%s\",\"kinds\":{%s}}\n",
      ok ? "true" : "false", bench ? o.bench.c_str() : "ledger", server.c_str(),
      static_cast<unsigned long long>(o.seed), elapsed, done, rate, p50, p99, total.retries(),
      errors, JsonString(shared.reporter.first_error()).c_str(), audits.load(), violations,
      final_state.c_str(), kinds.str().c_str());
  if (violations > 0) {
    std::printf("FAILED: %lld violations\n", violations);
    return 1;
  }
  if (errors > 0) {
    std::printf("FAILED: %lld errors; first: %s\n", errors, shared.reporter.first_error().c_str());
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace ledger

int main(int argc, char** argv) { return ledger::Main(argc, argv); }
