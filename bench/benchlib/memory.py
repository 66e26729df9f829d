"""Memory per key: load N deterministic keys into a fresh server and compare before and after.

Keys are written by this module rather than by redis-benchmark (whose -r draws random keys, so
1M requests give fewer than 1M distinct keys) or by `redis-cli --pipe` (which needs ECHO to find
the end of the stream and would hang on a server without it). Every reply is checked.

Stream format, one command per key i in [0, N):
    SET key:%012d <value>   value := "val:%012d:" padded with 'x' to the value size
"""

import time

from . import resp, servers

_BATCH = 1000  # Commands in flight per round trip; replies are 5 bytes ("+OK\r\n") each.


def key(i: int) -> bytes:
    return b"key:%012d" % i


def value(i: int, size: int) -> bytes:
    head = b"val:%012d:" % i
    return (head + b"x" * size)[:size]


def _batch(start: int, stop: int, size: int) -> bytes:
    return b"".join(resp.encode(b"SET", key(i), value(i, size)) for i in range(start, stop))


def load(client: resp.Client, count: int, size: int) -> None:
    """Sends SET for keys [0, count) in pipelined batches; raises on any reply but +OK."""
    for start in range(0, count, _BATCH):
        stop = min(start + _BATCH, count)
        client.send_raw(_batch(start, stop, size))
        want = b"+OK\r\n" * (stop - start)
        got = client.read_exact(len(want))
        if got != want:
            bad = got.split(b"\r\n")
            first = next((line for line in bad if line != b"+OK"), got[:200])
            raise RuntimeError(f"loading keys {start}..{stop - 1}: "
                               f"unexpected reply {first[:200]!r}")


def _used_memory(client: resp.Client):
    try:
        return int(resp.parse_info(client.call("INFO", "memory"))["used_memory"])
    except (resp.RespError, KeyError, ValueError):
        return None  # Reported as n/a: VmRSS still says what the process holds.


def _dbsize(client: resp.Client):
    try:
        return client.call("DBSIZE")
    except resp.RespError:
        return None


def measure(spec: servers.ServerSpec, log_dir, count: int, value_size: int) -> dict:
    """Starts a fresh server for `spec`, loads `count` keys, stops it. Returns one memory row."""
    server = servers.Server(spec, log_dir).start()
    try:
        with server.client() as client:
            try:
                client.call("FLUSHALL")
            except resp.RespError:
                pass  # A fresh server is empty anyway.
            time.sleep(0.2)
            used_before, rss_before = _used_memory(client), server.rss_bytes()
            start = time.monotonic()
            load(client, count, value_size)
            load_s = time.monotonic() - start
            time.sleep(0.2)
            used_after, rss_after = _used_memory(client), server.rss_bytes()
            dbsize = _dbsize(client)
    finally:
        server.stop()
    def per_key(before, after):
        return None if before is None or after is None else (after - before) / count

    return {
        "server": spec.name,
        "keys": count,
        "value_size": value_size,
        "dbsize": dbsize,
        "used_memory_before": used_before,
        "used_memory_after": used_after,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "used_bytes_per_key": per_key(used_before, used_after),
        "rss_bytes_per_key": per_key(rss_before, rss_after),
        "load_s": load_s,
    }
