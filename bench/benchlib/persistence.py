"""Persistence measurements (issue 6): the AOF's cost per SET, snapshot and load times, memory
during a snapshot under writes, and read latency during a snapshot.

Everything here talks to servers started by servers.py with extra options (`--dir`,
`--appendonly`...); bench/persistence.py arranges the runs and persistence_report.py prints them.
"""

import os
import subprocess
import time

from . import resp, servers, workload


class PersistenceError(Exception):
    """A snapshot failed, a fill got a wrong reply, or a server lost keys across a restart."""


def server_options(data_dir: str, appendonly: str = "no", fsync: str = "everysec") -> tuple:
    """The options every server gets here: its own directory, no save points, no automatic AOF
    rewrite (a rewrite in the middle of a run would be charged to whichever run it fell in)."""
    return ("--dir", data_dir, "--dbfilename", "dump.rdb", "--save", "",
            "--appendonly", appendonly, "--appendfsync", fsync,
            "--auto-aof-rewrite-percentage", "0")


def key(i: int) -> bytes:
    # redis-benchmark's key:__rand_int__ expands to 12 zero-padded digits: the write and read
    # loads below then hit exactly the keys the fill created.
    return b"key:%012d" % i


def fill(server: servers.Server, keys: int, value_size: int, batch: int = 0) -> float:
    """SETs key:000000000000 .. key:<keys-1> to `value_size` bytes, pipelined, every reply
    checked. Returns the seconds it took."""
    value = (b"v" * value_size)
    batch = batch or max(100, min(10_000, (1 << 20) // (value_size + 40)))
    head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
    tail = b"\r\n$%d\r\n%s\r\n" % (value_size, value)
    start = time.monotonic()
    with resp.Client(server.port, timeout=120.0) as client:
        for first in range(0, keys, batch):
            count = min(batch, keys - first)
            client.send_raw(b"".join(head + key(i) + tail for i in range(first, first + count)))
            got = client.read_exact(5 * count)
            if got != b"+OK\r\n" * count:
                raise PersistenceError(f"{server.spec.name}: fill got {got[:80]!r}")
        if client.call("DBSIZE") != keys:
            raise PersistenceError(f"{server.spec.name}: DBSIZE after the fill is not {keys}")
    return time.monotonic() - start


def info(server: servers.Server, section: str = "") -> dict:
    with resp.Client(server.port) as client:
        return resp.parse_info(client.call("INFO", *([section] if section else [])))


def process_cpu_s(pid: int) -> float:
    """utime + stime + cutime + cstime of /proc/PID/stat, in seconds: the process and its reaped
    children (Redis's BGSAVE child is reaped by its parent, so its CPU time lands here)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime..cstime are fields 14..17.
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list:
    """PIDs of `pid`'s children (Redis's fork for BGSAVE), from /proc/PID/task/*/children."""
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    kids += [int(x) for x in f.read().split()]
            except FileNotFoundError:
                continue
    except FileNotFoundError:
        pass
    return kids


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


class MemorySampler:
    """Samples the server's and its children's memory: VmRSS every `every` seconds, and PSS
    (shared pages split between the processes that map them, so a fork's shared pages count
    once) every `pss_every`. Call sample() in a loop; peaks and the last values are kept."""

    def __init__(self, pid: int, every: float = 0.01, pss_every: float = 0.1):
        self.pid, self.every, self.pss_every = pid, every, pss_every
        self.peak_rss_kb = self.peak_pss_kb = self.peak_child_rss_kb = 0
        self._next_pss = 0.0

    def sample(self) -> None:
        pids = [self.pid, *children(self.pid)]
        rss = [_status_kb(p, "VmRSS:") for p in pids]
        self.peak_rss_kb = max(self.peak_rss_kb, sum(rss))
        self.peak_child_rss_kb = max(self.peak_child_rss_kb, sum(rss[1:]))
        now = time.monotonic()
        if now >= self._next_pss:
            self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(p) for p in pids))
            self._next_pss = now + self.pss_every

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sample()
            time.sleep(self.every)


def bgsave_running(server: servers.Server) -> bool:
    return info(server, "persistence").get("rdb_bgsave_in_progress") == "1"


def check_last_bgsave(server: servers.Server) -> None:
    fields = info(server, "persistence")
    if fields.get("rdb_last_bgsave_status") != "ok":
        raise PersistenceError(f"{server.spec.name}: BGSAVE failed "
                               f"(rdb_last_bgsave_status {fields.get('rdb_last_bgsave_status')})")


def start_bgsave(server: servers.Server) -> None:
    with resp.Client(server.port) as client:
        reply = client.call("BGSAVE")
    if "started" not in str(reply).lower():
        raise PersistenceError(f"{server.spec.name}: BGSAVE replied {reply!r}")


def wait_bgsave(server: servers.Server, sampler: MemorySampler = None, poll: float = 0.01,
                timeout: float = 600.0) -> float:
    """Waits for the running BGSAVE to end (sampling memory meanwhile); returns when it did."""
    deadline = time.monotonic() + timeout
    next_poll = 0.0
    while True:
        now = time.monotonic()
        if now >= next_poll:
            if not bgsave_running(server):
                check_last_bgsave(server)
                return time.monotonic()
            next_poll = now + poll
        if now > deadline:
            raise PersistenceError(f"{server.spec.name}: BGSAVE still running after {timeout} s")
        if sampler:
            sampler.sample()
            time.sleep(sampler.every)
        else:
            time.sleep(poll)


def snapshot_times(server: servers.Server, keys: int, load_timeout: float = 600.0) -> dict:
    """SAVE, then BGSAVE, then a restart that loads the file: seconds each, plus server CPU
    seconds for SAVE and BGSAVE (Redis's child included) and the file's size."""
    out = {}
    with resp.Client(server.port, timeout=load_timeout) as client:
        cpu = process_cpu_s(server.pid)
        start = time.monotonic()
        if client.call("SAVE") != "OK":
            raise PersistenceError(f"{server.spec.name}: SAVE failed")
        out["save_s"] = time.monotonic() - start
        out["save_cpu_s"] = process_cpu_s(server.pid) - cpu
    cpu = process_cpu_s(server.pid)
    start = time.monotonic()
    start_bgsave(server)
    out["bgsave_s"] = wait_bgsave(server) - start
    time.sleep(0.05)  # Redis reaps its child in its next cron tick; its CPU time lands then.
    out["bgsave_cpu_s"] = process_cpu_s(server.pid) - cpu
    fields = info(server)
    out["rdb_bytes"] = os.path.getsize(os.path.join(data_dir(server), "dump.rdb"))
    out["fork_us"] = int(fields.get("latest_fork_usec", 0) or 0)
    out["load_s"] = restart(server, keys, load_timeout)
    return out


def data_dir(server: servers.Server) -> str:
    extra = list(server.spec.extra)
    return extra[extra.index("--dir") + 1]


def restart(server: servers.Server, keys: int, timeout: float = 600.0) -> float:
    """Stops the server without saving and starts it again on the same directory; returns the
    seconds from spawn to its first PONG (it answers only once the file is loaded) and checks
    that every key came back."""
    try:
        with resp.Client(server.port) as client:
            client.call("SHUTDOWN", "NOSAVE")
    except (resp.ProtocolError, OSError):
        pass  # The connection closes as the server exits.
    server.proc.wait(timeout=60)
    server.stop()
    start = time.monotonic()
    server.start(timeout=timeout)
    took = time.monotonic() - start
    with resp.Client(server.port) as client:
        got = client.call("DBSIZE")
    if got != keys:
        raise PersistenceError(f"{server.spec.name}: {got} keys after loading, expected {keys}")
    return took


def empty_start_s(server: servers.Server) -> float:
    """Spawn-to-PONG of a server with nothing to load, the floor of the load times."""
    return restart(server, 0)


def _benchmark(server: servers.Server, wl: workload.Workload, args: list) -> subprocess.Popen:
    argv = servers.pinned([wl.benchmark_bin, "-h", "127.0.0.1", "-p", str(server.port),
                           "-c", str(wl.clients), *args], wl.client_cpus)
    return servers.spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)


def bgsave_memory(server: servers.Server, wl: workload.Workload, keys: int, value_size: int,
                  pipeline: int, before_s: float = 1.0, after_s: float = 0.3) -> dict:
    """Peak memory of the server (and its fork) during a BGSAVE while redis-benchmark SETs the
    same keys. The baseline is the peak over `before_s` of the same write load without a
    snapshot, so the load's own churn is not charged to the snapshot."""
    load = _benchmark(server, wl, ["-t", "set", "-r", str(keys), "-d", str(value_size),
                                   "-P", str(pipeline), "-l", "-q"])
    try:
        time.sleep(0.3)  # Connections up, load steady.
        base = MemorySampler(server.pid)
        base.run_for(before_s)
        during = MemorySampler(server.pid)
        ops_before = int(info(server, "stats").get("total_commands_processed", 0))
        start = time.monotonic()
        start_bgsave(server)
        end = wait_bgsave(server, during)
        ops_after = int(info(server, "stats").get("total_commands_processed", 0))
        during.run_for(after_s)
        if load.poll() is not None:
            raise PersistenceError(f"{server.spec.name}: the write load ended early: "
                                   f"{load.stderr.read()[-500:]}")
    finally:
        servers.reap(load, grace=2.0)
    fields = info(server)
    return {
        "bgsave_s": end - start,
        "writes_during": ops_after - ops_before,
        "base_rss_kb": base.peak_rss_kb, "base_pss_kb": base.peak_pss_kb,
        "peak_rss_kb": during.peak_rss_kb, "peak_pss_kb": during.peak_pss_kb,
        "peak_child_rss_kb": during.peak_child_rss_kb,
        # Redis's own figure: the child's private dirty pages at the end (bytes).
        "cow_bytes": int(fields.get("rdb_last_cow_size", 0) or 0),
        "fork_us": int(fields.get("latest_fork_usec", 0) or 0),
        "used_memory": int(fields.get("used_memory", 0) or 0),
    }


def get_latency(server: servers.Server, wl: workload.Workload, keys: int, requests: int,
                snapshot: bool, delay_s: float = 0.3) -> dict:
    """redis-benchmark GET over the filled keys (-P 1), with a BGSAVE started `delay_s` into the
    run or without one. Returns its latency figures and how much of the run the snapshot
    covered (a snapshot that ends early leaves the tail of the run unperturbed)."""
    bench = _benchmark(server, wl, ["-t", "get", "-r", str(keys), "-P", "1", "-n", str(requests),
                                    "--csv"])
    run_start = time.monotonic()
    snap = None
    try:
        if snapshot:
            time.sleep(delay_s)
            snap_start = time.monotonic()
            start_bgsave(server)
            snap = (snap_start, wait_bgsave(server))
            outlasted = bench.poll() is not None  # The run ended before the snapshot did.
        out, err = bench.communicate(timeout=wl.timeout)
    finally:
        servers.reap(bench, grace=2.0)
    run_end = time.monotonic()
    if bench.returncode != 0:
        raise PersistenceError(f"redis-benchmark GET against {server.spec.name} failed: "
                               f"{err[-500:]}")
    row = workload.parse_csv(out, "get")
    result = {"rps": row["rps"], "p50_ms": row["p50_latency_ms"], "p99_ms": row["p99_latency_ms"],
              "max_ms": row["max_latency_ms"], "run_s": run_end - run_start}
    if snap:
        result["bgsave_s"] = snap[1] - snap[0]
        result["snapshot_share"] = (1.0 if outlasted else
                                    (snap[1] - snap[0]) / (run_end - run_start))
        result["fork_us"] = int(info(server, "stats").get("latest_fork_usec", 0) or 0)
    return result
