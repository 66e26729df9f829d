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

from . import resp, servers

# redis-benchmark -t name -> the label it prints in the first CSV column.
TEST_LABELS = {"set": "SET", "get": "GET", "incr": "INCR", "mset": "MSET (10 keys)"}

# Commands that must work before a test's numbers mean anything: redis-benchmark 7.0 exits on the
# first error reply, and a command that silently did nothing would look very fast.
_PREFLIGHT = {
    "set": [(("SET", "bench:preflight", "hello"), "OK")],
    "get": [(("SET", "bench:preflight", "hello"), "OK"), (("GET", "bench:preflight"), b"hello")],
    "incr": [(("INCR", "bench:counter"), 1), (("INCR", "bench:counter"), 2)],
    "mset": [(("MSET", "bench:a", "1", "bench:b", "2"), "OK"), (("GET", "bench:b"), b"2")],
}


@dataclasses.dataclass(frozen=True)
class Workload:
    clients: int
    keyspace: int
    value_size: int
    client_cpus: str  # taskset list for redis-benchmark, "" when unpinned.
    benchmark_bin: str
    timeout: float  # Seconds one redis-benchmark run may take.


class BenchmarkError(Exception):
    """redis-benchmark failed or printed nothing usable."""


def preflight(server: servers.Server, tests: list) -> dict:
    """Returns {test: None if it works, else why not}. Leaves the keyspace empty if it can."""
    verdicts = {}
    with server.client() as client:
        _flush(client)
        for test in tests:
            verdicts[test] = None
            for args, want in _PREFLIGHT[test]:
                try:
                    got = client.call(*args)
                except resp.RespError as err:
                    got = f"-{err}"
                if got != want:
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
            "-n", str(requests), "-r", str(wl.keyspace), "-d", str(wl.value_size),
            "-P", str(pipeline), "-t", test, "--csv"]
    return servers.pinned(argv, wl.client_cpus)


def parse_csv(text: str, test: str) -> dict:
    """Picks the row of `test` out of redis-benchmark --csv output.

    redis-benchmark 7.0 prints a header and one row per test:
      "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",...
      "SET","67340.07","0.702","0.160","0.695","0.847","1.015","2.935"
    Returns the numeric columns by header name, e.g. {"rps": 67340.07, "p50_latency_ms": 0.695}.
    """
    rows = list(csv.reader(line for line in text.splitlines() if line.startswith('"')))
    if not rows or rows[0][:2] != ["test", "rps"]:
        raise BenchmarkError(f"no CSV header in redis-benchmark output:\n{text[-2000:]}")
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == TEST_LABELS[test]:
            return {name: float(value) for name, value in zip(header[1:], row[1:])}
    raise BenchmarkError(f"no {TEST_LABELS[test]!r} row in redis-benchmark output:\n{text[-2000:]}")


def _wait_running(server: servers.Server, timeout: float = 2.0) -> None:
    # SIGCONT is asynchronous; starting the clock on a still-stopped server would add its wake-up.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(f"/proc/{server.pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if state not in ("T", "t"):
            return
        time.sleep(0.001)


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
    argv = benchmark_argv(server.port, test, pipeline, requests, wl)
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
        raise BenchmarkError(f"redis-benchmark against {server.spec.name} ran past "
                             f"{wl.timeout:.0f} s: {' '.join(argv)}")
    finally:
        servers.reap(proc)
    wall = time.monotonic() - start
    cpu_after = server.cpu()
    busy_after = system_busy_s()
    rusage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    idle_ns = max([s.cpu().ns - before for s, before in zip(idle, idle_before)], default=0)
    if proc.returncode != 0:
        raise BenchmarkError(f"redis-benchmark against {server.spec.name} exited with "
                             f"{proc.returncode}: {' '.join(argv)}\n{err.strip()[-2000:]}")
    if not server.alive():
        raise BenchmarkError(f"{server.spec.name} died during {test} -P {pipeline}.\n"
                             f"{server.log_tail()}")
    row = parse_csv(out, test)
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
    }
