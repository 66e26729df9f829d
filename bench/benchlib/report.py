"""Machine facts, medians over repetitions, and the Markdown of RESULTS.md.

Everything here works on the plain results dict that run.py also saves as JSON, so a report can
be re-rendered from a saved run (`run.py --render results.json`).
"""

import hashlib
import os
import platform
import statistics
import subprocess
from pathlib import Path

from . import datatypes, documents, transactions
from .workload import TEST_LABELS

# From the issue: the same workload on the same kind of 2-core machine.
REFERENCE_US_PER_REQ = {
    "Redis 7.0": {1: 14.7, 16: 1.43},
    "do-nothing server": {1: 11.2, 16: 0.70},
}


def _run(argv) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def first_line(argv) -> str:
    """The first line a tool prints (wrk --version prints its usage after it, and exits 1)."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return (out.stdout + out.stderr).strip().split("\n")[0].strip()


def machine_info() -> dict:
    model, flags = "unknown", ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            name, _, val = line.partition(":")
            if name.strip() == "model name" and model == "unknown":
                model = val.strip()
            elif name.strip() == "flags" and not flags:
                flags = val
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "virtualized": "hypervisor" in flags.split(),
        "kernel": platform.release(),
        "mem_gib": round(mem_kb / 2**20, 1),
        "os": _os_name(),
    }


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def binary_info(path: str, repo: Path) -> dict:
    """Identifies a Shoal binary: we cannot ask it for a version, so hash it and name the commit."""
    data = Path(path).read_bytes()
    commit = _run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]) or "no commit"
    dirty = _run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"])
    return {
        "path": str(path),
        "sha256": hashlib.sha256(data).hexdigest()[:16],
        "size": len(data),
        "repo_commit": commit + (" (dirty tree)" if dirty else ""),
    }


def tool_versions(redis_bin: str, benchmark_bin: str) -> dict:
    return {
        "redis-server": _run([redis_bin, "--version"]),
        "redis-benchmark": _run([benchmark_bin, "--version"]),
        "python": platform.python_version(),
    }


def summarize(samples: list) -> dict:
    """{(server, test, pipeline): medians (and the µs/req range) over repetitions}."""
    groups = {}
    for s in samples:
        groups.setdefault((s["server"], s["test"], s["pipeline"]), []).append(s)
    out = {}
    for key, group in groups.items():
        us = [s["us_per_req"] for s in group]
        out[key] = {"runs": len(group), "us_min": min(us), "us_max": max(us)}
        for field in ("us_per_req", "rps", "p50_ms", "p99_ms", "server_util", "client_util",
                      "other_util"):
            values = [s.get(field) for s in group if s.get(field) is not None]
            out[key][field] = statistics.median(values) if values else None
    return out


def _ratio(value, base) -> str:
    return "—" if value is None or not base else f"{value / base:.2f}×"


def fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _cell_title(test: str, pipeline: int) -> str:
    return f"{TEST_LABELS[test]}, -P {pipeline}"


def summary_table(results: dict) -> str:
    """Server CPU µs/request per cell: the one table to read first."""
    if not results["cells"]:
        return "No throughput cells in this run."
    stats = summarize(results["samples"])
    names = [s["name"] for s in results["servers"]]
    head = "| cell | " + " | ".join(
        f"{n} µs/req" + ("" if n == "redis" else " | ×redis") for n in names) + " |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for cell in results["cells"]:
        base = stats.get(("redis", cell["test"], cell["pipeline"]), {}).get("us_per_req")
        row = [_cell_title(cell["test"], cell["pipeline"])]
        for name in names:
            st = stats.get((name, cell["test"], cell["pipeline"]))
            us = st["us_per_req"] if st else None
            row.append(fmt(us, ".2f") if st else _skip_mark(results, name, cell["test"]))
            if name != "redis":
                row.append(_ratio(us, base))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _skip_mark(results: dict, server: str, test: str) -> str:
    return "unsupported" if results["skipped"].get(server, {}).get(test) else "—"


def _cell_table(results: dict, stats: dict, cell: dict) -> str:
    test, pipeline = cell["test"], cell["pipeline"]
    base = stats.get(("redis", test, pipeline), {})
    if test in documents.HTTP_TESTS:
        counts = [s["requests"] for s in results["samples"]
                  if s["test"] == test and s["pipeline"] == pipeline]
        size = (f"wrk -d {cell.get('duration_s', 0):g}s, "
                f"{fmt(statistics.median(counts) if counts else None, ',.0f')} requests per run "
                "(median)")
    else:
        size = f"-n {cell['requests']} per run"
    lines = [
        f"### {_cell_title(test, pipeline)} ({size})",
        "",
        "| server | CPUs | µs/req median (min–max) | ×redis | ops/s | ×redis | p50 ms "
        "| p99 ms | server CPU | client CPU | other CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in results["servers"]:
        name = spec["name"]
        st = stats.get((name, test, pipeline))
        if st is None:
            why = results["skipped"].get(name, {}).get(test, "not run").replace("|", "\\|")
            lines.append(f"| {name} | {spec['cpus'] or 'any'} | skipped: {why} ||||||||| ")
            continue
        lines.append(
            f"| {name} | {spec['cpus'] or 'any'} "
            f"| {st['us_per_req']:.2f} ({st['us_min']:.2f}–{st['us_max']:.2f}) "
            f"| {'' if name == 'redis' else _ratio(st['us_per_req'], base.get('us_per_req'))} "
            f"| {st['rps']:,.0f} "
            f"| {'' if name == 'redis' else _ratio(st['rps'], base.get('rps'))} "
            f"| {fmt(st['p50_ms'], '.3f')} | {fmt(st['p99_ms'], '.3f')} "
            f"| {st['server_util']:.0%} | {st['client_util']:.0%} "
            f"| {fmt(st['other_util'], '.0%')} |")
    if test in datatypes.TESTS:
        lines += ["", _collection_notes(results, test, pipeline)]
    return "\n".join(lines)


def _collection_notes(results: dict, test: str, pipeline: int) -> str:
    """Encodings after the runs and the element-count checks of a collection cell."""
    samples = [s for s in results["samples"] if s["test"] == test and s["pipeline"] == pipeline]
    encodings = {}
    for s in samples:
        encodings.setdefault(s["server"], set()).add(s.get("encoding") or "n/a")
    enc = "; ".join(f"{name} {', '.join(sorted(e))}" for name, e in encodings.items())
    failed = [s for s in samples if s.get("check")]
    prefill = sorted({s.get("prefill_per_key") for s in samples} - {None})
    checks = (f"element counts after each run as expected ({len(samples)} runs)" if not failed
              else "**element-count check failed**: " + "; ".join(
                  f"{s['server']} rep {s['rep']}: {s['check']}" for s in failed))
    return (f"Prefill {', '.join(map(str, prefill))} elements per collection; encoding after the "
            f"run: {enc or 'n/a'}; {checks}.")


def collection_cells_table(results: dict) -> str:
    """What each collection test sends, over how many collections, prefilled how."""
    st = results["settings"]
    tests = [t for t in st["tests"] if t in datatypes.TESTS]
    if not tests:
        return ""
    reqs = {}
    for cell in results["cells"]:
        reqs.setdefault(cell["test"], []).append(f"{cell['requests']:,} at -P {cell['pipeline']}")
    lines = ["| test | redis-benchmark command line | -n |", "|---|---|---|"]
    for t in tests:
        cmd = " ".join("<data>" if a == "__data__" else a for a in datatypes.TESTS[t].command)
        lines.append(f"| {TEST_LABELS[t]} | `{cmd}` | {', '.join(reqs.get(t, []))} |")
    keys, prefill = st.get("collection_keys"), st.get("collection_prefill")
    return f"""## Collection cells

Custom command lines (`bench/benchlib/datatypes.py` says why not the built-in `-t` tests), all
with `-c {st['clients']} -r {keys}`: __rand_int__ is drawn anew per occurrence in
[0, {keys}), so each request picks one of {keys:,} collections per family. `<data>` is
{st['value_size']} bytes of `x`, as redis-benchmark's `-d`. Before every run the family's keys
are deleted and each collection gets {prefill} elements (a pop test gets enough that none runs
dry), members `element:<10^11 + j>`, apart from the ones the run adds; zset scores are spread
over [0, {keys}) so a ZRANGEBYSCORE from a random minimum returns 10 members. After the run the
harness sums the family's LLEN/SCARD/HLEN/ZCARD: LPUSH, LPOP, SPOP and the reads must leave an
exact total, SADD/HSET/ZADD a total between the prefill and prefill + -n.

{chr(10).join(lines)}
"""


def transaction_cells_table(results: dict) -> str:
    """What each transaction cell sends, and how Shoal's cost grows with its shard count."""
    st = results["settings"]
    tests = [t for t in st["tests"] if t in transactions.TESTS]
    if not tests:
        return ""
    reqs = {}
    for cell in results["cells"]:
        reqs.setdefault(cell["test"], []).append(f"{cell['requests']:,} at -P {cell['pipeline']}")
    what = {
        "multi": f"MULTI, {transactions.INCRS_PER_MULTI} × INCR bench:txn:<random>, EXEC "
                 "(one write, 7 replies)",
        "evalsha": "EVALSHA of `GET k; SET k v+1` on bench:rmw:<random>",
    }
    lines = ["| test | one request | -n |", "|---|---|---|"]
    for t in tests:
        spec = transactions.TESTS[t]
        desc = what.get(t) or f"one finished transfer, kinds `{spec.mix}`"
        lines.append(f"| {TEST_LABELS[t]} | {desc} | {', '.join(reqs.get(t, []))} |")
    return f"""## Transaction cells

Run by `shoal-ledger` (bench/ledger; `bench/benchlib/transactions.py` says why not
redis-benchmark): `-c {st['clients']}` connections on one client thread pinned like
redis-benchmark, `-P` requests in flight per connection (a WATCH transfer always alone), a fixed
request count; keys drawn from `-r {st['keyspace']}`, so a transaction spans shards; ledger cells
over {st.get('ledger_accounts', 'n/a')} accounts created afresh before each run, audited after it
(totals, no negative balance, every coin once), without auditors during the run. µs/req is server
CPU per transaction, script call or finished transfer (a WATCH retry is charged to its transfer).

{chr(10).join(lines)}

{retries_table(results)}

{shard_scaling_table(results)}
"""


def retries_table(results: dict) -> str:
    """Retries per 100 requests (median over repetitions): WATCH conflicts and coins taken first
    are extra work a server's µs/req includes, and their rate depends on its timing."""
    names = [s["name"] for s in results["servers"]]
    groups = {}
    for s in results["samples"]:
        if s["test"] in transactions.TESTS and s.get("retries") is not None:
            groups.setdefault((s["test"], s["pipeline"]), {}).setdefault(s["server"], []).append(
                100.0 * s["retries"] / s["requests"])
    rows = [(cell, groups[(cell["test"], cell["pipeline"])]) for cell in results["cells"]
            if any(groups.get((cell["test"], cell["pipeline"]), {}).values())]
    rows = [(cell, got) for cell, got in rows if any(v for vs in got.values() for v in vs)]
    if not rows:
        return "No retries in any transaction cell."
    lines = ["| cell | " + " | ".join(f"{n} retries/100" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for cell, got in rows:
        lines.append(f"| {_cell_title(cell['test'], cell['pipeline'])} | " + " | ".join(
            fmt(statistics.median(got[n]), ".1f") if got.get(n) else "—" for n in names) + " |")
    return "Retries per 100 requests (nil EXEC after WATCH, coin gone before SMOVE):\n\n" + \
        "\n".join(lines)


def shard_scaling_table(results: dict) -> str:
    """Each multi-threaded Shoal's µs/req over shoal-t1's: what spreading keys over shards costs
    (the issue's target: a multi-shard atomic command at most 2× the single-shard one)."""
    stats = summarize(results["samples"])
    multi = [s["name"] for s in results["servers"] if s["kind"] == "shoal" and s["threads"] > 1]
    if "shoal-t1" not in [s["name"] for s in results["servers"]] or not multi:
        return "(Shard scaling needs shoal-t1 and a Shoal with more threads in the run.)"
    tests = ["set", "mset", *transactions.TESTS]
    lines = ["| cell | " + " | ".join(f"{n} ÷ shoal-t1" for n in multi) + " |",
             "|---|" + "---|" * len(multi)]
    for cell in results["cells"]:
        if cell["test"] not in tests:
            continue
        base = stats.get(("shoal-t1", cell["test"], cell["pipeline"]), {}).get("us_per_req")
        row = [_cell_title(cell["test"], cell["pipeline"])]
        for n in multi:
            st = stats.get((n, cell["test"], cell["pipeline"]))
            row.append(_ratio(st["us_per_req"] if st else None, base))
        lines.append("| " + " | ".join(row) + " |")
    return "Server CPU per request of a sharded Shoal over one shard's:\n\n" + "\n".join(lines)


def memory_table(results: dict) -> str:
    rows = results["memory"]
    if not rows:
        return ("No rows: see Notes." if results["settings"]["memory_keys"]
                else "Not measured (`--memory-keys 0`).")
    base = next((r for r in rows if r["server"] == "redis"), {})
    lines = [
        "| server | keys | DBSIZE | used_memory B/key | ×redis | VmRSS B/key | ×redis "
        "| VmRSS after | load s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        def vs_redis(field):
            return "" if r["server"] == "redis" else _ratio(r[field], base.get(field))

        lines.append(
            f"| {r['server']} | {r['keys']:,} | {fmt(r['dbsize'], ',')} "
            f"| {fmt(r['used_bytes_per_key'], '.1f')} | {vs_redis('used_bytes_per_key')} "
            f"| {fmt(r['rss_bytes_per_key'], '.1f')} | {vs_redis('rss_bytes_per_key')} "
            f"| {r['rss_after'] / 2**20:.1f} MiB | {r['load_s']:.1f} |")
    return "\n".join(lines)


def collection_memory_table(results: dict) -> str:
    rows = results.get("memory_collections") or []
    if not rows:
        st = results["settings"]
        return ("Not measured." if not st["memory_keys"] or not set(
            st.get("memory_suite", [])) - {"strings"} else "No rows: see Notes.")
    names = [s["name"] for s in results["servers"]]
    base = {(r["family"], r["shape"]): r for r in rows if r["server"] == "redis"}
    head = ("| collection | " + " | ".join(
        f"{n} used B/elem" + ("" if n == "redis" else " | ×redis") for n in names)
        + " | " + " | ".join(f"{n} RSS B/elem" + ("" if n == "redis" else " | ×redis")
                              for n in names) + " |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    by_key = {(r["server"], r["family"], r["shape"]): r for r in rows}
    shapes = []
    for r in rows:
        if (r["family"], r["shape"]) not in shapes:
            shapes.append((r["family"], r["shape"]))
    for family, shape in shapes:
        b = base.get((family, shape), {})
        some = next(r for r in rows if r["family"] == family and r["shape"] == shape)
        title = (f"{family}, 1 key × {some['elements']:,}" if shape == "big"
                 else f"{family}, {some['keys']:,} keys × {some['elements'] // some['keys']}")
        row = [title]
        for field in ("used_bytes_per_element", "rss_bytes_per_element"):
            for n in names:
                r = by_key.get((n, family, shape))
                row.append(fmt(r[field], ".1f") if r else "—")
                if n != "redis":
                    row.append(_ratio(r[field], b.get(field)) if r else "—")
        lines.append("| " + " | ".join(row) + " |")
    detail = ["| server | collection | DBSIZE | encoding | used B/key | RSS B/key "
              "| RSS B/elem right after load | VmRSS after | load s |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        small = r["shape"] == "small"  # Per key means nothing for one big key.
        detail.append(f"| {r['server']} | {r['family']} {r['shape']} | {fmt(r['dbsize'], ',')} "
                      f"| {r['encoding'] or 'n/a'} "
                      f"| {fmt(r['used_bytes_per_key'], '.1f') if small else '—'} "
                      f"| {fmt(r['rss_bytes_per_key'], '.1f') if small else '—'} "
                      f"| {fmt(r.get('rss_loaded_bytes_per_element'), '.1f')} "
                      f"| {r['rss_after'] / 2**20:.1f} MiB | {r['load_s']:.1f} |")
    return "\n".join(lines) + "\n\nPer key, encodings and load times:\n\n" + "\n".join(detail)


def target_misses(results: dict) -> list:
    """Shoal cells and memory rows worse than Redis: [(server, what, ratio)], worst first."""
    stats = summarize(results["samples"])
    misses = []
    for cell in results["cells"]:
        base = stats.get(("redis", cell["test"], cell["pipeline"]))
        for spec in results["servers"]:
            st = stats.get((spec["name"], cell["test"], cell["pipeline"]))
            if spec["kind"] == "shoal" and st and base and st["us_per_req"] > base["us_per_req"]:
                misses.append((spec["name"], _cell_title(cell["test"], cell["pipeline"]) +
                               " µs/req", st["us_per_req"] / base["us_per_req"]))
    memory_rows = [(r, f"{r['family']} {r['shape']}") for r in
                   results.get("memory_collections") or []]
    memory_rows += [(r, "strings") for r in results.get("memory") or []]
    for r, what in memory_rows:
        base = next((b for b, w in memory_rows if b["server"] == "redis" and w == what), None)
        if r["server"] == "redis" or base is None:
            continue
        field = "used_bytes_per_element" if "family" in r else "used_bytes_per_key"
        for f, label in ((field, "used_memory"), (field.replace("used", "rss"), "RSS")):
            if r[f] is not None and base[f] and r[f] > base[f]:
                misses.append((r["server"], f"memory {what} ({label})", r[f] / base[f]))
    return sorted(misses, key=lambda m: -m[2])


def _targets(results: dict) -> str:
    if not any(s["kind"] == "shoal" for s in results["servers"]):
        return "No Shoal server in this run."
    misses = target_misses(results)
    if not misses:
        return ("Every measured Shoal cell spends no more CPU per request than Redis, and every "
                "memory row is no larger than Redis's.")
    return ("Shoal cells and memory rows above Redis (target: ≤ 1.00×), worst first:\n\n"
            + "\n".join(f"- {name}: {what}: {ratio:.2f}×" for name, what, ratio in misses))


def _small_size() -> int:
    from . import memory  # Imported here: memory imports servers, report needs neither else.
    return memory.SMALL_SIZE


def _shared_cpu_note(spec: dict, client_cpus: str) -> str:
    if not spec["cpus"] or not client_cpus:
        return ""
    common = set(spec["cpus"].split(",")) & set(client_cpus.split(","))
    if not common:
        return ""
    return (f"`{spec['name']}` shares CPU {','.join(sorted(common))} with redis-benchmark: one "
            f"core per server thread is what `--threads {spec['threads']}` asks for, and this "
            "machine has no core to spare for the client. Its µs/req stays comparable (CPU time "
            "is counted per thread, wherever it runs); its ops/s and latency do not, since server "
            "and client compete for a core.\n\n")


def render(results: dict) -> str:
    m, v, st = results["machine"], results["versions"], results["settings"]
    stats = summarize(results["samples"])
    refs = "\n".join(f"- {name}: ≈{r[1]} µs/req at -P 1, ≈{r[16]} µs/req at -P 16"
                     for name, r in REFERENCE_US_PER_REQ.items())
    pins = "\n".join(f"- `{s['name']}`: {s['kind']}"
                     + (f" `--threads {s['threads']}`" if s["kind"] == "shoal" else "")
                     + f", pinned to CPUs `{s['cpus'] or 'none'}` (affinity seen: {s['affinity']})"
                     for s in results["servers"])
    shoal = v.get("shoal")
    shoal_line = (f"- shoal-server: `{shoal['path']}`, sha256 {shoal['sha256']}, "
                  f"repo at {shoal['repo_commit']}" if shoal else "- shoal-server: not run")
    quick = " (**quick smoke run: numbers are noisy**)" if st["quick"] else ""
    vm = " (virtual machine)" if m["virtualized"] else ""
    order = ", ".join(s["name"] for s in results["servers"])
    shared = "".join(_shared_cpu_note(spec, st["client_cpus"]) for spec in results["servers"])
    string_tests = [t for t in st["tests"] if t not in datatypes.TESTS
                    and t not in transactions.TESTS and t not in documents.TESTS]
    doc_tests = [t for t in st["tests"] if t in documents.TESTS]
    txn_tests = [t for t in st["tests"] if t in transactions.TESTS]
    coll_tests = [t for t in st["tests"] if t in datatypes.TESTS]
    settings = "\n".join([
        f"- redis-benchmark pinned to CPUs `{st['client_cpus'] or 'none'}`, at `-P` "
        f"{', '.join(map(str, st['pipelines']))}: string tests "
        f"{', '.join(string_tests) or 'none'} with `-c {st['clients']} -r {st['keyspace']} "
        f"-d {st['value_size']} -t <test>`; collection tests {', '.join(coll_tests) or 'none'} "
        f"as custom commands over {st.get('collection_keys', 'n/a')} collections (below)."
        + (f" Transaction tests {', '.join(txn_tests)} by shoal-ledger (below)."
           if txn_tests else "")
        + (f" JSON and HTTP tests {', '.join(doc_tests)} over {st.get('json_keys')} documents "
           "(below)." if doc_tests else ""),
        f"- {st['reps']} repetition{'s' if st['reps'] != 1 else ''}, medians reported. In each "
        f"repetition every cell runs on each server in turn ({order}); the others are "
        f"{'frozen with SIGSTOP' if st['freeze_idle'] else 'left running'} meanwhile.",
    ])
    notes = "\n".join(f"- {n}" for n in results["notes"]) or "- none"
    cells = ("\n\n".join(_cell_table(results, stats, c) for c in results["cells"])
             or "No throughput cells in this run.")
    memory_n = st["memory_keys"]
    return f"""# Shoal benchmark results

Generated by `bench/run.py` on {results['date']}{quick}.
What is measured and why: `bench/README.md`.

Reproduce from the repository root:

```
{results['command']}
```

## Machine and versions

- {m['nproc']} CPUs: {m['cpu_model']}{vm}, {m['mem_gib']} GiB
- kernel {m['kernel']}, {m['os']}
- {v['redis-server']}
- {v['redis-benchmark']}
{f"- {v['wrk']}{chr(10)}" if v.get('wrk') else ""}{shoal_line}
- Python {v['python']}

## Settings

{settings}
{pins}

{shared}## Server CPU time per request (µs, median)

Lower is better; ×redis < 1 means Shoal spends less CPU per request than Redis.

{summary_table(results)}

{_targets(results)}

Reference points from the issue, same workload on the same kind of machine:
{refs}

The gap between Redis and the do-nothing server is all that a faster command path can win; the
rest is the kernel's network stack.

{collection_cells_table(results)}
{transaction_cells_table(results)}
{document_cells_section(results)}
## Per cell

µs/req = server CPU time / requests; ops/s, p50 and p99 as reported by redis-benchmark; server
CPU = server CPU time / wall time (100% = one core busy); client CPU likewise for redis-benchmark
(shoal-ledger in the transaction cells)
(near 100% means the client, not the server, limited ops/s); other CPU = what the rest of the
machine used meanwhile (other processes, VM steal): well above 0% means a disturbed run.

{cells}

## Memory

### Strings

Fresh server per row, `{results['settings']['memory_keys']:,}` keys `key:%012d` with
{st['value_size']}-byte values loaded by pipelined SET; bytes per key = (after − before) / keys,
from `used_memory` (INFO memory) and from VmRSS (/proc/PID/status).

{memory_table(results)}

### Collections

Fresh server per row. `big`: one key `big` with {memory_n:,} elements; `small`: {memory_n:,}
keys `key:%012d` with {_small_size()} elements each (the same elements in every key). Elements
`i`: list `v:<i>`, hash field `f:<i>` value `v:<i>`, set `m:<i>`, zset score `i` member `m:<i>`,
loaded by pipelined RPUSH/HSET/SADD/ZADD (1000 elements per command for `big`), every reply
checked. The servers of a row run side by side and are read {st.get('memory_settle', 0):.0f} s
after loading, so that pages jemalloc has freed (an outgrown hash table, say) have had their
decay time to leave VmRSS; the VmRSS read 0.5 s after loading is in the second table. Bytes per
element = (after − before) / elements, from `used_memory` and VmRSS; per key in the second
table. Each server keeps its default encoding limits (shown in the second table; Redis 7.0 has
no listpack sets, so small sets are hash tables there).

{collection_memory_table(results)}

## Notes

{notes}
"""


# ---- issue 5: JSON documents and the HTTP API ----

JSON_TARGET_OPS = 100_000  # JSON.SET/JSON.GET of 1 KB per shard thread, with pipelining.
HTTP_TARGET_RATIO = 2.0  # HTTP GET of a small document over the same read through RESP.


def document_cells_section(results: dict) -> str:
    st = results["settings"]
    tests = [t for t in st["tests"] if t in documents.TESTS]
    if not tests:
        return ""
    what = {
        "json_set": "`JSON.SET doc:__rand_int__ $ <1 KB document>` (overwrites a document)",
        "json_get": "`JSON.GET doc:__rand_int__` (the whole 1 KB document)",
        "set_1k": "`SET doc:__rand_int__ <the same 1 KB text>` (a plain string)",
        "get_1k": "`GET doc:__rand_int__` (the 1 KB string)",
        "json_get_small": f"`JSON.GET {documents.ITEMS}:__rand_int__` (a ~130-byte document)",
        "http_get": f"wrk: `GET /{documents.ITEMS}/<random id>`, the documents json_get_small "
                    "reads",
        "http_post": f"wrk: `POST /{documents.POSTS}` of a new ~100-byte document, id chosen "
                     "by the server",
        "http_patch": f"wrk: `PATCH /{documents.ITEMS}/<random id>` with the merge patch "
                      "`{\"score\":N,\"seen\":true}`",
    }
    rows = ["| test | one request | prefill |", "|---|---|---|"]
    prefill = {"json_1k": "JSON.SET of the 1 KB document on every key",
               "string_1k": "SET of the 1 KB text on every key",
               "items": f"JSON.SET `{documents.ITEMS}:<id>` + ZADD `_idx:{documents.ITEMS}`",
               "": "empty keyspace"}
    for t in tests:
        rows.append(f"| {TEST_LABELS[t]} | {what[t]} | {prefill[documents.TESTS[t].prefill]} |")
    return f"""## JSON and HTTP cells (issue 5)

- Keys `doc:<12 digits>` (1 KB cells) and `{documents.ITEMS}:<12 digits>` (small documents,
  collection `{documents.ITEMS}` of the HTTP API), {st.get('json_keys', 0):,} of each in use,
  prefilled before every run, so every read finds its document and every JSON.SET overwrites
  one; checked after it (the same keys, documents intact, PATCH applied to about as many
  documents as random ids hit, POST's documents all there).
- The 1 KB document ({len(documents.DOC_1K)} bytes, compact) is an order record: nested objects,
  arrays of objects, strings, numbers, booleans, a null.
- RESP cells run redis-benchmark like every other cell. HTTP cells run wrk: one thread pinned
  like redis-benchmark, `-c {st['clients']}` keep-alive connections, `-P` requests written back
  to back per connection (Lua scripts in bench/wrk/), {st.get('http_duration', 0):g} s per run;
  µs/req divides the server's CPU time by wrk's count of answered requests (the up to `-c` ×
  `-P` requests in flight when wrk stops are served but not counted: µs/req errs high by at most
  that share). Any HTTP status ≥ 400 or socket error fails the run's check. wrk's latencies are
  per batch of `-P` requests and corrected for coordinated omission; n/a where its histogram
  overran (it then prints 0).
- **Redis has no JSON type and no HTTP API**: it runs only the plain-string cells, which show
  what the same 1 KB payload costs as a string.

{chr(10).join(rows)}

{json_capacity_table(results)}

{json_over_string_table(results)}

{http_ratio_table(results)}
"""


def json_capacity_table(results: dict) -> str:
    """Issue 5's target: JSON.SET/JSON.GET of 1 KB at >= 100k ops/s per shard thread with
    pipelining. On 2 cores the client saturates first, so besides the ops/s it got (per shard
    thread) the table gives what one fully busy thread would do at the CPU cost measured."""
    stats = summarize(results["samples"])
    shoals = [s for s in results["servers"] if s["kind"] == "shoal"]
    lines = ["| cell | server | ops/s | ops/s per shard thread | server CPU | client CPU "
             "| µs CPU/req | capacity per thread (1/CPU per req) | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    for cell in results["cells"]:
        if cell["test"] not in ("json_set", "json_get"):
            continue
        for spec in shoals:
            st = stats.get((spec["name"], cell["test"], cell["pipeline"]))
            if not st:
                continue
            capacity = 1e6 / st["us_per_req"] if st["us_per_req"] else None
            verdict = ("met" if capacity and capacity >= JSON_TARGET_OPS else "missed")
            if cell["pipeline"] == 1:
                verdict = "— (the target is with pipelining)"
            lines.append(
                f"| {_cell_title(cell['test'], cell['pipeline'])} | {spec['name']} "
                f"| {st['rps']:,.0f} | {st['rps'] / spec['threads']:,.0f} "
                f"| {st['server_util']:.0%} | {st['client_util']:.0%} "
                f"| {st['us_per_req']:.2f} | {fmt(capacity, ',.0f')} ops/s | {verdict} |")
    if len(lines) == 2:
        return "(No JSON.SET/JSON.GET samples from a Shoal.)"
    return (f"JSON.SET/JSON.GET of the 1 KB document per shard thread (target ≥ "
            f"{JSON_TARGET_OPS:,} ops/s per shard thread with pipelining). ops/s stops where "
            "the server's core or the client's saturates (server and client CPU columns; on this "
            "2-core machine the client takes one core, and a two-thread Shoal shares the other), "
            "so the second figure is the capacity per thread = 1 / (server CPU seconds per "
            "request): the rate one shard thread reaches with a core of its own and enough "
            "clients (a two-thread Shoal on one core pays its hand-overs in it):\n\n"
            + "\n".join(lines))


def json_over_string_table(results: dict) -> str:
    """What the JSON type costs over storing the same 1 KB text as a string, per server."""
    stats = summarize(results["samples"])
    pairs = (("json_set", "set_1k"), ("json_get", "get_1k"))
    lines = ["| cell | server | JSON µs/req | string µs/req | JSON ÷ string |",
             "|---|---|---|---|---|"]
    for cell in results["cells"]:
        for json_test, string_test in pairs:
            if cell["test"] != json_test:
                continue
            for spec in results["servers"]:
                a = stats.get((spec["name"], json_test, cell["pipeline"]))
                b = stats.get((spec["name"], string_test, cell["pipeline"]))
                if a and b:
                    lines.append(f"| {_cell_title(json_test, cell['pipeline'])} | {spec['name']} "
                                 f"| {a['us_per_req']:.2f} | {b['us_per_req']:.2f} "
                                 f"| {_ratio(a['us_per_req'], b['us_per_req'])} |")
    if len(lines) == 2:
        return ""
    return ("The JSON tree against the same 1 KB text stored as a plain string, same server "
            "(parse and build on JSON.SET, serialize on JSON.GET):\n\n" + "\n".join(lines))


def http_ratio_table(results: dict) -> str:
    """Issue 5's target: an HTTP GET of a small document costs at most 2x the server CPU of the
    same read over RESP (JSON.GET of the same documents, same pipeline depth)."""
    stats = summarize(results["samples"])
    lines = ["| -P | server | HTTP GET µs/req | RESP JSON.GET µs/req | HTTP ÷ RESP | target "
             f"≤ {HTTP_TARGET_RATIO:g}× | POST µs/req | PATCH µs/req |",
             "|---|---|---|---|---|---|---|---|"]
    for pipeline in results["settings"]["pipelines"]:
        for spec in results["servers"]:
            name = spec["name"]
            http = stats.get((name, "http_get", pipeline))
            rsp = stats.get((name, "json_get_small", pipeline))
            if not http and not rsp:
                continue
            us = {t: stats.get((name, t, pipeline), {}).get("us_per_req")
                  for t in ("http_post", "http_patch")}
            ratio = http["us_per_req"] / rsp["us_per_req"] if http and rsp else None
            verdict = ("—" if ratio is None
                       else "met" if ratio <= HTTP_TARGET_RATIO else "missed")
            lines.append(f"| {pipeline} | {name} "
                         f"| {fmt(http and http['us_per_req'], '.2f')} "
                         f"| {fmt(rsp and rsp['us_per_req'], '.2f')} "
                         f"| {fmt(ratio, '.2f')}{'×' if ratio else ''} | {verdict} "
                         f"| {fmt(us['http_post'], '.2f')} | {fmt(us['http_patch'], '.2f')} |")
    if len(lines) == 2:
        return ""
    return ("Server CPU of an HTTP GET of a small document over the same read through RESP "
            "(JSON.GET of the same documents at the same depth):\n\n" + "\n".join(lines))
