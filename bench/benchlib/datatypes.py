"""The collection cells (LPUSH ... ZRANGEBYSCORE): their command lines, prefill and checks.

Why custom command lines rather than redis-benchmark's built-in -t tests: the built-in list, set
and hash tests send every request to one key (`mylist`, `myset`, `myhash`), so a sharded server
does all their work on one shard, and they leave state that breaks the next test: `-t lpop` on
its own pops an empty list (a nil reply, much cheaper than a pop), `-t spop` drains a set of at
most -r members within a few thousand requests, and `-t lrange_100` first runs a whole
`LPUSH (needed to benchmark LRANGE)` pass of -n requests inside the same process, which would
double the request count the server's CPU time is divided by. ZADD and ZRANGEBYSCORE need
custom lines anyway.

So each collection cell is one custom command line over `keys` collections (`-r keys`, keys
`list:%012d`, `set:...`, `hash:...`, `zset:...`, as __rand_int__ expands them), and before each
run the harness deletes that family's keys and fills every collection with a known number of
elements:

    family  prefill of collection k (elements j = 0 .. per_key-1)
    list    RPUSH list:k  <data> x per_key                  (data = -d bytes of 'x', as LPUSH)
    set     SADD  set:k   element:<BASE + j> ...
    hash    HSET  hash:k  element:<BASE + j> <data> ...
    zset    ZADD  zset:k  <j * step> element:<BASE + j> ...  (step spreads scores over [0, keys))

BASE (10^11) keeps prefilled members apart from the members the run adds (element:<0..keys-1>),
so a run's SADD/HSET/ZADD insert new members until those collide with each other. Pop tests get
enough elements that no collection runs dry (checked: see check()).

After the run, the harness sums LLEN/SCARD/HLEN/ZCARD over the family: for LPUSH, LPOP, SPOP
and the read tests the total is exact, so a wrong request count or a command that did nothing
shows up; for SADD/HSET/ZADD (which may hit an existing member) only bounds can be checked.
"""

import dataclasses
import math

from . import resp

BASE = 10**11  # First prefilled member number: 12 digits, outside any -r range we use.


@dataclasses.dataclass(frozen=True)
class CollectionTest:
    name: str
    family: str  # "list", "set", "hash" or "zset": the key prefix and the type.
    # redis-benchmark's argv after the options. __rand_int__ is redis-benchmark's placeholder
    # (12 digits in [0, -r), drawn anew for each occurrence and request); __data__ is ours,
    # replaced by -d bytes of 'x' before the run.
    command: tuple
    kind: str  # "push" (exact growth), "add" (growth up to -n), "pop" (exact shrink), "read".
    # -n is the cell's request count over this: collection cells are slower than string cells
    # (and there are twice as many), and those with big replies slower still.
    request_divisor: int = 2


TESTS = {t.name: t for t in [
    CollectionTest("lpush", "list", ("LPUSH", "list:__rand_int__", "__data__"), "push"),
    CollectionTest("lpop", "list", ("LPOP", "list:__rand_int__"), "pop"),
    # The first 100 elements, as redis-benchmark's LRANGE_100; replies are ~3.7 kB each.
    CollectionTest("lrange_100", "list", ("LRANGE", "list:__rand_int__", "0", "99"), "read", 6),
    CollectionTest("sadd", "set", ("SADD", "set:__rand_int__", "element:__rand_int__"), "add"),
    CollectionTest("spop", "set", ("SPOP", "set:__rand_int__"), "pop"),
    CollectionTest("hset", "hash",
                   ("HSET", "hash:__rand_int__", "element:__rand_int__", "__data__"), "add"),
    CollectionTest("zadd", "zset",
                   ("ZADD", "zset:__rand_int__", "__rand_int__", "element:__rand_int__"), "add"),
    # A seek to a random score, then the next 10 members: a leaderboard page or a time window.
    CollectionTest("zrangebyscore", "zset",
                   ("ZRANGEBYSCORE", "zset:__rand_int__", "__rand_int__", "+inf", "LIMIT", "0",
                    "10"), "read", 3),
]}

_LEN = {"list": b"LLEN", "set": b"SCARD", "hash": b"HLEN", "zset": b"ZCARD"}


def command(test: str, value_size: int) -> list:
    return [("x" * value_size if a == "__data__" else a) for a in TESTS[test].command]


def csv_label(test: str, value_size: int) -> str:
    """redis-benchmark --csv names a custom command's row by its arguments joined by spaces."""
    return " ".join(command(test, value_size))


def requests(test: str, requests_for_pipeline: int, pipeline: int) -> int:
    """-n for a cell: divided for heavy tests, and a multiple of -P (redis-benchmark issues whole
    pipelines, so any other count would be rounded up by the client, not by us)."""
    n = requests_for_pipeline // TESTS[test].request_divisor
    return max(pipeline, n - n % pipeline)


def per_key(test: str, keys: int, prefill: int, requests_count: int) -> int:
    """Elements per collection before the run. A pop test gets enough that no collection runs
    dry: each key is popped Binomial(n, 1/keys) times, so mean + 6 sigma + 8 is never reached."""
    if TESTS[test].kind != "pop":
        return prefill
    mean = requests_count / keys
    return max(prefill, math.ceil(mean + 6 * math.sqrt(mean) + 8))


def key(family: str, i: int) -> bytes:
    return b"%s:%012d" % (family.encode(), i)


def score_step(keys: int, count: int) -> int:
    """Prefilled scores j * step reach past keys - 1, the largest random ZRANGEBYSCORE minimum."""
    return max(1, math.ceil(keys / max(1, count)))


def _bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def prefill_body(family: str, count: int, keys: int, value_size: int) -> tuple:
    """(argument count, encoded arguments after the key): the same for every collection."""
    data = _bulk(b"x" * value_size)
    members = [_bulk(b"element:%012d" % (BASE + j)) for j in range(count)]
    if family == "list":
        return count, data * count
    if family == "set":
        return count, b"".join(members)
    if family == "hash":
        return 2 * count, b"".join(m + data for m in members)
    step = score_step(keys, count)
    return 2 * count, b"".join(_bulk(b"%d" % (j * step)) + m for j, m in enumerate(members))


_VERB = {"list": b"RPUSH", "set": b"SADD", "hash": b"HSET", "zset": b"ZADD"}


def _pipeline(client: resp.Client, commands, on_reply) -> None:
    """Sends commands in ~1 MB batches; on_reply(i, reply) raises on a wrong reply."""
    batch, size, first = [], 0, 0

    def flush():
        client.send_raw(b"".join(batch))
        for i in range(len(batch)):
            on_reply(first + i, client.read_reply())

    for cmd in commands:
        batch.append(cmd)
        size += len(cmd)
        if size > 1 << 20:
            flush()
            first += len(batch)
            batch, size = [], 0
    if batch:
        flush()


def delete(client: resp.Client, family: str, keys: int) -> None:
    """Deletes the family's keys, 100 per DEL."""
    groups = [[key(family, i) for i in range(lo, min(lo + 100, keys))]
              for lo in range(0, keys, 100)]
    _pipeline(client, [resp.encode(b"DEL", *g) for g in groups], lambda i, r: None)


def setup(client: resp.Client, test: str, keys: int, count: int, value_size: int) -> None:
    """Deletes the test's family and fills each of its `keys` collections with `count` elements."""
    family = TESTS[test].family
    delete(client, family, keys)
    argc, body = prefill_body(family, count, keys, value_size)
    verb = _VERB[family]

    def commands():
        for i in range(keys):
            k = key(family, i)
            yield b"*%d\r\n%s%s%s" % (argc + 2, _bulk(verb), _bulk(k), body)

    def want_count(i, reply):
        if reply != count:
            raise RuntimeError(f"prefill of {key(family, i).decode()}: {verb.decode()} "
                               f"replied {reply!r}, expected {count}")

    _pipeline(client, commands(), want_count)


def total(client: resp.Client, test: str, keys: int) -> int:
    """Sum of the family's collection sizes (LLEN/SCARD/HLEN/ZCARD over all its keys)."""
    family = TESTS[test].family
    sizes = []

    def add_size(i, reply):
        if not isinstance(reply, int):
            raise RuntimeError(f"{_LEN[family].decode()} {key(family, i).decode()} replied "
                               f"{reply!r}")
        sizes.append(reply)

    _pipeline(client, (resp.encode(_LEN[family], key(family, i)) for i in range(keys)), add_size)
    return sum(sizes)


def check(test: str, keys: int, count: int, requests_count: int, got: int):
    """None if `got` (total() after the run) is what the run should have left, else why not."""
    kind, before = TESTS[test].kind, keys * count
    want = {"push": before + requests_count, "pop": before - requests_count,
            "read": before}.get(kind)
    if want is not None:
        return None if got == want else (f"{got:,} elements after the run, expected {want:,} "
                                         f"({before:,} prefilled, {requests_count:,} requests)")
    if before < got <= before + requests_count:
        return None
    return (f"{got:,} elements after the run, expected more than {before:,} and at most "
            f"{before + requests_count:,}")


def encoding(client: resp.Client, test: str):
    """OBJECT ENCODING of the family's first collection, or None if the server cannot say."""
    try:
        reply = client.call("OBJECT", "ENCODING", key(TESTS[test].family, 0))
    except resp.RespError:
        return None
    return reply.decode() if isinstance(reply, bytes) else reply
