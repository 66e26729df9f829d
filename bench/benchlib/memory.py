"""Memory per key and per element: load deterministic data into a fresh server and compare
used_memory and VmRSS before and after.

Data is written by this module rather than by redis-benchmark (whose -r draws random keys, so
1M requests give fewer than 1M distinct keys) or by `redis-cli --pipe` (which needs ECHO to find
the end of the stream and would hang on a server without it). Every reply is checked.

Strings, one command per key i in [0, N):
    SET key:%012d <value>   value := "val:%012d:" padded with 'x' to the value size

Collections (family list, hash, set, zset), two shapes:
    big    one key `big` with N elements i in [0, N), 1000 per command:
           RPUSH big v:<i> ... | HSET big f:<i> v:<i> ... | SADD big m:<i> ... | ZADD big <i> m:<i> ...
    small  N keys key:%012d, each with the same 5 elements i in [0, 5), one command per key
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


FAMILIES = ("list", "hash", "set", "zset")
SHAPES = ("big", "small")
SMALL_SIZE = 5  # Elements per key in the `small` shape.
_BIG_BATCH = 1000  # Elements per command in the `big` shape.
_VERB = {"list": b"RPUSH", "hash": b"HSET", "set": b"SADD", "zset": b"ZADD"}


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def element_args(family: str, i: int) -> list:
    """The arguments that add element i: v:<i> | f:<i> v:<i> | m:<i> | <i> m:<i>."""
    if family == "list":
        return [b"v:%d" % i]
    if family == "hash":
        return [b"f:%d" % i, b"v:%d" % i]
    if family == "set":
        return [b"m:%d" % i]
    return [b"%d" % i, b"m:%d" % i]


def collection_commands(family: str, shape: str, count: int):
    """Yields (command bytes, expected reply bytes) that build the shape with `count` elements
    (big) or keys (small). RPUSH replies with the list's new length, the others with the number
    of elements added."""
    verb = _VERB[family]
    if shape == "big":
        for lo in range(0, count, _BIG_BATCH):
            hi = min(lo + _BIG_BATCH, count)
            args = [a for i in range(lo, hi) for a in element_args(family, i)]
            cmd = resp.encode(verb, b"big", *args)
            yield cmd, b":%d\r\n" % (hi if family == "list" else hi - lo)
        return
    args = [a for i in range(SMALL_SIZE) for a in element_args(family, i)]
    # One template per key: only the key's number changes ("%%" keeps RESP's bytes literal).
    head = (b"*%d\r\n" % (len(args) + 2) + _bulk(verb)).replace(b"%", b"%%")
    tail = b"".join(_bulk(a) for a in args).replace(b"%", b"%%")
    template = head + b"$" + str(len(key(0))).encode() + b"\r\nkey:%012d\r\n" + tail
    reply = b":%d\r\n" % SMALL_SIZE
    for i in range(count):
        yield template % i, reply


def load_commands(client: resp.Client, commands, batch_bytes: int = 1 << 20) -> None:
    """Sends (command, expected reply) pairs in ~1 MB batches; raises on any other reply."""
    cmds, wants, size, done = [], [], 0, 0

    def flush():
        client.send_raw(b"".join(cmds))
        want = b"".join(wants)
        got = client.read_exact(len(want))
        if got != want:
            pairs = zip(got.split(b"\r\n"), want.split(b"\r\n"))
            index, (bad, good) = next((i, p) for i, p in enumerate(pairs) if p[0] != p[1])
            raise RuntimeError(f"command {done + index} replied {bad[:100]!r}, expected "
                               f"{good!r}")

    for cmd, want in commands:
        cmds.append(cmd)
        wants.append(want)
        size += len(cmd)
        if size >= batch_bytes or len(cmds) >= 10_000:
            flush()
            done += len(cmds)
            cmds, wants, size = [], [], 0
    if cmds:
        flush()


def _encoding(client: resp.Client, key: bytes):
    try:
        reply = client.call("OBJECT", "ENCODING", key)
    except resp.RespError:
        return None
    return reply.decode() if isinstance(reply, bytes) else reply


def _measure(spec: servers.ServerSpec, log_dir, load_fn, probe_key: bytes) -> dict:
    """Starts a fresh server for `spec`, runs load_fn(client), stops it; returns the readings."""
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
            load_fn(client)
            load_s = time.monotonic() - start
            time.sleep(0.5)  # Lets incremental rehashing and background work settle.
            used_after, rss_after = _used_memory(client), server.rss_bytes()
            dbsize = _dbsize(client)
            encoding = _encoding(client, probe_key)
    finally:
        server.stop()
    return {
        "server": spec.name,
        "dbsize": dbsize,
        "encoding": encoding,
        "used_memory_before": used_before,
        "used_memory_after": used_after,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "load_s": load_s,
    }


def _per(row: dict, before: str, after: str, count: int):
    if row[before] is None or row[after] is None or not count:
        return None
    return (row[after] - row[before]) / count


def measure(spec: servers.ServerSpec, log_dir, count: int, value_size: int) -> dict:
    """Strings: `count` keys with `value_size`-byte values in a fresh server. One memory row."""
    row = _measure(spec, log_dir, lambda client: load(client, count, value_size), key(0))
    row.update({
        "keys": count,
        "value_size": value_size,
        "used_bytes_per_key": _per(row, "used_memory_before", "used_memory_after", count),
        "rss_bytes_per_key": _per(row, "rss_before", "rss_after", count),
    })
    return row


def measure_collections(specs: list, log_dir, family: str, shape: str, count: int,
                        settle: float) -> tuple:
    """One collection row per server: `count` elements in one key (big) or `count` keys of
    SMALL_SIZE (small). Returns (rows, {server name: error}).

    The servers run side by side so that they share one `settle` wait between loading and the
    final readings: jemalloc returns freed pages (an outgrown hash table, say) to the kernel
    only after a decay time (10 s by default), so VmRSS read right after a load still counts
    memory the process no longer uses. The figure read right after the load is kept too.
    """
    keys, elements = (1, count) if shape == "big" else (count, count * SMALL_SIZE)
    probe = b"big" if shape == "big" else key(0)
    running, rows, errors = [], [], {}
    try:
        for spec in specs:
            try:
                server = servers.Server(spec, log_dir).start()
            except servers.ServerStartError as err:
                errors[spec.name] = str(err)
                continue
            running.append(server)
            with server.client() as client:
                try:
                    client.call("FLUSHALL")
                except resp.RespError:
                    pass  # A fresh server is empty anyway.
                time.sleep(0.2)
                row = {"server": spec.name, "family": family, "shape": shape, "keys": keys,
                       "elements": elements, "used_memory_before": _used_memory(client),
                       "rss_before": server.rss_bytes()}
                start = time.monotonic()
                try:
                    load_commands(client, collection_commands(family, shape, count))
                except (RuntimeError, OSError, resp.RespError, resp.ProtocolError) as err:
                    errors[spec.name] = str(err)
                    continue
                row["load_s"] = time.monotonic() - start
                time.sleep(0.5)
                row["rss_loaded"] = server.rss_bytes()
                rows.append((server, row))
        if rows:
            time.sleep(settle)
        for server, row in rows:
            with server.client() as client:
                row.update({"used_memory_after": _used_memory(client),
                            "rss_after": server.rss_bytes(), "dbsize": _dbsize(client),
                            "encoding": _encoding(client, probe), "settle_s": settle})
            for what, count_ in (("element", elements), ("key", keys)):
                row[f"used_bytes_per_{what}"] = _per(row, "used_memory_before",
                                                     "used_memory_after", count_)
                row[f"rss_bytes_per_{what}"] = _per(row, "rss_before", "rss_after", count_)
            row["rss_loaded_bytes_per_element"] = _per(row, "rss_before", "rss_loaded",
                                                       elements)
    finally:
        for server in running:
            server.stop()
    return [row for _, row in rows], errors
