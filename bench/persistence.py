#!/usr/bin/python3
"""Persistence benchmarks (issue 6): Shoal against Debian's redis-server with an append-only
file and with snapshots. Writes bench/RESULTS-persistence.md and its raw data (.json).

    bench/persistence.sh                       # the real run (~15 min on the 2-core machine)
    bench/persistence.sh --quick               # smoke test (~2 min)
    bench/persistence.sh --parts aof           # only the AOF cells
    bench/persistence.sh --render bench/RESULTS-persistence.json   # rewrite the .md

Parts (bench/README.md, "Persistence", says why each is measured the way it is):
  aof       SET at -P 1 and -P 16 (-c 50) with appendonly no, appendfsync everysec and always:
            ops/s, server CPU per request, latency; servers interleaved, medians of --reps.
  snapshot  SAVE, BGSAVE and load-at-start-up times for --snapshot-keys keys of 32 bytes.
  memory    peak memory during a BGSAVE of --memory-keys keys of --memory-value-size bytes
            while redis-benchmark SETs the same keys (Redis: parent + forked child).
  latency   GET p50/p99/max (-c 50 -P 1) over the same dataset with and without a BGSAVE.
Python 3 standard library only.
"""

import argparse
import datetime
import json
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from benchlib import persistence, persistence_report, report, resp, servers, workload

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PARTS = ("aof", "snapshot", "memory", "latency")
# (appendonly, appendfsync) of the AOF cells, labelled by the fsync policy; "off" is the baseline.
AOF_MODES = {"off": ("no", "everysec"), "everysec": ("yes", "everysec"),
             "always": ("yes", "always")}
FULL = {"reps": 3, "requests": (100_000, 1_000_000), "snapshot_keys": 10_000_000,
        "memory_keys": 2_000_000}
QUICK = {"reps": 1, "requests": (10_000, 100_000), "snapshot_keys": 200_000,
         "memory_keys": 100_000}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shoal-bin", default=str(REPO_DIR / "build/release/shoal-server"))
    p.add_argument("--redis-bin", default="redis-server")
    p.add_argument("--benchmark-bin", default="redis-benchmark")
    p.add_argument("--only", choices=["redis", "shoal"], help="run just one server kind")
    p.add_argument("--threads", default="1,2", help="Shoal --threads values, one server each")
    p.add_argument("--parts", default=",".join(PARTS), help=f"of {','.join(PARTS)}")
    p.add_argument("--aof-modes", default=",".join(AOF_MODES), help=f"of {','.join(AOF_MODES)}")
    p.add_argument("--reps", type=int, help=f"repetitions (default {FULL['reps']})")
    p.add_argument("--requests", help="SET cells' -n, one per --pipelines value (default "
                   "%d at -P 1, %d deeper)" % FULL["requests"])
    p.add_argument("--pipelines", default="1,16")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=100_000, help="-r of the SET cells")
    p.add_argument("--value-size", type=int, default=32, help="SET cells' and snapshot keys' "
                   "value size")
    p.add_argument("--snapshot-keys", type=int,
                   help=f"keys saved and loaded (default {FULL['snapshot_keys']:,})")
    p.add_argument("--memory-keys", type=int,
                   help=f"keys of the memory and latency dataset (default "
                   f"{FULL['memory_keys']:,})")
    p.add_argument("--memory-value-size", type=int, default=1024)
    p.add_argument("--memory-pipeline", type=int, default=16,
                   help="-P of the write load during the memory part's BGSAVE")
    p.add_argument("--server-cpus", default="0", help="taskset CPU list for every server")
    p.add_argument("--client-cpus", default="1", help="CPU list for redis-benchmark")
    p.add_argument("--no-pin", action="store_true")
    p.add_argument("--data-dir", help="where servers write their files (default a new "
                   "/tmp/shoal-pbench-* directory, removed at the end)")
    p.add_argument("--cell-timeout", type=float, default=300.0)
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    p.add_argument("--out", default=str(BENCH_DIR / "RESULTS-persistence.md"))
    p.add_argument("--render", metavar="JSON", help="only rewrite --out from a results file")
    args = p.parse_args(argv)
    base = QUICK if args.quick else FULL
    args.reps = args.reps or base["reps"]
    args.snapshot_keys = args.snapshot_keys or base["snapshot_keys"]
    args.memory_keys = args.memory_keys or base["memory_keys"]
    args.pipelines = [int(x) for x in args.pipelines.split(",")]
    requests = [int(x) for x in args.requests.split(",")] if args.requests else None
    if not requests:
        requests = [base["requests"][0] if p == 1 else base["requests"][1]
                    for p in args.pipelines]
    if len(requests) == 1:
        requests *= len(args.pipelines)
    args.requests = requests
    args.threads = [int(x) for x in args.threads.split(",")]
    args.parts = [x for x in args.parts.split(",") if x]
    args.aof_modes = [x for x in args.aof_modes.split(",") if x]
    for name in args.parts:
        if name not in PARTS:
            p.error(f"unknown part {name!r}")
    for name in args.aof_modes:
        if name not in AOF_MODES:
            p.error(f"unknown AOF mode {name!r}")
    if args.no_pin:
        args.server_cpus = args.client_cpus = ""
    return args


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def specs_for(args, data_dir: Path, part: str, appendonly: str = "no",
              fsync: str = "everysec") -> list:
    """One spec per server, each writing into data_dir/part/<name>."""
    names = ([] if args.only == "shoal" else [("redis", "redis", args.redis_bin, 1)]) + \
        ([] if args.only == "redis" else
         [(f"shoal-t{t}", "shoal", args.shoal_bin, t) for t in args.threads])
    specs = []
    for name, kind, binary, threads in names:
        where = data_dir / part / name
        where.mkdir(parents=True, exist_ok=True)
        extra = persistence.server_options(str(where), appendonly, fsync)
        # Shoal's HTTP API is off: servers side by side must not all take port 8080.
        http = "off" if kind == "shoal" else ""
        specs.append(servers.ServerSpec(name, kind, binary, threads, args.server_cpus, http,
                                        extra))
    return specs


def workload_of(args) -> workload.Workload:
    return workload.Workload(args.clients, args.keyspace, args.value_size, 1000, 0,
                             args.client_cpus, args.benchmark_bin, args.cell_timeout)


def run_aof(args, data_dir: Path, log_dir: Path, results: dict) -> None:
    wl = workload_of(args)
    for mode in args.aof_modes:
        appendonly, fsync = AOF_MODES[mode]
        running = [servers.Server(spec, log_dir).start()
                   for spec in specs_for(args, data_dir, f"aof-{mode}", appendonly, fsync)]
        for server in running:
            bad = workload.preflight(server, ["set"], wl)["set"]
            if bad:
                raise RuntimeError(f"{server.spec.name}: SET preflight failed: {bad}")
            fields = persistence.info(server, "persistence")
            if fields.get("aof_enabled") != ("1" if appendonly == "yes" else "0"):
                raise RuntimeError(f"{server.spec.name}: aof_enabled is "
                                   f"{fields.get('aof_enabled')}, expected appendonly {appendonly}")
            server.freeze()
        for rep in range(1, args.reps + 1):
            for pipeline, requests in zip(args.pipelines, args.requests):
                for server in running:
                    idle = [s for s in running if s is not server]
                    server.thaw()
                    try:
                        workload.wait_quiet(server)
                        sample = workload.measure(server, idle, "set", pipeline, requests, wl)
                    finally:
                        server.freeze()
                    sample.update(mode=mode, rep=rep)
                    results["aof"].append(sample)
                    log(f"aof {mode} rep {rep} -P {pipeline} {server.spec.name}: "
                        f"{sample['us_per_req']:.2f} µs/req, {sample['rps']:,.0f} ops/s, "
                        f"p99 {sample['p99_ms']} ms")
        for server in running:
            server.thaw()
            if appendonly == "yes":
                results["aof_files"].append({"mode": mode, "server": server.spec.name,
                                             "bytes": _tree_bytes(persistence.data_dir(server))})
            server.stop()
        shutil.rmtree(data_dir / f"aof-{mode}", ignore_errors=True)


def _tree_bytes(path: str) -> int:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def run_snapshot(args, data_dir: Path, log_dir: Path, results: dict) -> None:
    running = []
    for spec in specs_for(args, data_dir, "snapshot"):
        server = servers.Server(spec, log_dir).start()
        running.append(server)
        empty = persistence.empty_start_s(server)
        took = persistence.fill(server, args.snapshot_keys, args.value_size)
        used = int(persistence.info(server, "memory").get("used_memory", 0))
        results["snapshot_setup"].append({"server": spec.name, "empty_start_s": empty,
                                          "fill_s": took, "used_memory": used,
                                          "rss_kb": server.rss_bytes() // 1024})
        log(f"snapshot: {spec.name} filled {args.snapshot_keys:,} keys in {took:.1f} s, "
            f"used_memory {used / 2**20:.0f} MB; empty start {empty * 1000:.0f} ms")
        server.freeze()
    for rep in range(1, args.reps + 1):
        for server in running:
            server.thaw()
            try:
                workload.wait_quiet(server)
                sample = persistence.snapshot_times(server, args.snapshot_keys,
                                                    args.cell_timeout)
            finally:
                server.freeze()
            sample.update(server=server.spec.name, rep=rep)
            results["snapshot"].append(sample)
            log(f"snapshot rep {rep} {server.spec.name}: SAVE {sample['save_s']:.2f} s, "
                f"BGSAVE {sample['bgsave_s']:.2f} s, load {sample['load_s']:.2f} s, "
                f"file {sample['rdb_bytes'] / 2**20:.0f} MB")
    for server in running:
        server.stop()
    shutil.rmtree(data_dir / "snapshot", ignore_errors=True)


def run_memory_and_latency(args, data_dir: Path, log_dir: Path, results: dict) -> None:
    """One server at a time (a multi-GB dataset each), filled once for both parts."""
    wl = workload_of(args)
    for spec in specs_for(args, data_dir, "memory"):
        server = servers.Server(spec, log_dir).start()
        took = persistence.fill(server, args.memory_keys, args.memory_value_size)
        used = int(persistence.info(server, "memory").get("used_memory", 0))
        workload.wait_quiet(server, timeout=30)
        setup = {"server": spec.name, "fill_s": took, "used_memory": used,
                 "rss_kb": server.rss_bytes() // 1024}
        log(f"memory: {spec.name} filled {args.memory_keys:,} x {args.memory_value_size} B in "
            f"{took:.1f} s, used_memory {used / 2**20:.0f} MB, RSS {setup['rss_kb'] >> 10} MB")
        # An idle BGSAVE: its length sizes the latency runs, and it warms the file's pages.
        start = time.monotonic()
        persistence.start_bgsave(server)
        setup["idle_bgsave_s"] = persistence.wait_bgsave(server) - start
        results["memory_setup"].append(setup)
        if "memory" in args.parts:
            for rep in range(1, args.reps + 1):
                workload.wait_quiet(server, timeout=30)
                sample = persistence.bgsave_memory(server, wl, args.memory_keys,
                                                   args.memory_value_size, args.memory_pipeline)
                sample.update(server=spec.name, rep=rep)
                results["memory"].append(sample)
                log(f"memory rep {rep} {spec.name}: base RSS {sample['base_rss_kb'] >> 10} MB, "
                    f"peak RSS {sample['peak_rss_kb'] >> 10} MB, peak PSS "
                    f"{sample['peak_pss_kb'] >> 10} MB, BGSAVE {sample['bgsave_s']:.1f} s, "
                    f"{sample['writes_during']:,} writes meanwhile")
        if "latency" in args.parts:
            run_latency(args, server, wl, setup["idle_bgsave_s"], results)
        server.stop()
        shutil.rmtree(data_dir / "memory" / spec.name, ignore_errors=True)


def run_latency(args, server, wl, bgsave_s: float, results: dict) -> None:
    # Long enough that the snapshot covers most of the run (it is slower under load).
    probe = persistence.get_latency(server, wl, args.memory_keys, 50_000, snapshot=False)
    requests = int(probe["rps"] * max(2.0, 1.5 * bgsave_s))
    for rep in range(1, args.reps + 1):
        for snapshot in (False, True):
            workload.wait_quiet(server, timeout=30)
            sample = persistence.get_latency(server, wl, args.memory_keys, requests, snapshot)
            sample.update(server=server.spec.name, rep=rep, snapshot=snapshot,
                          requests=requests)
            results["latency"].append(sample)
            log(f"latency rep {rep} {server.spec.name} snapshot={snapshot}: "
                f"p99 {sample['p99_ms']} ms, max {sample['max_ms']} ms, "
                f"{sample['rps']:,.0f} ops/s"
                + (f", snapshot {sample['bgsave_s']:.1f} s covering "
                   f"{sample['snapshot_share']:.0%} of the run" if snapshot else ""))


def write(results: dict, out: Path) -> None:
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.write_text(persistence_report.render(results))
    log(f"wrote {out} and {out.with_suffix('.json').name}")


def main() -> int:
    args = parse_args()
    if args.render:
        write(json.loads(Path(args.render).read_text()), Path(args.out))
        return 0
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
    log_dir = Path(tempfile.mkdtemp(prefix="shoal-pbench-logs-"))
    own_data_dir = not args.data_dir
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="shoal-pbench-"))
    log(f"server logs: {log_dir}, data: {data_dir}")
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"bench/persistence.sh {shlex.join(sys.argv[1:])}".strip(),
        "machine": report.machine_info(),
        "versions": report.tool_versions(args.redis_bin, args.benchmark_bin),
        "settings": {k: getattr(args, k) for k in (
            "quick", "reps", "parts", "aof_modes", "pipelines", "requests", "clients",
            "keyspace", "value_size", "snapshot_keys", "memory_keys", "memory_value_size",
            "memory_pipeline", "server_cpus", "client_cpus", "threads", "only")},
        "data_dir_fs": _filesystem_of(data_dir),
        "aof": [], "aof_files": [], "snapshot": [], "snapshot_setup": [], "memory": [],
        "memory_setup": [], "latency": [], "notes": [],
    }
    if args.only != "redis":
        results["versions"]["shoal"] = report.binary_info(args.shoal_bin, REPO_DIR)
    start = time.monotonic()
    try:
        if "aof" in args.parts:
            run_aof(args, data_dir, log_dir, results)
        if "snapshot" in args.parts:
            run_snapshot(args, data_dir, log_dir, results)
        if "memory" in args.parts or "latency" in args.parts:
            run_memory_and_latency(args, data_dir, log_dir, results)
    except (servers.ServerStartError, workload.BenchmarkError, persistence.PersistenceError,
            RuntimeError, OSError, resp.RespError, resp.ProtocolError) as err:
        log(f"error: {err}\nserver logs: {log_dir}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    finally:
        servers.stop_all()
        if own_data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    results["notes"].append(f"run took {time.monotonic() - start:.0f} s")
    write(results, Path(args.out))
    return 0


def _filesystem_of(path: Path) -> str:
    """The mount holding `path` (device, type): fsync costs are the disk's."""
    best = ("", "", "")
    with open("/proc/mounts") as f:
        for line in f:
            dev, mount, fstype = line.split()[:3]
            if str(path).startswith(mount) and len(mount) > len(best[1]):
                best = (dev, mount, fstype)
    return f"{best[0]} on {best[1]} ({best[2]})"


if __name__ == "__main__":
    sys.exit(main())
