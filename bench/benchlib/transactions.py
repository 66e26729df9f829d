"""The transaction cells (issue 4): MULTI/EXEC, EVALSHA and the ledger, driven by shoal-ledger.

redis-benchmark cannot send a MULTI block (each of its requests is one command) nor check what a
transaction did, so these cells run the project's own C++ client, bench/ledger (built as
build/release/shoal-ledger), in a fixed-count mode, the way redis-benchmark runs a cell: `-c`
connections on one client thread pinned to the client CPU, `-P` operations in flight per
connection, a fixed request count, and the server's CPU time read around the client process.

    test            one request is                                           keys
    multi           MULTI, INCR x 5, EXEC sent in one write (7 replies)      bench:txn:<0..r-1>
    evalsha         EVALSHA of a GET/SET read-modify-write script, 1 key     bench:rmw:<0..r-1>
    ledger          one finished transfer of the mixed ledger (below)        ledger:* accounts
    ledger_<kind>   one finished transfer of that kind only

The five INCR keys of a MULTI and the EVALSHA keys are drawn from -r keys, so a transaction
usually spans every shard. A ledger transfer moves a random amount (or a coin) between two of
--ledger-accounts random accounts: `watch` = WATCH a b + MGET a b, then MULTI DECRBY INCRBY EXEC
(retried on a nil EXEC: a retry is extra work charged to the same transfer); `script` = EVALSHA of
a transfer script declaring both keys; `lmove` = LMOVE between two coin lists; `smove` =
SRANDMEMBER then SMOVE between two coin sets. A refused transfer (short balance, no coin) counts as
done: it did the same reads. `ledger` mixes the four kinds equally. A WATCH transfer is never
pipelined with other work on its connection (WATCH is per connection).

Outside the CPU readings, before each run the keys are reset (DEL of the bench keys; the
ledger's accounts created afresh by `shoal-ledger --setup-only`), and after it they are checked:
the INCR counters must add up to exactly 5 x requests, the script's to requests, and a full
ledger audit (`--audit-only`: totals, no negative balance, every coin held exactly once) must
pass. The ledger cells run without auditors: these cells measure what a transfer costs; the
ledger test (tests/integration/test_ledger.py) and the demo check atomicity under audits.
"""

import dataclasses
import json
import subprocess

from . import resp, servers

RESULT_PREFIX = "LEDGER_RESULT "


@dataclasses.dataclass(frozen=True)
class TxnTest:
    name: str
    label: str  # Title in the report.
    mode: str  # shoal-ledger --bench value, or "ledger".
    mix: str = ""  # --mix of a ledger test.
    # -n of the cell = the run's -n for its pipeline over this: a MULTI is 7 commands, a
    # transfer 1 to 6.
    request_divisor: int = 2
    # False for WATCH transfers, which a connection cannot pipeline: deeper -P cells get a tenth
    # of -n (by default the -P 1 count), or they would run ten times as long.
    pipelines: bool = True


TESTS = {t.name: t for t in [
    TxnTest("multi", "MULTI/EXEC (5 INCR)", "multi", request_divisor=4),
    TxnTest("evalsha", "EVALSHA (read-modify-write)", "evalsha"),
    TxnTest("ledger", "ledger transfer (mix)", "ledger", "watch,script,lmove,smove", 4),
    TxnTest("ledger_watch", "ledger: WATCH/MULTI/EXEC", "ledger", "watch", 4, False),
    TxnTest("ledger_script", "ledger: EVALSHA transfer", "ledger", "script", 2),
    TxnTest("ledger_lmove", "ledger: LMOVE coin", "ledger", "lmove", 2),
    TxnTest("ledger_smove", "ledger: SRANDMEMBER+SMOVE coin", "ledger", "smove", 4),
]}

INCRS_PER_MULTI = 5
SEED = 4242  # The same random streams for every server.


def requests(test: str, requests_for_pipeline: int, pipeline: int) -> int:
    t = TESTS[test]
    n = requests_for_pipeline // t.request_divisor // (1 if t.pipelines or pipeline == 1 else 10)
    return max(pipeline, n - n % pipeline)


def _ledger_args(wl) -> list:
    return ["--accounts", str(wl.ledger_accounts), "--balance", "1000", "--coins", "5"]


def argv(port: int, test: str, pipeline: int, requests_count: int, wl) -> list:
    """The measured run: a fixed number of requests, nothing else (no setup, no audits)."""
    t = TESTS[test]
    cmd = [wl.ledger_bin, "--host", "127.0.0.1", "--port", str(port), "--clients",
           str(wl.clients), "--threads", "1", "--pipeline", str(pipeline), "--transfers",
           str(requests_count), "--seed", str(SEED), "--timeout", "30"]
    if t.mode == "ledger":
        cmd += [*_ledger_args(wl), "--mix", t.mix, "--auditors", "0", "--no-audit"]
    else:
        cmd += ["--bench", t.mode, "--keyspace", str(wl.keyspace)]
    return servers.pinned(cmd, wl.client_cpus)


def parse(out: str) -> dict:
    """The LEDGER_RESULT line of shoal-ledger's output, as a dict; raises ValueError without."""
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise ValueError(f"no {RESULT_PREFIX.strip()} line in shoal-ledger's output:\n{out[-2000:]}")


def _run(cmd: list, timeout: float) -> tuple:
    proc = servers.spawn(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        servers.reap(proc, grace=1.0)
        return -1, f"timed out after {timeout:.0f} s: {' '.join(cmd)}"
    finally:
        servers.reap(proc)
    return proc.returncode, out


def preflight(server, test: str, wl) -> str:
    """None if shoal-ledger runs the test's workload cleanly on a tiny scale, else why not (the
    client's own preflight names every missing command)."""
    t = TESTS[test]
    base = [wl.ledger_bin, "--port", str(server.port), "--clients", "4", "--transfers", "200",
            "--timeout", "10", "--seed", str(SEED)]
    if t.mode == "ledger":
        # MULTI audits only: the cells need MULTI for their audit, scripts only if they transfer
        # with one.
        cmd = base + ["--setup", "--accounts", "20", "--mix", t.mix, "--auditors", "1",
                      "--audit-with", "multi", "--prefix", "bench-preflight:"]
    else:
        cmd = base + ["--bench", t.mode, "--keyspace", "10"]
    code, out = _run(cmd, 60)
    if code == 0:
        return None
    lines = [x.strip() for x in out.splitlines()
             if x.strip() and not x.startswith(RESULT_PREFIX)]
    return f"shoal-ledger exited with {code}: " + " | ".join(lines[:8])[:600]


def _bench_keys(kind: str, keyspace: int):
    return [b"bench:%s:%d" % (kind.encode(), i) for i in range(keyspace)]


def _batched(client: resp.Client, verb: bytes, keys: list, size: int = 1000) -> list:
    """Sends `verb key...` with `size` keys each, 20 commands per write; returns the replies."""
    cmds = [resp.encode(verb, *keys[i:i + size]) for i in range(0, len(keys), size)]
    replies = []
    for lo in range(0, len(cmds), 20):
        client.send_raw(b"".join(cmds[lo:lo + 20]))
        replies += [client.read_reply() for _ in cmds[lo:lo + 20]]
    return replies


def setup(server, test: str, wl) -> None:
    """Resets the test's keys (outside the CPU readings)."""
    t = TESTS[test]
    if t.mode == "ledger":
        code, out = _run([wl.ledger_bin, "--port", str(server.port), "--setup-only",
                          *_ledger_args(wl)], 120)
        if code != 0:
            raise RuntimeError(f"ledger setup failed ({code}): {out[-1000:]}")
        return
    kind = "txn" if t.mode == "multi" else "rmw"
    with server.client() as client:
        _batched(client, b"DEL", _bench_keys(kind, wl.keyspace), 100)


def check(server, test: str, requests_count: int, result: dict, wl):
    """None if the run did what it claims, else why not (outside the CPU readings)."""
    t = TESTS[test]
    if result.get("done") != requests_count:
        return f"{result.get('done')} requests done, expected {requests_count}"
    if t.mode == "ledger":
        code, out = _run([wl.ledger_bin, "--port", str(server.port), "--audit-only",
                          *_ledger_args(wl)], 120)
        if code != 0:
            lines = [x for x in out.splitlines() if not x.startswith(RESULT_PREFIX)]
            return "ledger audit failed: " + " | ".join(lines[:6])[:600]
        return None
    kind = "txn" if t.mode == "multi" else "rmw"
    want = requests_count * (INCRS_PER_MULTI if t.mode == "multi" else 1)
    with server.client() as client:
        replies = _batched(client, b"MGET", _bench_keys(kind, wl.keyspace))
    got = sum(int(v) for reply in replies for v in reply if v is not None)
    return None if got == want else f"counters add up to {got:,}, expected {want:,}"
