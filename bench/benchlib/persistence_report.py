"""The Markdown of RESULTS-persistence.md, from the results dict bench/persistence.py saves as
JSON (so `persistence.sh --render` can rewrite it): one table per part, then the issue's targets
with met / not met read off the medians."""

import statistics

# The targets: snapshot memory overhead and latency spike limits.
MEMORY_OVERHEAD_LIMIT = 0.10  # Of the dataset.
LATENCY_SPIKE_LIMIT_MS = 10.0


def _median(rows: list, field: str):
    values = [r[field] for r in rows if r.get(field) is not None]
    return statistics.median(values) if values else None


def _fmt(value, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _ratio(value, base) -> str:
    return "—" if value is None or not base else f"{value / base:.2f}×"


def _servers(rows: list) -> list:
    seen = []
    for r in rows:
        if r["server"] not in seen:
            seen.append(r["server"])
    return seen


def _group(rows: list, **match) -> list:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def aof_table(results: dict) -> str:
    rows = results["aof"]
    if not rows:
        return "_Not run._\n"
    out = []
    for pipeline in results["settings"]["pipelines"]:
        out += [f"**SET, -P {pipeline}** (`-c {results['settings']['clients']}`)", "",
                "| appendfsync | server | ops/s | ops/s vs redis | µs/req (min–max) | "
                "µs/req vs redis | + µs/req over AOF off | p50 ms | p99 ms |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for mode in results["settings"]["aof_modes"]:
            base = _group(rows, mode=mode, pipeline=pipeline, server="redis")
            base_rps, base_us = _median(base, "rps"), _median(base, "us_per_req")
            for server in _servers(rows):
                group = _group(rows, mode=mode, pipeline=pipeline, server=server)
                if not group:
                    continue
                off = _median(_group(rows, mode="off", pipeline=pipeline, server=server),
                              "us_per_req")
                us = _median(group, "us_per_req")
                extra = "—" if mode == "off" or off is None else f"{us - off:+.2f}"
                label = "AOF off" if mode == "off" else mode
                out.append(
                    f"| {label} | {server} | {_median(group, 'rps'):,.0f} | "
                    f"{_ratio(_median(group, 'rps'), base_rps) if server != 'redis' else ''} | "
                    f"{us:.2f} ({min(r['us_per_req'] for r in group):.2f}–"
                    f"{max(r['us_per_req'] for r in group):.2f}) | "
                    f"{_ratio(us, base_us) if server != 'redis' else ''} | {extra} | "
                    f"{_fmt(_median(group, 'p50_ms'), '.3f')} | "
                    f"{_fmt(_median(group, 'p99_ms'), '.3f')} |")
        out.append("")
    files = results.get("aof_files") or []
    if files:
        out.append("AOF size at the end of the mode's runs (all repetitions): " + "; ".join(
            f"{f['mode']} {f['server']} {f['bytes'] / 2**20:.0f} MB" for f in files) + ".")
        out.append("")
    return "\n".join(out)


def snapshot_table(results: dict) -> str:
    rows = results["snapshot"]
    if not rows:
        return "_Not run._\n"
    setup = {r["server"]: r for r in results["snapshot_setup"]}
    redis = _group(rows, server="redis")
    out = ["| server | used_memory | SAVE s | BGSAVE s | load s | SAVE CPU s | BGSAVE CPU s "
           "(Redis: + child) | file MB | empty start ms | fork ms |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for server in _servers(rows):
        group = _group(rows, server=server)
        cells = []
        for field in ("save_s", "bgsave_s", "load_s"):
            value = _median(group, field)
            ratio = _ratio(value, _median(redis, field)) if server != "redis" and redis else ""
            cells.append(f"{value:.2f}" + (f" ({ratio})" if ratio else ""))
        s = setup.get(server, {})
        fork = _median(group, "fork_us") if server == "redis" else None
        out.append(f"| {server} | {s.get('used_memory', 0) / 2**20:,.0f} MB | "
                   + " | ".join(cells)
                   + f" | {_median(group, 'save_cpu_s'):.2f} | {_median(group, 'bgsave_cpu_s'):.2f}"
                   f" | {_median(group, 'rdb_bytes') / 2**20:,.0f} | "
                   f"{s.get('empty_start_s', 0) * 1000:.0f} | "
                   + (f"{fork / 1000:.1f} |" if fork else "— |"))
    out.append("")
    out.append("Times are medians of the repetitions; (×) is the ratio to Redis's time, below "
               "1 is faster. Load is spawn to first PONG (Redis answers -LOADING until done; "
               "Shoal listens only after loading), DBSIZE checked after it; `empty start` is the "
               "same with nothing to load.")
    return "\n".join(out) + "\n"


def memory_table(results: dict) -> str:
    rows = results["memory"]
    if not rows:
        return "_Not run._\n"
    setup = {r["server"]: r for r in results["memory_setup"]}
    out = ["| server | dataset (used_memory) | RSS under load, no snapshot | peak RSS during "
           "BGSAVE (parent + child) | overhead, RSS sum | peak PSS during BGSAVE | overhead, "
           "PSS | Redis rdb_last_cow_size | BGSAVE s | SETs during it |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for server in _servers(rows):
        group = _group(rows, server=server)
        data = setup[server]["used_memory"]
        over_rss = [(r["peak_rss_kb"] - r["base_rss_kb"]) * 1024 / data for r in group]
        over_pss = [(r["peak_pss_kb"] - r["base_pss_kb"]) * 1024 / data for r in group]
        cow = _median(group, "cow_bytes")
        rss_cell = (f"{_median(group, 'peak_rss_kb') / 2**20:.2f} GiB | "
                    f"{statistics.median(over_rss):.1%} ({min(over_rss):.1%}–"
                    f"{max(over_rss):.1%})")
        out.append(
            f"| {server} | {data / 2**30:.2f} GiB | {_median(group, 'base_rss_kb') / 2**20:.2f}"
            f" GiB | {rss_cell} | {_median(group, 'peak_pss_kb') / 2**20:.2f} GiB | "
            f"{statistics.median(over_pss):.1%} ({min(over_pss):.1%}–{max(over_pss):.1%}) | "
            + (f"{cow / 2**20:,.0f} MB | " if server == "redis" else "— | "))
        out[-1] += (f"{_median(group, 'bgsave_s'):.1f} | {_median(group, 'writes_during'):,.0f} |")
    out.append("")
    out.append("Overhead = (peak during the BGSAVE − peak of the same write load in the second "
               "before it) / used_memory after the fill; median (min–max) of the repetitions. "
               "The RSS sum counts a page Redis's parent and child share twice, so for Redis it "
               "overstates what the machine spends; PSS splits shared pages between the processes "
               "mapping them and is the memory actually used (sampled every 100 ms, RSS every "
               "10 ms). Shoal is one process: its RSS and PSS are the same memory.")
    return "\n".join(out) + "\n"


def latency_table(results: dict) -> str:
    rows = results["latency"]
    if not rows:
        return "_Not run._\n"
    out = ["| server | no snapshot: ops/s | p50 ms | p99 ms | max ms | during BGSAVE: ops/s | "
           "p50 ms | p99 ms | max ms (all reps) | BGSAVE s | share of run | fork ms |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for server in _servers(rows):
        calm, snap = _group(rows, server=server, snapshot=False), _group(rows, server=server,
                                                                        snapshot=True)
        fork = _median(snap, "fork_us") if server == "redis" else None
        out.append(
            f"| {server} | {_median(calm, 'rps'):,.0f} | {_median(calm, 'p50_ms'):.3f} | "
            f"{_median(calm, 'p99_ms'):.3f} | {_median(calm, 'max_ms'):.2f} | "
            f"{_median(snap, 'rps'):,.0f} | {_median(snap, 'p50_ms'):.3f} | "
            f"{_median(snap, 'p99_ms'):.3f} | "
            f"{', '.join(format(r['max_ms'], '.2f') for r in snap)} | "
            f"{_median(snap, 'bgsave_s'):.1f} | {_median(snap, 'snapshot_share'):.0%} | "
            + (f"{fork / 1000:.1f} |" if fork else "— |"))
    out.append("")
    out.append("redis-benchmark `-t get -c 50 -P 1` over the memory part's keys; the BGSAVE "
               "starts 0.3 s into the run, which is sized to outlast it (share of run = "
               "snapshot time / run time). Latencies are redis-benchmark's over the whole run: "
               "its max is the worst single request.")
    return "\n".join(out) + "\n"


def targets(results: dict) -> list:
    """[(target, server, verdict text)] read off the medians."""
    found = []
    aof = results["aof"]
    for pipeline in results["settings"]["pipelines"]:
        for mode in results["settings"]["aof_modes"]:
            base = _group(aof, mode=mode, pipeline=pipeline, server="redis")
            for server in _servers(aof):
                group = _group(aof, mode=mode, pipeline=pipeline, server=server)
                if server == "redis" or not base or not group:
                    continue
                us, base_us = _median(group, "us_per_req"), _median(base, "us_per_req")
                found.append((f"CPU per request ≤ Redis's (SET -P {pipeline}, {mode})", server,
                              f"{'met' if us <= base_us else 'NOT met'}: {us:.2f} vs "
                              f"{base_us:.2f} µs/req"))
                if mode == "always":
                    rps, base_rps = _median(group, "rps"), _median(base, "rps")
                    found.append((f"always-fsync ops/s ≥ Redis's (SET -P {pipeline}, -c 50)",
                                  server, f"{'met' if rps >= base_rps else 'NOT met'}: "
                                  f"{rps:,.0f} vs {base_rps:,.0f}"))
    setup = {r["server"]: r for r in results["memory_setup"]}
    for server in _servers(results["memory"]):
        group = _group(results["memory"], server=server)
        worst = max((r["peak_pss_kb"] - r["base_pss_kb"]) * 1024 for r in group)
        share = worst / setup[server]["used_memory"]
        found.append(("snapshot peak memory overhead < 10% of the dataset (worst rep, PSS)",
                      server, f"{'met' if share < MEMORY_OVERHEAD_LIMIT else 'NOT met'}: "
                      f"{share:.1%}"))
    for server in _servers(results["latency"]):
        worst = max(r["max_ms"] for r in _group(results["latency"], server=server,
                                                snapshot=True))
        found.append(("no latency spike > 10 ms during a snapshot (worst GET of all reps)",
                      server, f"{'met' if worst <= LATENCY_SPIKE_LIMIT_MS else 'NOT met'}: "
                      f"max {worst:.2f} ms"))
    return found


def render(results: dict) -> str:
    st, m, v = results["settings"], results["machine"], results["versions"]
    shoal = v.get("shoal")
    rows = "\n".join(f"| {t} | {s} | {verdict} |" for t, s, verdict in targets(results))
    analysis = "\n".join(results.get("analysis", [])) or "_None written for this run._"
    notes = "\n".join(f"- {n}" for n in results.get("notes", []))
    return f"""# Persistence: Shoal vs Redis (issue 6)

Generated by `bench/persistence.py` on {results['date']}. Reproduce with:

```
{results['command']}
```

How and why: [README.md](README.md#persistence-benchmarks-issue-6). Raw samples:
[RESULTS-persistence.json](RESULTS-persistence.json).

- Machine: {m['nproc']} CPUs ({m['cpu_model']}{', virtual machine' if m['virtualized'] else ''}),
  {m['mem_gib']} GiB, {m['os']}, kernel {m['kernel']}. Data files on {results['data_dir_fs']}.
- {v['redis-server']}; {v['redis-benchmark']}.
- shoal-server: {f"`{shoal['path']}`, sha256 {shoal['sha256']}, repo at {shoal['repo_commit']}"
                 if shoal else 'not run'}.
- Servers pinned to CPUs `{st['server_cpus'] or 'none'}` (Shoal's threads and Redis's fork
  child included), redis-benchmark to `{st['client_cpus'] or 'none'}`. Every server has its own
  directory, `--save ''` and `--auto-aof-rewrite-percentage 0`.
- {st['reps']} repetition(s){' (**quick smoke run: numbers are noisy**)' if st['quick'] else ''};
  medians reported.

## Targets

| target | server | verdict |
|---|---|---|
{rows}

## Analysis

{analysis}

## 1. Append-only file: SET throughput and server CPU per request

`-c {st['clients']} -r {st['keyspace']} -d {st['value_size']} -t set`, -n
{', '.join(f'{n:,} at -P {p}' for p, n in zip(st['pipelines'], st['requests']))}. µs/req is the
server's CPU time (all threads, from schedstat) per request; for Redis it includes its
background fsync thread (everysec). Servers take turns within each repetition, idle ones
frozen (SIGSTOP).

{aof_table(results)}
## 2. Snapshot and load times, {st['snapshot_keys']:,} keys of {st['value_size']} bytes

{snapshot_table(results)}
## 3. Memory during BGSAVE under writes, {st['memory_keys']:,} keys of {st['memory_value_size']} bytes

Write load: redis-benchmark `-t set -r {st['memory_keys']} -d {st['memory_value_size']} -c
{st['clients']} -P {st['memory_pipeline']}` over the same keys for the whole snapshot. One
server at a time.

{memory_table(results)}
## 4. GET latency during a snapshot

{latency_table(results)}
## Notes

{notes}
"""
