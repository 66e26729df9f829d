"""Support for the RDB persistence tests: servers with an RDB file, a dataset, a comparator.

- `make_server(kind, ...)` (or the `launch` fixture) makes a redis-server or shoal-server with
  `--dir <its workdir> --dbfilename dump.rdb --save <save>`: restarting it reloads that file.
- `fill(server, seed)` writes a deterministic dataset holding every type and every encoding both
  servers have, in databases 0, 1 and 5, with TTLs (far ahead, absolute, soon).
- `read_keyspace(server)` reads every key of every database through commands (SCAN, TYPE, OBJECT
  ENCODING, PEXPIRETIME, content by type); `diff_keyspaces(a, b)` lists the differences.

Under SHOAL_BIN=redis (the harness self-test) the kind "shoal" is a second redis-server, which
proves that what these tests expect is Redis's behaviour.
"""

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

import servers

RDB_NAME = "dump.rdb"
DATABASES = 16  # Both servers' default; every one is read, so a key loaded into the wrong db shows.
TTL_TOLERANCE_MS = 2000
FAR_PEXPIRE_MS = 10**9  # About 11.6 days.
FIXED_PEXPIREAT_MS = 4102444800000  # 2100-01-01, an absolute deadline (EXPIREAT/PEXPIREAT).

# Sanitizer builds (ctest sets SHOAL_SANITIZER) run several times slower: scale the deadlines.
SLOWDOWN = 4.0 if os.environ.get("SHOAL_SANITIZER") else 1.0


# ---------------------------------------------------------------------------------------------
# Servers


def server_argv(kind: str, port: int, workdir: Path, save, threads=None, extra=()) -> list:
    """The command line of a server keeping its RDB file at <workdir>/dump.rdb. `save` is the
    --save value ("" for none); None leaves the option out (the server's default save points)."""
    persistence = ["--dir", str(workdir), "--dbfilename", RDB_NAME]
    if save is not None:
        persistence += ["--save", save]
    if kind == "redis" or servers.is_self_test():
        return [servers.redis_server_bin(), "--port", str(port), "--bind", "127.0.0.1",
                "--appendonly", "no", "--daemonize", "no", *persistence, *extra]
    binary = os.path.abspath(servers.shoal_bin())  # Servers run in their own directory.
    if not os.access(binary, os.X_OK):
        raise FileNotFoundError(f"no executable Shoal binary at {binary}: build it, set SHOAL_BIN, "
                                f"or set SHOAL_BIN=redis to self-test the harness")
    threads = str(threads or os.environ.get("SHOAL_THREADS", "2"))
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--threads", threads,
            "--http-port", "0", *persistence, *extra]


def make_server(kind: str, save="", threads=None, extra=()) -> servers.ServerProcess:
    """A server (not started) of `kind` ("redis" or "shoal") with its RDB file in its workdir.
    Put a file at rdb_path(server) before start() to have it loaded. `server.options` (save,
    threads, extra) is read at every start, so a restart may change them."""
    name = kind if kind == "redis" or not servers.is_self_test() else "shoal-as-redis"
    server = None

    def argv(port, workdir):
        return server_argv(kind, port, workdir, **server.options)
    server = servers.ServerProcess(name, argv)
    server.options = {"save": save, "threads": threads, "extra": tuple(extra)}
    return server


@pytest.fixture
def launch():
    """launch(kind, **make_server options) -> a new server, not started; all are stopped and
    removed at the end of the test. Their logs are printed then (pytest shows them on failure)."""
    made = []

    def factory(kind: str, **options) -> servers.ServerProcess:
        if kind == "shoal" and not servers.is_self_test():
            binary = os.path.abspath(servers.shoal_bin())
            if not os.access(binary, os.X_OK):
                pytest.fail(f"no executable Shoal binary at {binary}: build it, set SHOAL_BIN, "
                            f"or set SHOAL_BIN=redis to self-test the harness", pytrace=False)
        server = make_server(kind, **options)
        made.append(server)
        return server
    yield factory
    for server in made:
        print(f"--- {server.name} log ({server.workdir}) ---\n{server.log_tail(limit=4000)}")
        server.cleanup()


def rdb_path(server: servers.ServerProcess) -> Path:
    return server.workdir / RDB_NAME


def client(server: servers.ServerProcess, db: int = 0, timeout: float = 30.0) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=server.port, db=db, socket_timeout=timeout)


def start(server: servers.ServerProcess, timeout: float = 30.0):
    """Starts `server` and waits until it has loaded its file: redis-server accepts connections
    while it loads, and replies -LOADING until it is done."""
    server.start()
    c = client(server)
    deadline = time.monotonic() + timeout * SLOWDOWN
    while True:
        try:
            c.ping()
            break
        except redis.BusyLoadingError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{server.name} still loading after {timeout}s")
            time.sleep(0.02)
    c.close()


def kill9(server: servers.ServerProcess):
    """SIGKILL: no shutdown code runs, as in a crash or a power cut of the process."""
    if server.is_running():
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait()


def stop_with(server: servers.ServerProcess, sig=signal.SIGTERM, timeout: float = 30.0) -> int:
    """Sends `sig` and waits for the exit; returns the exit code."""
    server.proc.send_signal(sig)
    return server.proc.wait(timeout * SLOWDOWN)


def shutdown(server: servers.ServerProcess, *args, timeout: float = 30.0) -> int:
    """SHUTDOWN [args]: the connection closes without a reply on success; returns the exit code."""
    c = client(server)
    try:
        reply = c.execute_command("SHUTDOWN", *args)
        raise AssertionError(f"{server.name}: SHUTDOWN {' '.join(args)} replied {reply!r} "
                             f"instead of exiting")
    except redis.ConnectionError:
        pass
    finally:
        c.close()
    return server.proc.wait(timeout * SLOWDOWN)


def info_section(c: redis.Redis, section: str) -> list:
    """INFO <section> as an ordered list of (field, value) string pairs. `c`: a raw_client."""
    text = c.execute_command("INFO", section)
    assert isinstance(text, bytes), "info_section needs a raw_client"
    text = text.decode()
    pairs = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        field, _, value = line.partition(":")
        pairs.append((field, value))
    return pairs


def info_field(c: redis.Redis, field: str) -> str:
    return dict(info_section(c, "persistence"))[field]


def wait_bgsave_done(c: redis.Redis, since_lastsave: int, timeout: float = 30.0) -> float:
    """Polls until no background save runs and LASTSAVE moved past `since_lastsave`; returns how
    long that took. Fails if the save ended with an error status."""
    start = time.monotonic()
    deadline = start + timeout * SLOWDOWN
    while time.monotonic() < deadline:
        persistence = dict(info_section(c, "persistence"))
        if persistence["rdb_bgsave_in_progress"] == "0" and lastsave(c) > since_lastsave:
            assert persistence["rdb_last_bgsave_status"] == "ok", persistence
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError(f"the background save did not finish within {timeout}s: "
                         f"{dict(info_section(c, 'persistence'))}")


def wait_saves(c: redis.Redis, count: int, timeout: float = 30.0):
    """Polls until INFO persistence counts `count` saves (rdb_saves) and none runs."""
    deadline = time.monotonic() + timeout * SLOWDOWN
    while time.monotonic() < deadline:
        persistence = dict(info_section(c, "persistence"))
        if int(persistence["rdb_saves"]) >= count and persistence["rdb_bgsave_in_progress"] == "0":
            assert persistence["rdb_last_bgsave_status"] == "ok", persistence
            return
        time.sleep(0.02)
    raise AssertionError(f"rdb_saves did not reach {count} within {timeout}s: {persistence}")


def lastsave(c: redis.Redis) -> int:
    """LASTSAVE as an int (redis-py's lastsave() turns it into a datetime)."""
    return int(c.execute_command("LASTSAVE"))


def wait_next_second(after: int):
    """Sleeps until the Unix time (s) exceeds `after`, so that the next save moves LASTSAVE."""
    while int(time.time()) <= after:
        time.sleep(0.02)


@dataclass
class StartOutcome:
    """What a server did with its start-up: came up (`returncode` None) or exited."""
    returncode: object
    stdout: str
    stderr: str

    def describe(self) -> str:
        state = "started" if self.returncode is None else f"exited with code {self.returncode}"
        return (f"{state}\n--- stdout ---\n{self.stdout[-3000:]}\n"
                f"--- stderr ---\n{self.stderr[-3000:]}")


def try_start(kind: str, workdir: Path, extra=(), timeout: float = 15.0) -> StartOutcome:
    """Starts a server on `workdir`'s dump.rdb and waits until it either accepts connections or
    exits. A server that came up is asked for DBSIZE of db 0 (in `stdout`) and stopped."""
    port = servers.free_port()
    argv = server_argv(kind, port, workdir, "", extra=extra)
    out_path, err_path = workdir / f"{kind}.stdout", workdir / f"{kind}.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=workdir)
    deadline = time.monotonic() + timeout * SLOWDOWN
    started = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
            c.ping()
            started = True
            break
        except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
            time.sleep(0.02)
    if started:
        note = f"(came up; DBSIZE {c.dbsize()})"
        c.close()
        proc.terminate()
        proc.wait(10)
        return StartOutcome(None, out_path.read_text(errors="replace") + note,
                            err_path.read_text(errors="replace"))
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{argv} neither came up nor exited within {timeout}s")
    return StartOutcome(proc.returncode, out_path.read_text(errors="replace"),
                        err_path.read_text(errors="replace"))


# ---------------------------------------------------------------------------------------------
# RDB file bytes


def _crc64_table() -> list:
    poly = 0x95AC9329AC4BC9B5  # Jones polynomial 0xad93d23594c935a9, bit-reflected.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC64_TABLE = _crc64_table()


def crc64(data: bytes) -> int:
    """Redis's CRC-64 (Jones, reflected, init 0): the checksum at the end of an RDB file."""
    crc = 0
    for byte in data:
        crc = _CRC64_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def with_valid_checksum(body: bytes) -> bytes:
    """`body` (an RDB file without its last 8 bytes) followed by its correct checksum: lets a test
    change the header and have the version check, not the checksum, judge the file."""
    return body + crc64(body).to_bytes(8, "little")


# ---------------------------------------------------------------------------------------------
# The dataset


def _printable(rng: random.Random, n: int) -> bytes:
    return bytes(rng.randrange(33, 127) for _ in range(n))


def dataset_commands(seed: int, bulk_keys: int = 2000) -> dict:
    """{db: [command tuple, ...]}: the whole dataset, deterministic from `seed`. Each group of keys
    targets one encoding of Redis 7.0 (named in the key); `bulk_keys` small strings and hashes
    spread the keyspace over all of Shoal's shards."""
    rng = random.Random(seed)
    cmds = {0: [], 1: [], 5: []}
    c0 = cmds[0]

    # Strings: int, embstr (<= 44 bytes), raw, binary, empty, long, LZF-compressible.
    c0 += [("SET", "str:int:small", "42"), ("SET", "str:int:neg", "-12345"),
           ("SET", "str:int:max", str(2**63 - 1)), ("SET", "str:int:min", str(-2**63)),
           ("SET", "str:int:shared", "7"), ("SET", "str:notint:big", str(2**64)),
           ("SET", "str:notint:lead0", "007"), ("SET", "str:notint:float", "3.14"),
           ("SET", "str:empty", ""), ("INCRBY", "str:int:incr", 1_000_000_007)]
    c0.append(("SET", "str:embstr", _printable(rng, 44)))
    c0.append(("SET", "str:embstr:short", _printable(rng, 3)))
    c0.append(("SET", "str:raw", _printable(rng, 45)))
    c0.append(("SET", "str:raw:200", _printable(rng, 200)))
    c0.append(("SET", "str:binary", bytes([0, 255, 128, 0, 10, 13, 0x80, 0xfe]) +
               bytes(rng.randrange(256) for _ in range(120))))
    c0.append(("SET", "str:binary:short", b"\x00\xff\x00"))
    c0.append(("SET", "str:long:random", rng.randbytes(100 * 1024)))
    c0.append(("SET", "str:lzf:small", b"abcd" * 6))  # 24 bytes: just past LZF's 20-byte floor.
    c0.append(("SET", "str:lzf:raw", b"repetitive-" * 40))
    c0.append(("SET", "str:lzf:long", (b"0123456789abcdef" * 64 + _printable(rng, 16)) * 100))
    c0.append(("SET", b"key:binary:\x00\xff\r\n", "a key name with NUL, 0xff and CRLF"))

    # Lists (Redis 7.0 reports quicklist for all): small, integer elements, many nodes, big nodes.
    c0.append(("RPUSH", "list:small", "a", "bb", "", "ccc"))
    c0.append(("RPUSH", "list:ints", "0", "-1", "127", "128", "-32768", "65536",
               str(2**31), str(2**63 - 1), str(-2**63), "12345678901234567890", "1.5"))
    c0.append(("RPUSH", "list:multinode", *[_printable(rng, rng.randrange(20, 60))
                                            for _ in range(2000)]))
    c0.append(("RPUSH", "list:bigelements", *[_printable(rng, 9000) for _ in range(3)]))
    c0.append(("RPUSH", "list:lzf", *[b"same-element-%d" % (i % 3) for i in range(1500)]))
    c0.append(("LPUSH", "list:lpush", *[str(i) for i in range(300)]))

    # Sets: intset with int16 / int32 / int64 members, hashtable, mixed, past the intset limit.
    c0.append(("SADD", "set:int16", "1", "-2", "300", "-32768", "32767"))
    c0.append(("SADD", "set:int32", "1", "70000", "-2147483648", "2147483647"))
    c0.append(("SADD", "set:int64", "1", str(2**40), str(-2**63), str(2**63 - 1)))
    c0.append(("SADD", "set:hashtable",
               *[_printable(rng, rng.randrange(1, 30)) for _ in range(20)]))
    c0.append(("SADD", "set:mixed", "1", "2", "three", "4", b"\x00bin"))
    c0.append(("SADD", "set:ints:past_intset_limit",
               *[str(rng.randrange(-10**6, 10**6)) for _ in range(600)]))
    c0.append(("SADD", "set:hashtable:big", *[b"m%d" % i for i in range(1000)]))

    # Sorted sets: listpack (<= 128 members, <= 64 bytes each), skiplist; awkward scores.
    c0.append(("ZADD", "zset:small", "inf", "pinf", "-inf", "ninf", "0.5", "half", "-2.25",
               "neg", "1e300", "huge", "0", "zero", "3", "three", "-0.1", "tenth"))
    c0.append(("ZADD", "zset:ties", *[x for i in range(10) for x in ("1", f"tie{9 - i}")]))
    c0.append(("ZADD", "zset:skiplist", *[x for i in range(300)
                                          for x in (repr(rng.uniform(-1e6, 1e6)), f"m{i}")]))
    c0.append(("ZADD", "zset:longmember", "1", "short", "2", _printable(rng, 100)))
    c0.append(("ZADD", "zset:skiplist:inf", "inf", "a", "-inf", "b", "1e-300", "c",
               *[x for i in range(200) for x in (str(i * 0.001), f"n{i}")]))

    # Hashes: listpack, hashtable by count (> 512), hashtable by value size (> 64), integer values.
    c0.append(("HSET", "hash:small", "f1", "v1", "f2", "", "num", "123", "neg", "-5"))
    c0.append(("HSET", "hash:hashtable", *[x for i in range(600)
                                           for x in (f"field{i}", _printable(rng, 10))]))
    c0.append(("HSET", "hash:bigvalue", "a", "1", "big", _printable(rng, 200)))
    c0.append(("HSET", "hash:bigfield", _printable(rng, 100), "v"))
    c0.append(("HSET", "hash:binary", b"\x00f", b"\xff\x00v", "int", str(2**62)))

    # HyperLogLog: sparse (few elements), dense (past hll-sparse-max-bytes), empty.
    c0.append(("PFADD", "hll:sparse", *[f"e{i}" for i in range(20)]))
    c0.append(("PFADD", "hll:empty"))
    for start in range(0, 6000, 1000):
        c0.append(("PFADD", "hll:dense", *[f"d{i}" for i in range(start, start + 1000)]))

    # Bitmaps: scattered bits (long, mostly zeros: compressible), a dense short one.
    for offset in (0, 7, 1000, 4095, 100_000, 800_000):
        c0.append(("SETBIT", "bitmap:sparse", offset, 1))
    for offset in range(0, 300, 3):
        c0.append(("SETBIT", "bitmap:dense", offset, 1))

    # TTLs: far ahead (relative and absolute), on every type; a few that expire soon.
    for t in ("str", "list", "set", "zset", "hash"):
        key = f"ttl:far:{t}"
        c0.append({"str": ("SET", key, "v"), "list": ("RPUSH", key, "a", "b"),
                   "set": ("SADD", key, "1", "x"), "zset": ("ZADD", key, "1", "a"),
                   "hash": ("HSET", key, "f", "v")}[t])
        c0.append(("PEXPIRE", key, FAR_PEXPIRE_MS + rng.randrange(1000)))
    c0 += [("SET", "ttl:at", "v"), ("PEXPIREAT", "ttl:at", FIXED_PEXPIREAT_MS),
           ("SET", "ttl:at:s", "v"), ("EXPIREAT", "ttl:at:s", FIXED_PEXPIREAT_MS // 1000 + 1),
           ("SET", "ttl:ex", "v", "EX", "86400")]
    for i in range(5):
        c0 += [("SET", f"ttl:soon:{i}", "v"), ("PEXPIRE", f"ttl:soon:{i}", 300 + 700 * i)]

    # Bulk: many small keys, so that every shard of a multi-threaded Shoal owns some.
    for i in range(bulk_keys):
        c0.append(("SET", f"bulk:str:{i}", f"value-{i}-{rng.randrange(10**9)}"))
        if i % 4 == 0:
            c0.append(("HSET", f"bulk:hash:{i}", "n", str(i), "s", _printable(rng, 8)))
        if i % 7 == 0:
            c0.append(("RPUSH", f"bulk:list:{i}", str(i), "x"))

    # Other databases: some names equal to db 0's with other values, so a mix-up shows.
    cmds[1] += [("SET", "str:int:small", "db1"), ("RPUSH", "list:small", "db1"),
                ("ZADD", "zset:small", "1", "db1"), ("SET", "only:db1", _printable(rng, 50)),
                ("SET", "ttl:far:str", "db1"), ("PEXPIRE", "ttl:far:str", FAR_PEXPIRE_MS)]
    cmds[5] += [("HSET", "hash:small", "db", "5"), ("SADD", "set:int16", "5"),
                ("SET", "only:db5", "5"), ("PFADD", "hll:sparse", "five")]
    return cmds


def fill(server: servers.ServerProcess, seed: int, bulk_keys: int = 2000):
    """Writes the dataset of `seed` into `server` (pipelined; every reply checked)."""
    for db, commands in dataset_commands(seed, bulk_keys).items():
        c = client(server, db)
        for start in range(0, len(commands), 500):
            pipe = c.pipeline(transaction=False)
            for cmd in commands[start:start + 500]:
                pipe.execute_command(*cmd)
            pipe.execute()  # Raises on the first error reply.
        c.close()


# ---------------------------------------------------------------------------------------------
# Reading and comparing keyspaces


@dataclass
class KeyState:
    type: str
    encoding: str
    expire_at: int  # PEXPIRETIME: the absolute deadline in Unix ms, -1 for none.
    value: object  # bytes, a list, or a sorted list, by type.


def _content_command(key_type: str, key: bytes):
    return {"string": ("GET", key), "list": ("LRANGE", key, 0, -1), "set": ("SMEMBERS", key),
            "zset": ("ZRANGE", key, 0, -1, "WITHSCORES"), "hash": ("HGETALL", key)}.get(key_type)


def _normalize(key_type: str, value):
    if key_type == "set":
        return sorted(value)
    if key_type == "hash":
        return sorted(zip(value[::2], value[1::2]))
    return value


def raw_client(server: servers.ServerProcess, db: int = 0) -> redis.Redis:
    """A client without redis-py's reply conversions: replies arrive as RESP gives them."""
    c = client(server, db)
    c.response_callbacks = {}
    return c


def read_db(c: redis.Redis) -> dict:
    """{key: KeyState} for the selected database of the raw_client `c`. A key that vanishes while
    it is read (expiry) is left out."""
    keys, cursor = {}, b"0"
    while True:
        cursor, batch = c.execute_command("SCAN", cursor, "COUNT", 1000)
        keys.update(dict.fromkeys(batch))  # SCAN may return a key twice.
        if cursor == b"0":
            break
    keys = list(keys)
    result = {}
    for start in range(0, len(keys), 500):
        batch = keys[start:start + 500]
        pipe = c.pipeline(transaction=False)
        for key in batch:
            pipe.execute_command("TYPE", key)
            pipe.execute_command("OBJECT", "ENCODING", key)
            pipe.execute_command("PEXPIRETIME", key)
        meta = pipe.execute(raise_on_error=False)
        pipe = c.pipeline(transaction=False)
        typed = []
        for i, key in enumerate(batch):
            key_type = meta[3 * i].decode() if isinstance(meta[3 * i], bytes) else str(meta[3 * i])
            cmd = _content_command(key_type, key)
            if cmd is None:
                continue  # "none": expired between SCAN and TYPE.
            typed.append((key, key_type, meta[3 * i + 1], meta[3 * i + 2]))
            pipe.execute_command(*cmd)
        values = pipe.execute(raise_on_error=False)
        for (key, key_type, encoding, expire_at), value in zip(typed, values):
            if isinstance(value, Exception):
                raise AssertionError(f"reading {key!r} ({key_type}) failed: {value}")
            if expire_at == -2 or value is None or (key_type != "string" and not value):
                continue  # Expired after TYPE.
            encoding = encoding.decode() if isinstance(encoding, bytes) else str(encoding)
            result[key] = KeyState(key_type, encoding, expire_at, _normalize(key_type, value))
    return result


def read_keyspace(server: servers.ServerProcess) -> dict:
    """{db: {key: KeyState}} over all databases that hold keys."""
    keyspace = {}
    for db in range(DATABASES):
        c = raw_client(server, db)
        if c.execute_command("DBSIZE"):
            keyspace[db] = read_db(c)
        c.close()
    return keyspace


def short_repr(value, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value)} items/bytes)"


def _value_difference(a, b) -> str:
    if isinstance(a, bytes) and isinstance(b, bytes):
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        return (f"lengths {len(a)} vs {len(b)}, first difference at byte {first}: "
                f"{short_repr(a[first:first + 40])} vs {short_repr(b[first:first + 40])}")
    if isinstance(a, list) and isinstance(b, list):
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        return (f"{len(a)} vs {len(b)} items, first difference at item {first}: "
                f"{short_repr(a[first:first + 3])} vs {short_repr(b[first:first + 3])}")
    return f"{short_repr(a)} vs {short_repr(b)}"


EMBSTR_LIMIT = 44  # Redis keeps strings up to this size in one allocation ("embstr").


def _encoding_differs(a: KeyState, b: KeyState, b_reloaded: bool) -> bool:
    if a.encoding == b.encoding:
        return False
    # A reload re-packs a short string that was "raw" (SETBIT, APPEND, PFADD made it so):
    # redis-server reports it "embstr" (or "int") after loading it from a file.
    return not (b_reloaded and a.type == "string" and a.encoding == "raw" and
                b.encoding in ("embstr", "int") and len(a.value) <= EMBSTR_LIMIT)


def diff_keyspaces(a: dict, b: dict, names=("a", "b"), encodings: bool = True,
                   b_reloaded: bool = False, ttl_tolerance_ms: int = TTL_TOLERANCE_MS) -> list:
    """Readable differences between two read_keyspace() results. Deadlines may differ by the
    tolerance (servers filled one after the other); a key present on one side only is tolerated
    when its deadline there is within the tolerance of now (it expires about now). With
    `b_reloaded` (b loaded a file that a saved), deadlines must be equal to the millisecond, and
    encodings may change as a reload changes them."""
    problems = []
    now_ms = int(time.time() * 1000)
    for db in sorted(set(a) | set(b)):
        da, db_ = a.get(db, {}), b.get(db, {})
        for key in sorted(set(da) | set(db_)):
            ka, kb = da.get(key), db_.get(key)
            where = f"db {db} key {key!r}"
            if ka is None or kb is None:
                present, side = (kb, names[1]) if ka is None else (ka, names[0])
                if present.expire_at == -1 or present.expire_at > now_ms + ttl_tolerance_ms:
                    problems.append(f"{where}: only on {side} ({present.type}, "
                                    f"{present.encoding}, expire_at {present.expire_at})")
                continue
            if ka.type != kb.type:
                problems.append(f"{where}: type {ka.type} vs {kb.type}")
                continue
            if encodings and _encoding_differs(ka, kb, b_reloaded):
                problems.append(f"{where}: encoding {ka.encoding} vs {kb.encoding} ({ka.type})")
            if (ka.expire_at < 0 or kb.expire_at < 0) and ka.expire_at != kb.expire_at:
                problems.append(f"{where}: expire_at {ka.expire_at} vs {kb.expire_at}")
            elif abs(ka.expire_at - kb.expire_at) > (0 if b_reloaded else ttl_tolerance_ms):
                problems.append(f"{where}: expire_at {ka.expire_at} vs {kb.expire_at}")
            if ka.value != kb.value:
                problems.append(f"{where} ({ka.type}): values differ: "
                                f"{_value_difference(ka.value, kb.value)}")
    return problems


def assert_same_keyspace(a: dict, b: dict, names=("a", "b"), encodings: bool = True,
                         b_reloaded: bool = False):
    problems = diff_keyspaces(a, b, names, encodings, b_reloaded)
    assert not problems, (f"{len(problems)} differences between {names[0]} and {names[1]}:\n" +
                          "\n".join(problems[:40]))


def key_count(keyspace: dict) -> int:
    return sum(len(keys) for keys in keyspace.values())
