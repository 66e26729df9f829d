#!/usr/bin/python3
"""Benchmarks Shoal against Debian's redis-server: server CPU time per request, ops/s, latency
and memory per key and per element. Writes bench/RESULTS.md and its raw data, RESULTS.json.

    bench/run.sh --only redis --quick     # smoke test, a couple of minutes, no Shoal needed
    bench/run.sh                          # full run, redis + shoal --threads 1 and 2
    bench/run.sh --tests collections --memory-suite none   # only the data-type cells
    bench/run.sh --tests none                               # only the memory tables
    bench/run.sh --tests transactions --memory-suite none   # only issue 4's cells
    bench/run.sh --tests json,http --memory-suite none      # only issue 5's cells

See bench/README.md for what is measured and why. Python 3 standard library only.
"""

import argparse
import datetime
import functools
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import datatypes, documents, memory, report, resp, servers, transactions, workload

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

# Defaults sized for the 2-core reference machine: each full cell runs a few seconds
# (Redis does ~65k req/s at -P 1 and ~650k at -P 16 there; MSET -P 16 takes longest, ~12 s).
# Default -n: (at -P 1, at any deeper pipeline); heavy collection tests divide it (datatypes.py).
FULL = {"reps": 5, "requests": (150_000, 1_500_000), "memory_keys": 1_000_000,
        "memory_settle": 12.0, "http_duration": 5.0}
QUICK = {"reps": 1, "requests": (10_000, 100_000), "memory_keys": 100_000, "memory_settle": 1.0,
         "http_duration": 1.0}

# The transaction group repeats SET and MSET: a multi-shard atomic command is compared with a
# single-key one in the same run.
TEST_GROUPS = {"strings": list(workload.STRING_TESTS),
               "collections": list(workload.COLLECTION_TESTS),
               "transactions": ["set", "mset", *workload.TRANSACTION_TESTS],
               # JSON.GET of the small document is the RESP side of the HTTP GET comparison.
               "json": list(workload.JSON_TESTS),
               "http": [*workload.HTTP_TESTS, "json_get_small"],
               "all": list(workload.STRING_TESTS) + list(workload.COLLECTION_TESTS)
               + list(workload.TRANSACTION_TESTS) + list(workload.JSON_TESTS)
               + list(workload.HTTP_TESTS), "none": []}
MEMORY_SUITES = ("strings",) + memory.FAMILIES


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shoal-bin", default=str(REPO_DIR / "build/release/shoal-server"))
    p.add_argument("--redis-bin", default="redis-server")
    p.add_argument("--benchmark-bin", default="redis-benchmark")
    p.add_argument("--ledger-bin", default=str(REPO_DIR / "build/release/shoal-ledger"),
                   help="the transaction cells' client (bench/ledger)")
    p.add_argument("--ledger-accounts", type=int, default=1000,
                   help="accounts of the ledger cells (default 1000)")
    p.add_argument("--wrk-bin", default="wrk", help="the HTTP cells' client")
    p.add_argument("--http-duration", type=float,
                   help="seconds of one wrk run in the HTTP cells (default %.0f)"
                   % FULL["http_duration"])
    p.add_argument("--json-keys", type=int, default=10_000,
                   help="documents of the JSON and HTTP cells, prefilled before each run "
                   "(default 10000)")
    p.add_argument("--only", choices=["redis", "shoal"], help="run just one server kind")
    p.add_argument("--threads", default="1,2", help="Shoal --threads values, one server each")
    p.add_argument("--reps", type=int, help=f"repetitions (default {FULL['reps']})")
    p.add_argument("--requests", help="redis-benchmark -n, one per --pipelines value or one "
                   "for all (default %d at -P 1, %d deeper)" % FULL["requests"])
    p.add_argument("--pipelines", default="1,16", help="redis-benchmark -P values")
    p.add_argument("--tests", default="all",
                   help=f"cells' tests, of {','.join(workload.TEST_LABELS)}, or the groups "
                   f"{', '.join(TEST_GROUPS)} (default all)")
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=100_000, help="-r of the string tests")
    p.add_argument("--value-size", type=int, default=32)
    p.add_argument("--collection-keys", type=int, default=1000,
                   help="-r of the collection tests: collections per family (default 1000)")
    p.add_argument("--collection-prefill", type=int, default=600,
                   help="elements per collection before a collection test (default 600: past "
                   "every listpack limit, so hash, set and zset start in their big encodings)")
    p.add_argument("--memory-keys", type=int,
                   help="keys of the string memory row, elements of a `big` collection row and "
                   f"keys of a `small` one; 0 skips memory (default {FULL['memory_keys']:,})")
    p.add_argument("--memory-suite", default="all",
                   help=f"memory rows: all, none, or of {','.join(MEMORY_SUITES)}")
    p.add_argument("--memory-settle", type=float,
                   help="seconds between loading collections and the final readings, for "
                   "freed pages to leave VmRSS (default %.0f)" % FULL["memory_settle"])
    p.add_argument("--memory-shapes", default="big,small",
                   help="collection memory shapes: big (one key of N elements), small (N keys "
                   f"of {memory.SMALL_SIZE})")
    p.add_argument("--server-cpus", default="0", help="taskset CPU list for a server")
    p.add_argument("--wide-server-cpus", default="0",
                   help="CPU list for a Shoal whose --threads exceeds --server-cpus' count")
    p.add_argument("--client-cpus", default="1", help="CPU list for redis-benchmark")
    p.add_argument("--no-pin", action="store_true", help="run everything without taskset")
    p.add_argument("--no-freeze", action="store_true",
                   help="leave idle servers running instead of SIGSTOPping them")
    p.add_argument("--cell-timeout", type=float, default=600.0,
                   help="seconds one redis-benchmark run may take")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: %d rep, -n %d/%d, %d keys; writes bench/out/ unless --out "
                   "is given" % (QUICK["reps"], *QUICK["requests"], QUICK["memory_keys"]))
    p.add_argument("--out", help="Markdown report (default bench/RESULTS.md; JSON beside it)")
    p.add_argument("--render", metavar="JSON", help="only re-render the report of a saved run")
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.out is None:
        args.out = str(BENCH_DIR / ("out/RESULTS-quick.md" if args.quick else "RESULTS.md"))
    args.tests = _expand(_list(args.tests, str), TEST_GROUPS)
    args.memory_suite = _expand(_list(args.memory_suite, str),
                                {"all": list(MEMORY_SUITES), "none": []})
    args.memory_shapes = _list(args.memory_shapes, str)
    args.pipelines = _list(args.pipelines, int)
    args.threads = _list(args.threads, int)
    if isinstance(args.requests, tuple):
        args.requests = [args.requests[0 if p == 1 else 1] for p in args.pipelines]
    else:
        args.requests = _list(args.requests, int)
    if len(args.requests) == 1:
        args.requests *= len(args.pipelines)
    if len(args.requests) != len(args.pipelines):
        p.error("--requests needs one count per --pipelines value, or a single count")
    if unknown := set(args.tests) - set(workload.TEST_LABELS):
        p.error(f"unknown tests: {', '.join(sorted(unknown))}")
    if unknown := set(args.memory_suite) - set(MEMORY_SUITES):
        p.error(f"unknown memory suites: {', '.join(sorted(unknown))}")
    if unknown := set(args.memory_shapes) - set(memory.SHAPES):
        p.error(f"unknown memory shapes: {', '.join(sorted(unknown))}")
    if args.no_pin:
        args.server_cpus = args.wide_server_cpus = args.client_cpus = ""
    return args


def _list(text: str, kind) -> list:
    return [kind(x.strip()) for x in text.split(",") if x.strip()]


def _expand(names: list, groups: dict) -> list:
    """Replaces group names by their members; keeps the first occurrence of each name."""
    out = []
    for name in names:
        for item in groups.get(name, [name]):
            if item not in out:
                out.append(item)
    return out


def cells(args) -> list:
    """The (test, pipeline) cells in run order, with each one's request count."""
    out = []
    for pipeline, n in zip(args.pipelines, args.requests):
        for test in args.tests:
            if test in datatypes.TESTS:
                n_test = datatypes.requests(test, n, pipeline)
            elif test in transactions.TESTS:
                n_test = transactions.requests(test, n, pipeline)
            elif test in documents.TESTS:
                n_test = documents.requests(test, n, pipeline)
            else:
                n_test = n
            cell = {"test": test, "pipeline": pipeline, "requests": n_test}
            if test in documents.HTTP_TESTS:
                cell["duration_s"] = args.http_duration  # wrk counts the requests.
            out.append(cell)
    return out


def server_specs(args) -> list:
    specs = []
    if args.only != "shoal":
        specs.append(servers.ServerSpec("redis", "redis", args.redis_bin, 1, args.server_cpus))
    if args.only != "redis":
        narrow = len(servers.parse_cpu_list(args.server_cpus)) if args.server_cpus else 0
        http = ""
        if shoal_knows_http_port(args.shoal_bin):
            http = "on" if set(args.tests) & set(documents.HTTP_TESTS) else "off"
        for t in args.threads:
            cpus = args.wide_server_cpus if args.server_cpus and t > narrow else args.server_cpus
            specs.append(servers.ServerSpec(f"shoal-t{t}", "shoal", args.shoal_bin, t, cpus,
                                            http))
    return specs


@functools.lru_cache(maxsize=None)
def shoal_knows_http_port(binary: str) -> bool:
    """Whether this Shoal has the HTTP API (issue 5), i.e. lists --http-port in its --help."""
    try:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--http-port" in out.stdout + out.stderr


def check_setup(args, specs) -> None:
    """Fails before anything starts, with a message that says what to do."""
    for tool in {args.redis_bin, args.benchmark_bin} | ({"taskset"} if not args.no_pin else set()):
        if not shutil.which(tool):
            sys.exit(f"error: {tool} not found on PATH")
    if any(s.kind == "shoal" for s in specs) and not os.access(args.shoal_bin, os.X_OK):
        sys.exit(f"error: no Shoal binary at {args.shoal_bin}.\nBuild it, pass --shoal-bin, "
                 "or run --only redis.")
    if set(args.tests) & set(documents.HTTP_TESTS) and not shutil.which(args.wrk_bin):
        sys.exit(f"error: {args.wrk_bin} not found (the HTTP cells' client: apt-get install wrk), "
                 "or leave out the HTTP tests")
    if set(args.tests) & set(transactions.TESTS) and not os.access(args.ledger_bin, os.X_OK):
        sys.exit(f"error: no shoal-ledger at {args.ledger_bin} (the transaction cells' client).\n"
                 "Build it (scripts/build.sh release), pass --ledger-bin, or leave out the "
                 "transaction tests (--tests strings,collections).")
    usable = os.sched_getaffinity(0)
    for cpus in {args.server_cpus, args.wide_server_cpus, args.client_cpus} - {""}:
        if missing := set(servers.parse_cpu_list(cpus)) - usable:
            sys.exit(f"error: CPUs {sorted(missing)} are not available here (have "
                     f"{sorted(usable)}); pass --server-cpus/--client-cpus or --no-pin")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_memory(args, specs, log_dir, notes) -> list:
    rows = []
    for spec in specs if "strings" in args.memory_suite else []:
        log(f"memory: {spec.name}: loading {args.memory_keys:,} keys")
        try:
            row = memory.measure(spec, log_dir, args.memory_keys, args.value_size)
        except (RuntimeError, OSError, resp.RespError, resp.ProtocolError) as err:
            # Not fatal: the server may still serve the throughput cells it supports.
            notes.append(f"{spec.name}: no memory row, loading failed: {err}")
            log(f"warning: {notes[-1]}")
            continue
        log(f"memory: {spec.name}: used_memory {report.fmt(row['used_bytes_per_key'], '.1f')} "
            f"B/key, VmRSS {row['rss_bytes_per_key']:.1f} B/key")
        rows.append(row)
    return rows


def run_collection_memory(args, specs, log_dir, notes) -> list:
    rows, failed = [], set()
    for family in [f for f in memory.FAMILIES if f in args.memory_suite]:
        for shape in args.memory_shapes:
            what = (f"1 key of {args.memory_keys:,} elements" if shape == "big" else
                    f"{args.memory_keys:,} keys of {memory.SMALL_SIZE}")
            group = [s for s in specs if (s.name, family) not in failed]
            log(f"memory: {family}, {what}: {', '.join(s.name for s in group)} "
                f"(+{args.memory_settle:.0f} s settling)")
            got, errors = memory.measure_collections(group, log_dir, family, shape,
                                                     args.memory_keys, args.memory_settle)
            for name, err in errors.items():
                failed.add((name, family))  # The other shape would fail alike.
                notes.append(f"{name}: no {family} memory rows, loading failed: {err[:300]}")
                log(f"warning: {notes[-1]}")
            for row in got:
                log(f"memory: {row['server']}: {family} {shape}: used_memory "
                    f"{report.fmt(row['used_bytes_per_element'], '.1f')} B/element, VmRSS "
                    f"{row['rss_bytes_per_element']:.1f} B/element ({row['encoding']}), "
                    f"loaded in {row['load_s']:.1f} s")
            rows += got
    return rows


def run_throughput(args, specs, log_dir, results) -> None:
    if not results["cells"]:
        return
    wl = workload.Workload(args.clients, args.keyspace, args.value_size, args.collection_keys,
                           args.collection_prefill, args.client_cpus, args.benchmark_bin,
                           args.cell_timeout, args.ledger_bin, args.ledger_accounts,
                           args.json_keys, args.wrk_bin, args.http_duration)
    running = []
    for spec in specs:
        server = servers.Server(spec, log_dir).start()
        running.append(server)
        spec_row = next(s for s in results["servers"] if s["name"] == spec.name)
        spec_row["affinity"] = server.affinity()
        bad = {t: why for t, why in workload.preflight(server, args.tests, wl).items() if why}
        if bad:
            results["skipped"][spec.name] = bad
            for test, why in bad.items():
                results["notes"].append(f"{spec.name} skips {test}: preflight `{why}`")
                log(f"warning: {spec.name} skips {test}: {why}")
    if not args.no_freeze:
        for server in running:
            server.freeze()
    total = args.reps * len(results["cells"]) * len(running)
    done = 0
    for rep in range(1, args.reps + 1):
        for cell in results["cells"]:
            for server in list(running):
                done += 1
                test, pipeline = cell["test"], cell["pipeline"]
                if test in results["skipped"].get(server.spec.name, {}):
                    continue
                idle = [s for s in running if s is not server]
                if not args.no_freeze:
                    server.thaw()
                try:
                    sample = workload.measure_cell(server, idle, test, pipeline,
                                                   cell["requests"], wl)
                except (workload.BenchmarkError, RuntimeError, OSError, resp.RespError,
                        resp.ProtocolError) as err:
                    # One failing cell (an error reply that stops redis-benchmark, a wrong
                    # prefill reply) must not cost the rest of a long run.
                    _cell_failed(results, server, f"{test} -P {pipeline} rep {rep}", test, err)
                    if not server.alive():
                        running.remove(server)
                    continue
                finally:
                    if not args.no_freeze and server.alive():
                        server.freeze()
                sample["rep"] = rep
                results["samples"].append(sample)
                log(f"[{done}/{total}] rep {rep} {test} -P {pipeline} {server.spec.name}: "
                    f"{sample['us_per_req']:.2f} µs/req, {sample['rps']:,.0f} ops/s, "
                    f"p50 {sample['p50_ms']} ms, p99 {sample['p99_ms']} ms"
                    + (f", {sample['encoding']}" if sample.get("encoding") else "")
                    + (f"\n  CHECK FAILED: {sample['check']}" if sample.get("check") else ""))
    for server in running:
        server.stop()


def _cell_failed(results, server, where: str, test: str, err: Exception) -> None:
    """Skips `test` on `server` from now on, or every test if the server died."""
    name = server.spec.name
    skipped = results["skipped"].setdefault(name, {})
    if server.alive():
        skipped[test] = f"failed at {where}: {str(err)[:300]}"
        results["notes"].append(f"{name}: {skipped[test]}")
    else:
        why = f"server died during {where}"
        for other in results["settings"]["tests"]:
            skipped.setdefault(other, why)
        results["notes"].append(f"{name}: {why}: {str(err)[:300]}\n  {server.log_tail()}")
        server.stop()
    log(f"warning: {results['notes'][-1]}")


def add_sample_notes(results) -> None:
    samples = results["samples"]
    for s in samples:
        if s.get("check"):
            results["notes"].append(f"{s['server']} {workload.TEST_LABELS[s['test']]} -P "
                                    f"{s['pipeline']} rep {s['rep']}: check failed: {s['check']}")
    if noisy := [s for s in samples if s.get("quiet_before") is False]:
        results["notes"].append(f"{len(noisy)} samples started before the server was idle "
                                "(over 3% of a core for 10 s after the prefill)")
    if exited := [s for s in samples if s["threads_exited"]]:
        results["notes"].append(f"{len(exited)} samples lost server threads mid-run (their CPU "
                                "time is missing from µs/req)")
    if disturbed := [s for s in samples if s["other_util"] > 0.10]:
        worst = max(s["other_util"] for s in disturbed)
        results["notes"].append(
            f"{len(disturbed)} of {len(samples)} samples ran while the rest of the machine used "
            f"over 10% of a core (worst {worst:.0%}); prefer a quiet machine for numbers to keep")
    if samples and (steal := max(s["steal_util"] for s in samples)) > 0.01:
        results["notes"].append(f"VM steal time reached {steal:.0%} of a core in one sample")
    if samples and len(results["servers"]) > 1:
        worst = max(samples, key=lambda s: s["idle_servers_cpu_ns"] / max(1, s["server_cpu_ns"]))
        share = worst["idle_servers_cpu_ns"] / max(1, worst["server_cpu_ns"])
        results["notes"].append(f"idle servers used at most {share:.2%} of the measured "
                                "server's CPU time during any sample")


def write(results, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.write_text(report.render(results))
    log(f"wrote {out} and {out.with_suffix('.json').name}")


def main() -> int:
    args = parse_args()
    if args.render:
        results = json.loads(Path(args.render).read_text())
        write(results, Path(args.out))
        return 0
    specs = server_specs(args)
    check_setup(args, specs)
    # SIGTERM and SIGHUP unwind like Ctrl-C, so the `finally` below stops the servers.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: sys.exit(128 + signum))
    log_dir = Path(tempfile.mkdtemp(prefix="shoal-bench-"))
    log(f"server logs: {log_dir}")
    cmd_args = shlex.join(sys.argv[1:])
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"bench/run.sh {cmd_args}".strip(),
        "machine": report.machine_info(),
        "versions": report.tool_versions(args.redis_bin, args.benchmark_bin),
        "settings": {
            "quick": args.quick, "reps": args.reps, "tests": args.tests,
            "pipelines": args.pipelines, "requests": args.requests, "clients": args.clients,
            "keyspace": args.keyspace, "value_size": args.value_size,
            "collection_keys": args.collection_keys,
            "collection_prefill": args.collection_prefill,
            "ledger_accounts": args.ledger_accounts,
            "json_keys": args.json_keys, "http_duration": args.http_duration,
            "memory_keys": args.memory_keys, "memory_suite": args.memory_suite,
            "memory_shapes": args.memory_shapes, "memory_settle": args.memory_settle,
            "client_cpus": args.client_cpus,
            "freeze_idle": not args.no_freeze,
        },
        "servers": [{"name": s.name, "kind": s.kind, "threads": s.threads, "cpus": s.cpus,
                     "affinity": None} for s in specs],
        "cells": cells(args),
        "samples": [], "skipped": {}, "memory": [], "memory_collections": [], "notes": [],
    }
    if any(s.kind == "shoal" for s in specs):
        results["versions"]["shoal"] = report.binary_info(args.shoal_bin, REPO_DIR)
    if set(args.tests) & set(documents.HTTP_TESTS):
        results["versions"]["wrk"] = report.first_line([args.wrk_bin, "--version"])
    start = time.monotonic()
    try:
        if args.memory_keys > 0:
            results["memory"] = run_memory(args, specs, log_dir, results["notes"])
            results["memory_collections"] = run_collection_memory(args, specs, log_dir,
                                                                  results["notes"])
        run_throughput(args, specs, log_dir, results)
    except (servers.ServerStartError, workload.BenchmarkError, RuntimeError) as err:
        log(f"error: {err}\nserver logs: {log_dir}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    finally:
        servers.stop_all()
    add_sample_notes(results)
    results["notes"].append(f"run took {time.monotonic() - start:.0f} s")
    write(results, Path(args.out))
    print(report.summary_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
