"""One measurement: a redis-benchmark run against one server, with the server's CPU time around it.

The key figure is server CPU time per request:
    (sum of /proc/PID/task/*/schedstat field 1 after - before) / requests
It counts every thread of the server and nothing else, so it does not depend on how fast the
client is, on idle time, or on how many cores the server spreads over.
"""

import csv
import dataclasses
import resource
import subprocess
import time

from . import datatypes, documents, resp, servers, transactions

# The cells' tests, in report order. The string tests are redis-benchmark's built-in -t tests;
# the collection tests are custom command lines (see datatypes.py for why, and for their keys,
# prefill and checks).
STRING_TESTS = ("set", "get", "incr", "mset")
COLLECTION_TESTS = ("lpush", "lpop", "lrange_100", "sadd", "spop", "hset", "zadd",
                    "zrangebyscore")
# Issue 4's cells: run by shoal-ledger, not redis-benchmark (transactions.py says why).
TRANSACTION_TESTS = tuple(transactions.TESTS)
# Issue 5's cells: JSON documents over RESP (redis-benchmark) and the REST API (wrk); see
# documents.py.
JSON_TESTS = documents.RESP_TESTS
HTTP_TESTS = documents.HTTP_TESTS

# Test name -> its title in the report (for built-in tests also the first CSV column of
# redis-benchmark --csv; a custom command's CSV label is its command line).
TEST_LABELS = {"set": "SET", "get": "GET", "incr": "INCR", "mset": "MSET (10 keys)",
               "lpush": "LPUSH", "lpop": "LPOP", "lrange_100": "LRANGE_100", "sadd": "SADD",
               "spop": "SPOP", "hset": "HSET", "zadd": "ZADD", "zrangebyscore": "ZRANGEBYSCORE",
               **{t.name: t.label for t in transactions.TESTS.values()},
               **{t.name: t.label for t in documents.TESTS.values()}}

# Commands that must work before a test's numbers mean anything: redis-benchmark 7.0 exits on the
# first error reply, and a command that silently did nothing would look very fast. A wanted
# reply may be a set of acceptable replies (SPOP's pick is random).
_PREFLIGHT = {
    "set": [(("SET", "bench:preflight", "hello"), "OK")],
    "get": [(("SET", "bench:preflight", "hello"), "OK"), (("GET", "bench:preflight"), b"hello")],
    "incr": [(("INCR", "bench:counter"), 1), (("INCR", "bench:counter"), 2)],
    "mset": [(("MSET", "bench:a", "1", "bench:b", "2"), "OK"), (("GET", "bench:b"), b"2")],
    "lpush": [(("LPUSH", "bench:l", "a"), 1), (("LPUSH", "bench:l", "b"), 2),
              (("LRANGE", "bench:l", "0", "-1"), [b"b", b"a"])],
    "lpop": [(("RPUSH", "bench:l", "a", "b"), 2), (("LPOP", "bench:l"), b"a"),
             (("LLEN", "bench:l"), 1)],
    "lrange_100": [(("RPUSH", "bench:l", *map(str, range(150))), 150),
                   (("LRANGE", "bench:l", "0", "99"), [b"%d" % i for i in range(100)])],
    "sadd": [(("SADD", "bench:s", "element:000000000001"), 1),
             (("SADD", "bench:s", "element:000000000001"), 0), (("SCARD", "bench:s"), 1)],
    "spop": [(("SADD", "bench:s", "a", "b"), 2), (("SPOP", "bench:s"), {b"a", b"b"}),
             (("SCARD", "bench:s"), 1)],
    "hset": [(("HSET", "bench:h", "element:000000000001", "x"), 1),
             (("HSET", "bench:h", "element:000000000001", "y"), 0),
             (("HGET", "bench:h", "element:000000000001"), b"y")],
    # Scores as redis-benchmark writes them: __rand_int__ expands to 12 zero-padded digits.
    "zadd": [(("ZADD", "bench:z", "000000000003", "element:000000000001"), 1),
             (("ZSCORE", "bench:z", "element:000000000001"), b"3")],
    "zrangebyscore": [(("ZADD", "bench:z", "0", "a", "5", "b", "10", "c"), 3),
                      (("ZRANGEBYSCORE", "bench:z", "000000000004", "+inf", "LIMIT", "0", "10"),
                       [b"b", b"c"]),
                      (("ZRANGEBYSCORE", "bench:z", "5", "+inf", "LIMIT", "1", "1"), [b"c"])],
}


@dataclasses.dataclass(frozen=True)
class Workload:
    clients: int
    keyspace: int
    value_size: int
    collection_keys: int  # -r of the collection tests: how many collections they spread over.
    collection_prefill: int  # Elements put into each collection before a collection test.
    client_cpus: str  # taskset list for redis-benchmark, "" when unpinned.
    benchmark_bin: str
    timeout: float  # Seconds one redis-benchmark run may take.
    ledger_bin: str = ""  # shoal-ledger, for the transaction cells.
    ledger_accounts: int = 1000  # Accounts of the ledger cells.
    json_keys: int = 10000  # Documents of the JSON and HTTP cells (-r of the RESP ones).
    wrk_bin: str = "wrk"  # The HTTP cells' client.
    http_duration: float = 5.0  # Seconds of one wrk run.


class BenchmarkError(Exception):
    """redis-benchmark failed or printed nothing usable."""


def preflight(server: servers.Server, tests: list, wl: "Workload" = None) -> dict:
    """Returns {test: None if it works, else why not}. Leaves the keyspace empty if it can."""
    verdicts = {}
    with server.client() as client:
        for test in tests:
            _flush(client)  # Each test's checks start from an empty keyspace.
            verdicts[test] = None
            if test in transactions.TESTS:
                verdicts[test] = transactions.preflight(server, test, wl)
                continue
            if test in documents.TESTS:
                verdicts[test] = (documents.preflight_http(server, client)
                                  if test in documents.HTTP_TESTS
                                  else documents.preflight_resp(client, test))
                continue
            for args, want in _PREFLIGHT[test]:
                try:
                    got = client.call(*args)
                except resp.RespError as err:
                    got = f"-{err}"
                if not (got in want if isinstance(want, set) else got == want):
                    verdicts[test] = f"{' '.join(args)} -> {str(got)[:80]!r}, expected {want!r}"
                    break
        _flush(client)
    return verdicts


def _flush(client: resp.Client) -> bool:
    try:
        return client.call("FLUSHALL") == "OK"
    except resp.RespError:
        return False


def benchmark_argv(port: int, test: str, pipeline: int, requests: int, wl: Workload) -> list:
    argv = [wl.benchmark_bin, "-h", "127.0.0.1", "-p", str(port), "-c", str(wl.clients),
            "-n", str(requests)]
    if test in transactions.TESTS:
        return transactions.argv(port, test, pipeline, requests, wl)
    if test in datatypes.TESTS:
        argv += ["-r", str(wl.collection_keys), "-P", str(pipeline), "--csv",
                 *datatypes.command(test, wl.value_size)]
    elif test in documents.TESTS:
        argv += ["-r", str(wl.json_keys), "-P", str(pipeline), "--csv",
                 *documents.command(test)]
    else:
        argv += ["-r", str(wl.keyspace), "-d", str(wl.value_size), "-P", str(pipeline),
                 "-t", test, "--csv"]
    return servers.pinned(argv, wl.client_cpus)


def csv_label(test: str, wl: Workload) -> str:
    if test in datatypes.TESTS:
        return datatypes.csv_label(test, wl.value_size)
    if test in documents.TESTS:
        return documents.csv_label(test)
    return TEST_LABELS[test]


def parse_csv(text: str, test: str, label: str = None) -> dict:
    """Picks the row of `test` out of redis-benchmark --csv output.

    redis-benchmark 7.0 prints a header and one row per test:
      "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",...
      "SET","67340.07","0.702","0.160","0.695","0.847","1.015","2.935"
    A custom command's row is labelled by its command line; `label` overrides the built-in
    test's label. Returns the numeric columns by header name, e.g. {"rps": 67340.07}.
    """
    label = label or TEST_LABELS[test]
    rows = list(csv.reader(line for line in text.splitlines() if line.startswith('"')))
    if not rows or rows[0][:2] != ["test", "rps"]:
        raise BenchmarkError(f"no CSV header in redis-benchmark output:\n{text[-2000:]}")
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == label:
            return {name: float(value) for name, value in zip(header[1:], row[1:])}
    # redis-benchmark does not escape quotes inside a label (a JSON document in a custom
    # command), which the csv module then misreads: such a row is the label in quotes, then the
    # numeric columns.
    prefix = f'"{label}",'
    for line in text.splitlines():
        if line.startswith(prefix):
            values = [v.strip('"') for v in line[len(prefix):].split(",")]
            if len(values) == len(header) - 1:
                return {name: float(value) for name, value in zip(header[1:], values)}
    raise BenchmarkError(f"no {label[:80]!r} row in redis-benchmark output:\n{text[-2000:]}")


def _wait_running(server: servers.Server, timeout: float = 2.0) -> None:
    # SIGCONT is asynchronous; starting the clock on a still-stopped server would add its wake-up.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{server.pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state not in ("T", "t"):
            return
        time.sleep(0.001)


def wait_quiet(server: servers.Server, window: float = 0.05, limit: float = 0.03,
               timeout: float = 10.0) -> bool:
    """Waits until the server uses under `limit` of a core over `window` seconds, so that work
    left over from a prefill or a delete (a background free, say) is not charged to the run."""
    deadline = time.monotonic() + timeout
    before = server.cpu().ns
    while True:
        time.sleep(window)
        now = server.cpu().ns
        if now - before < limit * window * 1e9:
            return True
        if time.monotonic() > deadline:
            return False
        before = now


def measure_cell(server: servers.Server, idle: list, test: str, pipeline: int, requests: int,
                 wl: Workload) -> dict:
    """measure(), with a collection test's prefill before it and its checks after it.

    The prefill, the checks and the clean-up talk to the server outside the CPU readings.
    """
    collection = test in datatypes.TESTS
    extra = {}
    if test in documents.TESTS:
        start = time.monotonic()
        with server.client() as client:
            documents.setup(client, test, wl.json_keys)
        extra = {"setup_s": time.monotonic() - start}
    elif test in transactions.TESTS:
        start = time.monotonic()
        transactions.setup(server, test, wl)
        extra = {"setup_s": time.monotonic() - start}
    elif collection:
        keys = wl.collection_keys
        count = datatypes.per_key(test, keys, wl.collection_prefill, requests)
        start = time.monotonic()
        with server.client() as client:
            datatypes.setup(client, test, keys, count, wl.value_size)
        extra = {"prefill_per_key": count, "setup_s": time.monotonic() - start}
    extra["quiet_before"] = wait_quiet(server)
    sample = measure(server, idle, test, pipeline, requests, wl)
    sample.update(extra)
    if test in transactions.TESTS:
        sample["check"] = transactions.check(server, test, requests, sample["result"], wl)
    elif test in documents.TESTS:
        with server.client() as client:
            sample["check"] = documents.check(client, test, wl.json_keys, sample, wl.clients)
            client.call("FLUSHALL")  # A 1 KB keyspace is not left behind for the next cell.
    elif collection:
        with server.client() as client:
            got = datatypes.total(client, test, keys)
            sample["elements_after"] = got
            sample["check"] = datatypes.check(test, keys, count, requests, got)
            sample["encoding"] = datatypes.encoding(client, test)
            datatypes.delete(client, datatypes.TESTS[test].family, keys)
    return sample


def system_busy_s() -> tuple:
    """(busy, steal) seconds summed over all CPUs since boot, from the `cpu` line of /proc/stat.

    Ticks are USER_HZ (100/s): coarse, but runs last seconds. Busy excludes idle and iowait.
    """
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]
    return busy / 100.0, ticks[7] / 100.0


def measure(server: servers.Server, idle: list, test: str, pipeline: int, requests: int,
            wl: Workload) -> dict:
    """Runs redis-benchmark once against `server`; `idle` are the other (frozen) servers.

    Returns one sample: throughput and latency as redis-benchmark reports them, plus the server's
    CPU time over the run. The CPU readings bracket the whole redis-benchmark process, so they
    include its 50 connects and its CONFIG GET at startup: a few ms against seconds of load.
    """
    _wait_running(server)
    http = test in documents.HTTP_TESTS
    if http:
        argv = documents.wrk_argv(wl.wrk_bin, server.http_port, test, pipeline,
                                  wl.http_duration, wl.clients, wl.json_keys, wl.client_cpus)
    else:
        argv = benchmark_argv(server.port, test, pipeline, requests, wl)
    tool = ("shoal-ledger" if test in transactions.TESTS else "wrk" if http
            else "redis-benchmark")
    idle_before = [s.cpu().ns for s in idle]
    rusage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = system_busy_s()
    cpu_before = server.cpu()
    start = time.monotonic()
    proc = servers.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=wl.timeout)
    except subprocess.TimeoutExpired:
        servers.reap(proc, grace=1.0)
        raise BenchmarkError(f"{tool} against {server.spec.name} ran past "
                             f"{wl.timeout:.0f} s: {' '.join(argv)}")
    finally:
        servers.reap(proc)
    wall = time.monotonic() - start
    cpu_after = server.cpu()
    busy_after = system_busy_s()
    rusage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    idle_ns = max([s.cpu().ns - before for s, before in zip(idle, idle_before)], default=0)
    if proc.returncode != 0:
        raise BenchmarkError(f"{tool} against {server.spec.name} exited with "
                             f"{proc.returncode}: {' '.join(argv)}\n{err.strip()[-2000:]}"
                             f"\n{out.strip()[-1000:]}")
    if not server.alive():
        raise BenchmarkError(f"{server.spec.name} died during {test} -P {pipeline}.\n"
                             f"{server.log_tail()}")
    extra = {}
    if test in transactions.TESTS:
        try:
            result = transactions.parse(out)
        except ValueError as bad:
            raise BenchmarkError(str(bad))
        row = {"rps": result["per_second"], "p50_latency_ms": result["p50_ms"],
               "p99_latency_ms": result["p99_ms"]}
        extra = {"result": result, "retries": result["retries"]}
    elif http:
        try:
            result = documents.parse_wrk(out)
        except ValueError as bad:
            raise BenchmarkError(f"{bad}\n{err.strip()[-1000:]}")
        # wrk runs for a duration: its count of answered requests is the divisor. Requests in
        # flight when it stops (at most connections x depth) are served but not counted.
        requests = result["requests"]
        if requests == 0:
            raise BenchmarkError(f"wrk got no answer from {server.spec.name}:\n{out[-1000:]}")
        row = {"rps": result["rps"], "avg_latency_ms": result["avg_ms"],
               "p50_latency_ms": result["p50_ms"], "p99_latency_ms": result["p99_ms"]}
        extra = {"wrk": result}
    else:
        row = parse_csv(out, test, csv_label(test, wl))
    server_ns = cpu_after.ns - cpu_before.ns
    client_s = (rusage_after.ru_utime + rusage_after.ru_stime
                - rusage_before.ru_utime - rusage_before.ru_stime)
    other_s = max(0.0, busy_after[0] - busy_before[0] - server_ns / 1e9 - client_s)
    return {
        "server": server.spec.name,
        "test": test,
        "pipeline": pipeline,
        "requests": requests,
        "rps": row["rps"],
        "avg_ms": row.get("avg_latency_ms"),
        "p50_ms": row.get("p50_latency_ms"),
        "p99_ms": row.get("p99_latency_ms"),
        "wall_s": wall,
        "server_cpu_ns": server_ns,
        "us_per_req": server_ns / 1000.0 / requests,
        "server_util": server_ns / 1e9 / wall,  # 1.0 = one core busy for the whole run.
        "client_util": client_s / wall,
        # Everything else the machine ran meanwhile (other processes, VM steal), in cores.
        "other_util": other_s / wall,
        "steal_util": (busy_after[1] - busy_before[1]) / wall,
        "idle_servers_cpu_ns": idle_ns,  # Largest CPU use of any other server meanwhile.
        "threads_exited": sorted(cpu_before.tids - cpu_after.tids),
        **extra,
    }
