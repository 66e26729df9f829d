"""INFO commandstats and latencystats: the same fields and formats as Redis 7.0 after the same
commands, percentiles in order, and CONFIG RESETSTAT clearing both. The numbers themselves are
timings, so only their shape and order are compared."""

import re

from resp import RespConnection

LATENCY = re.compile(r"^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$")


def stats(port, section):
    with RespConnection(port) as c:
        text = c.call("INFO", section).decode()
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def run_workload(port):
    with RespConnection(port) as c:
        c.call("CONFIG", "RESETSTAT")
        for i in range(200):
            c.call("SET", f"k{i}", "v")
            c.call("GET", f"k{i}")
        c.call("LPUSH", "l", "a")
        c.call("HSET", "l", "f", "v")  # WRONGTYPE: a failed call is still timed.


def test_latencystats_match_redis_shape(redis_ref, shoal):
    for server in (redis_ref, shoal):
        run_workload(server.port)
    want, got = stats(redis_ref.port, "latencystats"), stats(shoal.port, "latencystats")
    for cmd in ("set", "get", "lpush", "hset"):
        key = "latency_percentiles_usec_" + cmd
        assert LATENCY.match(want[key]), want[key]
        assert LATENCY.match(got[key]), got[key]
        p50, p99, p999 = (float(x.split("=")[1]) for x in got[key].split(","))
        assert p50 <= p99 <= p999, got[key]


def test_commandstats_counts_and_resetstat(redis_ref, shoal):
    for server in (redis_ref, shoal):
        run_workload(server.port)
    for server in (redis_ref, shoal):
        s = stats(server.port, "commandstats")
        assert s["cmdstat_set"].startswith("calls=200,"), s["cmdstat_set"]
        assert s["cmdstat_hset"].endswith("rejected_calls=0,failed_calls=1"), s["cmdstat_hset"]
        with RespConnection(server.port) as c:
            c.call("CONFIG", "RESETSTAT")
        assert "latency_percentiles_usec_set" not in stats(server.port, "latencystats")
        assert "cmdstat_set" not in stats(server.port, "commandstats")


def test_latencystats_follow_config(redis_ref, shoal):
    for server in (redis_ref, shoal):
        run_workload(server.port)
        with RespConnection(server.port) as c:
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "0 100")
            line = stats(server.port, "latencystats")["latency_percentiles_usec_get"]
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
        assert re.match(r"^p0=\d+\.\d{3},p100=\d+\.\d{3}$", line), (server, line)
