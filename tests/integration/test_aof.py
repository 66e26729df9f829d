"""The append-only file (issue 6): round trips through restarts, Redis 7.0 compatibility of the
appendonlydir, INFO/CONFIG/BGREWRITEAOF replies, truncated and corrupt files.

Every test runs on redis-server as well (or compares with it), which proves the expectation is
Redis's behaviour; Shoal runs with --threads 1 and 4. Under SHOAL_BIN=redis "shoal" is a second
redis-server.

Round trips compare a server's keyspace before a restart with what it replays after it, to the
millisecond for deadlines: so commands whose replay would differ (SET EX, EXPIRE, SPOP, INCRBYFLOAT,
served blocking pops, scripts, expired keys later rewritten) must be logged by their effect.
"""

import random
import shutil
import threading
import time
from pathlib import Path

import pytest

import aof_support as aof
import persist_support as ps
import servers
from persist_support import launch  # noqa: F401 (fixture)

KINDS = [("redis", None), ("shoal", 1), ("shoal", 4)]
KIND_IDS = ["redis", "shoal-t1", "shoal-t4"]
SEED = 606


# ---------------------------------------------------------------------------------------------
# The workload, in three parts (a rewrite, an AOF switch-off... go between them)


def part_fill(server):
    """Junk, FLUSHALL, then the every-type dataset in dbs 0, 1 and 5."""
    c = ps.raw_client(server)
    c.execute_command("MSET", *[x for i in range(200) for x in (f"junk:{i}", i)])
    c.execute_command("SELECT", 3)
    c.execute_command("SET", "junk:db3", "x")
    c.execute_command("FLUSHALL")
    c.close()
    ps.fill(server, SEED, bulk_keys=500)


def wait_blocked(c, count: int):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = c.execute_command("INFO", "clients").decode()
        blocked = int(next(line.split(":")[1] for line in info.splitlines()
                           if line.startswith("blocked_clients:")))
        if blocked >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {count} clients blocked after 10 s")


def part_effects(server):
    """Commands whose replay must be of their effect: relative TTLs, randomness, floats, expired
    keys written again, blocking pops served later, scripts."""
    c = ps.raw_client(server)
    c.execute_command("SET", "ex:set", "v", "EX", 1000)
    c.execute_command("SET", "ex:px", "v", "PX", 5_000_000)
    c.execute_command("SETEX", "ex:setex", 700, "v")
    c.execute_command("PSETEX", "ex:psetex", 900_000, "v")
    c.execute_command("SET", "ex:expire", "v")
    c.execute_command("EXPIRE", "ex:expire", 3000)
    c.execute_command("RPUSH", "ex:pexpire", "a")
    c.execute_command("PEXPIRE", "ex:pexpire", 4_000_000)
    c.execute_command("SET", "ex:getex", "v")
    c.execute_command("GETEX", "ex:getex", "EX", 2000)
    c.execute_command("SET", "ex:persist", "v", "EX", 100)
    c.execute_command("PERSIST", "ex:persist")
    c.execute_command("SET", "ex:keepttl", "v", "EX", 600)
    c.execute_command("SET", "ex:keepttl", "w", "KEEPTTL")
    for step in ("1.1", "2.25", "-0.35", "1e3", "3.0000000001"):
        c.execute_command("INCRBYFLOAT", "float:f", step)
    c.execute_command("HINCRBYFLOAT", "float:h", "x", "0.1")
    c.execute_command("HINCRBYFLOAT", "float:h", "x", "0.2")
    c.execute_command("SADD", "spop:s", *range(100))
    c.execute_command("SPOP", "spop:s")
    c.execute_command("SPOP", "spop:s", 7)
    c.execute_command("SADD", "spop:all", "a", "b")
    c.execute_command("SPOP", "spop:all", 5)  # Deletes the key.
    c.execute_command("ZADD", "zpop:z", *[x for i in range(20) for x in (i, f"m{i}")])
    c.execute_command("ZPOPMIN", "zpop:z", 3)
    c.execute_command("ZPOPMAX", "zpop:z")
    # Expired keys written again: replayed without the DEL the expiry stands for, the old value
    # (or type) would still be there.
    c.execute_command("SET", "expired:then:list", "v", "PX", 30)
    c.execute_command("SET", "expired:then:incr", "5", "PX", 30)
    c.execute_command("HSET", "expired:then:hash", "old", "1")
    c.execute_command("PEXPIRE", "expired:then:hash", 30)
    time.sleep(0.15)
    c.execute_command("RPUSH", "expired:then:list", "a", "b")
    c.execute_command("INCR", "expired:then:incr")
    c.execute_command("HSET", "expired:then:hash", "new", "2")
    # Scripts: writes through redis.call, random ones included, on keys of several shards.
    script = ("redis.call('SET', KEYS[1], ARGV[1]) "
              "redis.call('SPOP', KEYS[2]) "
              "redis.call('EXPIRE', KEYS[1], 5000) "
              "redis.call('INCRBYFLOAT', KEYS[3], '0.5') "
              "redis.call('RPUSH', KEYS[4], ARGV[1]) "
              "return 1")
    for i in range(5):
        c.execute_command("EVAL", script, 4, f"lua:a:{i}", "spop:s", "lua:f", "lua:l", f"v{i}")
    sha = c.execute_command("SCRIPT", "LOAD", "return redis.call('INCRBY', KEYS[1], ARGV[1])")
    c.execute_command("EVALSHA", sha, 1, "lua:counter", 41)
    c.execute_command("EVAL", "return redis.call('GET', KEYS[1])", 1, "lua:counter")  # Read only.
    c.close()


def part_moves(server):
    """MULTI/EXEC, multi-key commands across shards, FLUSHDB, blocking pops served later."""
    c = ps.raw_client(server)
    pipe = c.pipeline(transaction=True)
    pipe.execute_command("SET", "tx:a", "1")
    pipe.execute_command("INCR", "tx:b")
    pipe.execute_command("RPUSH", "tx:l", "x", "y", "z")
    pipe.execute_command("LPOP", "tx:l")
    pipe.execute_command("SPOP", "spop:s")
    pipe.execute_command("EXPIRE", "tx:a", 777)
    pipe.execute()
    # A transaction with a failing command runs the others; a WATCH-aborted one runs nothing.
    c.execute_command("MULTI")
    c.execute_command("SET", "tx:partial", "x")
    c.execute_command("INCR", "tx:partial")  # WRONGTYPE-like error at run time (not an integer).
    c.execute_command("SET", "tx:after", "y")
    c.execute_command("EXEC")
    c.execute_command("WATCH", "tx:watched")
    other = ps.raw_client(server)
    other.execute_command("SET", "tx:watched", "theirs")
    c.execute_command("MULTI")
    c.execute_command("SET", "tx:watched", "mine")
    c.execute_command("SET", "tx:aborted", "never")
    assert c.execute_command("EXEC") is None
    c.execute_command("MULTI")
    c.execute_command("SET", "tx:discarded", "never")
    c.execute_command("DISCARD")
    c.execute_command("MSET", *[x for i in range(64) for x in (f"mset:{i}", f"v{i}")])
    c.execute_command("MSETNX", "msetnx:a", "1", "msetnx:b", "2")
    c.execute_command("MSETNX", "msetnx:a", "no", "msetnx:c", "no")
    c.execute_command("RENAME", "bulk:str:1", "renamed:str")
    c.execute_command("RENAME", "list:small", "renamed:list")
    c.execute_command("RENAMENX", "bulk:str:2", "renamed:str")
    c.execute_command("RENAME", "ttl:far:hash", "renamed:ttl")
    c.execute_command("COPY", "zset:small", "copied:zset")
    c.execute_command("MOVE", "bulk:str:3", 2)
    c.execute_command("SMOVE", "set:int16", "moved:set", "300")
    c.execute_command("LMOVE", "list:lpush", "moved:list", "LEFT", "RIGHT")
    c.execute_command("SUNIONSTORE", "store:sunion", "set:int16", "set:int32", "set:mixed")
    c.execute_command("ZUNIONSTORE", "store:zunion", 2, "zset:small", "zset:ties")
    c.execute_command("BITOP", "OR", "store:bitop", "bitmap:sparse", "bitmap:dense")
    c.execute_command("PFMERGE", "store:pf", "hll:sparse", "hll:dense")
    c.execute_command("DEL", "bulk:str:4", "bulk:hash:8", "bulk:list:14")
    c.execute_command("UNLINK", "bulk:str:5")
    c.execute_command("GETDEL", "bulk:str:6")
    c.execute_command("APPEND", "bulk:str:7", "-appended")
    c.execute_command("SETRANGE", "bulk:str:9", 3, "XYZ")
    c.execute_command("LTRIM", "list:multinode", 10, 1500)
    c.execute_command("ZINCRBY", "zset:skiplist", 2.5, "m3")
    # FLUSHDB between writes: db 5 emptied then written again, db 1 emptied.
    c.execute_command("SELECT", 5)
    c.execute_command("FLUSHDB")
    c.execute_command("SET", "after:flushdb", "5")
    c.execute_command("SELECT", 1)
    c.execute_command("FLUSHDB")
    c.execute_command("SELECT", 0)
    # Blocking pops, served by later pushes (several kinds, some on other shards' keys).
    results = {}
    pops = [("BLPOP", "bl:list", 10), ("BRPOPLPUSH", "bl:src", "bl:dst", 10),
            ("BLMOVE", "bl:src2", "bl:dst2", "LEFT", "LEFT", 10), ("BZPOPMIN", "bl:zset", 10),
            ("BLMPOP", 10, 1, "bl:mpop", "RIGHT", "COUNT", 2)]

    def pop(index, cmd):
        client = ps.raw_client(server)
        results[index] = client.execute_command(*cmd)
        client.close()
    threads = [threading.Thread(target=pop, args=(i, cmd)) for i, cmd in enumerate(pops)]
    for t in threads:
        t.start()
    wait_blocked(c, len(pops))
    c.execute_command("RPUSH", "bl:list", "a", "b", "c")
    c.execute_command("RPUSH", "bl:src", "s1", "s2")
    c.execute_command("RPUSH", "bl:src2", "t1", "t2")
    c.execute_command("ZADD", "bl:zset", 3, "three", 1, "one", 2, "two")
    c.execute_command("RPUSH", "bl:mpop", "p1", "p2", "p3")
    for t in threads:
        t.join(15)
    assert len(results) == len(pops) and all(r is not None for r in results.values()), results
    c.close()


def full_workload(server, middle=lambda: None, middle2=lambda: None):
    part_fill(server)
    middle()
    part_effects(server)
    middle2()
    part_moves(server)


def assert_replayed(before: dict, after: dict):
    problems = ps.diff_keyspaces(before, after, ("before the restart", "after it"),
                                 encodings=False, b_reloaded=True)
    assert not problems, (f"{len(problems)} differences after the AOF replay:\n" +
                          "\n".join(problems[:40]))
    assert ps.key_count(after) > 800


# ---------------------------------------------------------------------------------------------
# 1. Round trips


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
@pytest.mark.parametrize("kind,threads", KINDS, ids=KIND_IDS)
def test_round_trip(launch, kind, threads, how):
    server = launch(kind, threads=threads, extra=aof.aof_extra())
    ps.start(server)
    full_workload(server)
    before = ps.read_keyspace(server)
    aof.restart(server, how)
    assert_replayed(before, ps.read_keyspace(server))
    # A second life on the same files: writes appended after a replay replay too.
    c = ps.raw_client(server)
    c.execute_command("SET", "second:life", "1")
    c.execute_command("INCRBYFLOAT", "float:f", "0.25")
    before = ps.read_keyspace(server)
    aof.restart(server, how)
    assert_replayed(before, ps.read_keyspace(server))


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
@pytest.mark.parametrize("kind,threads", KINDS, ids=KIND_IDS)
def test_round_trip_with_bgrewriteaof_in_the_middle(launch, kind, threads, how):
    server = launch(kind, threads=threads, extra=aof.aof_extra())
    ps.start(server)
    c = ps.raw_client(server)

    def rewrite_running_while_writing():
        # Started, not awaited: part_effects writes while it runs.
        assert c.execute_command("BGREWRITEAOF") == b"Background append only file rewriting started"
    full_workload(server, middle=rewrite_running_while_writing,
                  middle2=lambda: aof.wait_rewrites(c, 1))
    before = ps.read_keyspace(server)
    names, manifest = aof.aof_files(server)
    assert names == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof",
                     "appendonly.aof.manifest"], (names, manifest)
    aof.restart(server, how)
    assert_replayed(before, ps.read_keyspace(server))
    # A rewrite after the restart, then writes, then a restart again.
    c = ps.raw_client(server)
    assert aof.bgrewriteaof(c) == b"Background append only file rewriting started"
    c.execute_command("SET", "after:second:rewrite", "1")
    c.execute_command("SPOP", "spop:s")
    before = ps.read_keyspace(server)
    aof.restart(server, how)
    assert_replayed(before, ps.read_keyspace(server))


@pytest.mark.parametrize("kind,threads", KINDS, ids=KIND_IDS)
def test_round_trip_with_automatic_rewrites(launch, kind, threads):
    server = launch(kind, threads=threads, extra=aof.aof_extra(
        "everysec", "--auto-aof-rewrite-min-size", "65536", "--auto-aof-rewrite-percentage", "50"))
    ps.start(server)
    c = ps.raw_client(server)
    full_workload(server)
    # The dataset is about 1.5 MB of commands: the growth rule must have fired at least once.
    deadline = time.monotonic() + 10
    while aof.rewrites(c) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    aof.wait_rewrites(c, 1)
    before = ps.read_keyspace(server)
    aof.restart(server, "sigkill")
    assert_replayed(before, ps.read_keyspace(server))


@pytest.mark.parametrize("kind,threads", KINDS, ids=KIND_IDS)
def test_round_trip_after_appendonly_off_and_on(launch, kind, threads):
    server = launch(kind, threads=threads, extra=aof.aof_extra())
    ps.start(server)
    c = ps.raw_client(server)

    def off():
        assert c.execute_command("CONFIG", "SET", "appendonly", "no") == b"OK"
        assert aof.persistence(c)["aof_enabled"] == "0"

    def on():
        rewrites = aof.rewrites(c)
        assert c.execute_command("CONFIG", "SET", "appendonly", "yes") == b"OK"
        aof.wait_rewrites(c, rewrites + 1)  # Switching on writes a base of what is there.
        assert aof.persistence(c)["aof_enabled"] == "1"
    full_workload(server, middle=off, middle2=on)
    before = ps.read_keyspace(server)
    aof.restart(server, "sigkill")
    assert_replayed(before, ps.read_keyspace(server))


@pytest.mark.parametrize("kind,threads", KINDS, ids=KIND_IDS)
def test_appendfsync_changed_at_run_time(launch, kind, threads):
    server = launch(kind, threads=threads, extra=aof.aof_extra("no"))
    ps.start(server)
    c = ps.raw_client(server)
    for policy in ("always", "everysec", "no", "always"):
        assert c.execute_command("CONFIG", "SET", "appendfsync", policy) == b"OK"
        assert c.execute_command("CONFIG", "GET", "appendfsync") == [b"appendfsync",
                                                                     policy.encode()]
        c.execute_command("RPUSH", "fsync:log", policy)
        c.execute_command("INCR", "fsync:n")
    before = ps.read_keyspace(server)
    aof.restart(server, "sigkill")
    after = ps.read_keyspace(server)
    assert_replayed_small(before, after)


def assert_replayed_small(before, after):
    problems = ps.diff_keyspaces(before, after, ("before", "after"), encodings=False,
                                 b_reloaded=True)
    assert not problems, "\n".join(problems)
    assert ps.key_count(after) == 2


# ---------------------------------------------------------------------------------------------
# 2. Redis compatibility


@pytest.mark.parametrize("writer,reader,base_format", [
    ("redis", "shoal", "rdb"), ("redis", "shoal", "aof"), ("shoal", "redis", "rdb")])
@pytest.mark.parametrize("threads", [1, 4])
def test_appendonlydir_moves_between_redis_and_shoal(launch, writer, reader, base_format,
                                                      threads):
    preamble = ("--aof-use-rdb-preamble", "yes" if base_format == "rdb" else "no")
    w = launch(writer, threads=threads, extra=aof.aof_extra("everysec", *preamble))
    ps.start(w)
    c = ps.raw_client(w)
    # Data in the base file (a rewrite) and in the incr file after it.
    full_workload(w, middle=lambda: aof.bgrewriteaof(c))
    names, manifest = aof.aof_files(w)
    base = f"appendonly.aof.2.base.{base_format}"
    assert base in names, (names, manifest)
    before = ps.read_keyspace(w)
    assert ps.stop_with(w) == 0
    r = launch(reader, threads=threads, extra=aof.aof_extra())
    shutil.copytree(w.workdir / aof.AOF_DIR, r.workdir / aof.AOF_DIR)
    ps.start(r)
    problems = ps.diff_keyspaces(before, ps.read_keyspace(r), (writer, reader), encodings=False,
                                 b_reloaded=True)
    assert not problems, (f"{len(problems)} differences after {reader} loaded {writer}'s "
                          f"appendonlydir ({names}):\n" + "\n".join(problems[:40]))


def file_history(server, c, dirname: str) -> list:
    """The directory listing and manifest at each step of a life with restarts, rewrites and
    CONFIG SET appendonly."""
    steps = [("start", aof.aof_files(server, dirname))]
    c.execute_command("SET", "k", "v")
    steps.append(("a write", aof.aof_files(server, dirname)))
    aof.bgrewriteaof(c)
    steps.append(("BGREWRITEAOF", aof.aof_files(server, dirname)))
    aof.restart(server, "sigterm")
    c = ps.raw_client(server)
    steps.append(("restart", aof.aof_files(server, dirname)))
    c.execute_command("CONFIG", "SET", "appendonly", "no")
    c.execute_command("SET", "k2", "v")
    steps.append(("appendonly no", aof.aof_files(server, dirname)))
    before = aof.rewrites(c)
    c.execute_command("CONFIG", "SET", "appendonly", "yes")
    aof.wait_rewrites(c, before + 1)
    steps.append(("appendonly yes", aof.aof_files(server, dirname)))
    aof.bgrewriteaof(c)
    aof.bgrewriteaof(c)
    steps.append(("two more rewrites", aof.aof_files(server, dirname)))
    return steps


@pytest.mark.parametrize("names", [(), ("--appenddirname", "my aof dir",
                                        "--appendfilename", "log.aof")], ids=["default", "named"])
def test_file_and_manifest_names_equal_redis(launch, names):
    dirname = names[1] if names else aof.AOF_DIR
    histories = {}
    for kind in ("redis", "shoal"):
        server = launch(kind, threads=4, extra=aof.aof_extra("everysec", *names))
        ps.start(server)
        histories[kind] = file_history(server, ps.raw_client(server), dirname)
    for (step, want), (_, got) in zip(histories["redis"], histories["shoal"]):
        assert got == want, f"after {step}: redis has {want}, shoal has {got}"


def test_bgrewriteaof_without_appendonly_writes_what_redis_writes(launch):
    listings = {}
    for kind in ("redis", "shoal"):
        server = launch(kind, threads=4)
        ps.start(server)
        c = ps.raw_client(server)
        c.execute_command("SET", "k", "v")
        reply = c.execute_command("BGREWRITEAOF")
        aof.wait_rewrites(c, 1)
        listings[kind] = (reply, aof.aof_files(server))
    assert listings["shoal"] == listings["redis"]


def aof_fields(c) -> list:
    return [name for name, _ in ps.info_section(c, "persistence") if name.startswith("aof_")]


def test_info_persistence_aof_fields_as_redis(launch):
    got = {}
    for kind in ("redis", "shoal"):
        server = launch(kind, threads=4, extra=aof.aof_extra())
        ps.start(server)
        c = ps.raw_client(server)
        on = aof_fields(c)
        on_values = aof.persistence(c)
        c.execute_command("CONFIG", "SET", "appendonly", "no")
        off = aof_fields(c)
        off_values = aof.persistence(c)
        got[kind] = (on, off, on_values["aof_enabled"], off_values["aof_enabled"],
                     on_values["aof_last_write_status"], on_values["aof_last_bgrewrite_status"])
    assert got["shoal"] == got["redis"]
    assert got["redis"][2:4] == ("1", "0")


def test_aof_size_fields_follow_writes_and_rewrites(launch):
    server = launch("shoal", threads=4, extra=aof.aof_extra())
    ps.start(server)
    c = ps.raw_client(server)
    size0 = int(aof.persistence(c)["aof_current_size"])
    c.execute_command("SET", "k", random.Random(SEED).randbytes(10_000))  # Incompressible.
    size1 = int(aof.persistence(c)["aof_current_size"])
    assert size1 >= size0 + 10_000
    aof.bgrewriteaof(c)
    info = aof.persistence(c)
    # After a rewrite the whole AOF is the new base: current size = base size (+ empty incr).
    assert int(info["aof_base_size"]) == int(info["aof_current_size"]) > 10_000, info


def bgrewriteaof_replies(server) -> list:
    c = ps.raw_client(server)
    # 200k keys: a rewrite takes long enough for the second request to find it running.
    for start in range(0, 200_000, 5000):
        c.execute_command("MSET", *[x for i in range(start, start + 5000)
                                    for x in (f"big:{i}", f"value-{i:010d}")])
    replies = []
    pipe = c.pipeline(transaction=False)
    pipe.execute_command("BGREWRITEAOF")
    pipe.execute_command("BGREWRITEAOF")
    replies += [repr(r) for r in pipe.execute(raise_on_error=False)]
    aof.wait_rewrites(c, 1)
    c.execute_command("MULTI")
    replies.append(repr(c.execute_command("BGREWRITEAOF")))
    replies.append(repr(c.execute_command("EXEC")))
    aof.wait_rewrites(c, 2)  # The scheduled rewrite runs after the transaction.
    try:
        replies.append(repr(c.execute_command("BGREWRITEAOF", "extra")))
    except ps.redis.ResponseError as e:
        replies.append(f"error: {e}")
    aof.wait_rewrites(c, 2)
    return replies


def test_bgrewriteaof_replies_as_redis(launch):
    got = {}
    for kind in ("redis", "shoal"):
        server = launch(kind, threads=4, extra=aof.aof_extra())
        ps.start(server)
        got[kind] = bgrewriteaof_replies(server)
    assert got["shoal"] == got["redis"]


CONFIG_SEQUENCE = [
    ("CONFIG", "GET", "appendonly"), ("CONFIG", "GET", "appendfsync"),
    ("CONFIG", "GET", "appenddirname"), ("CONFIG", "GET", "appendfilename"),
    ("CONFIG", "GET", "aof-load-truncated"), ("CONFIG", "GET", "aof-use-rdb-preamble"),
    ("CONFIG", "GET", "auto-aof-rewrite-percentage"),
    ("CONFIG", "GET", "auto-aof-rewrite-min-size"),
    ("CONFIG", "SET", "appendfsync", "always"), ("CONFIG", "GET", "appendfsync"),
    ("CONFIG", "SET", "appendfsync", "sometimes"), ("CONFIG", "GET", "appendfsync"),
    ("CONFIG", "SET", "appendonly", "maybe"),
    ("CONFIG", "SET", "appenddirname", "elsewhere"), ("CONFIG", "SET", "appendfilename", "x.aof"),
    ("CONFIG", "SET", "auto-aof-rewrite-min-size", "1mb"),
    ("CONFIG", "GET", "auto-aof-rewrite-min-size"),
    ("CONFIG", "SET", "auto-aof-rewrite-percentage", "-1"),
    ("CONFIG", "SET", "appendonly", "no"), ("CONFIG", "GET", "appendonly"),
    ("CONFIG", "SET", "appendonly", "no"), ("CONFIG", "SET", "appendonly", "yes"),
    ("CONFIG", "GET", "appendonly"),
]


@pytest.mark.parametrize("start_on", ["yes", "no"])
def test_config_replies_as_redis(launch, start_on):
    got = {}
    for kind in ("redis", "shoal"):
        extra = aof.aof_extra() if start_on == "yes" else ()
        server = launch(kind, threads=4, extra=extra)
        ps.start(server)
        c = ps.raw_client(server)
        got[kind] = []
        for cmd in CONFIG_SEQUENCE:
            try:
                got[kind].append(repr(c.execute_command(*cmd)))
            except ps.redis.ResponseError as e:
                got[kind].append(f"error: {e}")
    mismatches = [f"{' '.join(map(str, cmd))}: redis {r} shoal {s}"
                  for cmd, r, s in zip(CONFIG_SEQUENCE, got["redis"], got["shoal"]) if r != s]
    assert not mismatches, "\n".join(mismatches)


def test_config_get_aof_globs_as_redis(launch):
    got = {}
    for kind in ("redis", "shoal"):
        server = launch(kind, threads=1)
        ps.start(server)
        c = ps.raw_client(server)
        got[kind] = [sorted(zip(*[iter(c.execute_command("CONFIG", "GET", pattern))] * 2))
                     for pattern in ("append*", "*aof*")]
        got[kind][1] = [p for p in got[kind][1] if p[0] != b"replicaof"]  # Replication: not here.
    assert got["shoal"] == got["redis"]


# ---------------------------------------------------------------------------------------------
# 3. Truncated and corrupt files


def crafted_records() -> list:
    """[(bytes, kind)]: the incr file's records; kind is "multi", "exec", "in-multi" or "plain".
    Effects are easy to compute: SET, INCR, RPUSH, SELECT."""
    records = [(aof.encode("SELECT", 0), "plain"), (aof.encode("SET", "k1", "v1"), "plain")]
    for i in range(1, 4):
        records.append((aof.encode("MULTI"), "multi"))
        records.append((aof.encode("INCR", "ctr"), "in-multi"))
        records.append((aof.encode("RPUSH", "log", i), "in-multi"))
        records.append((aof.encode("SET", "seq", "x" * (40 * i)), "in-multi"))
        records.append((aof.encode("EXEC"), "exec"))
        records.append((aof.encode("SET", f"after:{i}", "y" * 300), "plain"))
    records.append((aof.encode("SELECT", 3), "plain"))
    records.append((aof.encode("SET", "db3", "z"), "plain"))
    records.append((aof.encode("MULTI"), "multi"))
    records.append((aof.encode("SET", "db3:tx", "t"), "in-multi"))
    records.append((aof.encode("EXEC"), "exec"))
    return records


def apply_records(records) -> dict:
    """{db: {key: value}} after the given complete records, SET/INCR/RPUSH/SELECT only."""
    dbs, db = {}, 0
    for rec, _ in records:
        parts = rec.split(b"\r\n")
        args = parts[2:-1:2]
        cmd = args[0]
        if cmd == b"SELECT":
            db = int(args[1])
        elif cmd == b"SET":
            dbs.setdefault(db, {})[args[1]] = args[2]
        elif cmd == b"INCR":
            d = dbs.setdefault(db, {})
            d[args[1]] = b"%d" % (int(d.get(args[1], b"0")) + 1)
        elif cmd == b"RPUSH":
            dbs.setdefault(db, {}).setdefault(args[1], []).append(args[2])
    return dbs


def simple_state(keyspace: dict) -> dict:
    return {db: {k: s.value for k, s in keys.items()} for db, keys in keyspace.items() if keys}


def expected_after_cut(records, cut: int):
    """(loads with aof-load-truncated no, the state loaded with yes): a cut at a record boundary
    outside a transaction is a complete file; otherwise the tail from the cut record (or its open
    MULTI) is dropped."""
    offset, complete, in_multi, valid = 0, [], False, []
    for rec, kind in records:
        if offset + len(rec) > cut:
            break
        offset += len(rec)
        complete.append((rec, kind))
        if kind == "multi":
            in_multi = True
        elif kind == "exec":
            in_multi = False
        if not in_multi:
            valid = list(complete)
    clean = offset == cut and not in_multi
    return clean, apply_records(valid)


def in_transaction(records, cut: int) -> bool:
    """Whether the cut falls after a MULTI whose EXEC is not complete before it."""
    offset, open_multi = 0, False
    for rec, kind in records:
        if offset + len(rec) > cut:
            return open_multi or kind == "multi" and offset < cut
        offset += len(rec)
        open_multi = kind == "multi" or (open_multi and kind != "exec")
    return open_multi


def template_dir(tmp_path) -> Path:
    """An appendonlydir written by redis-server (an empty base, its manifest) with the crafted
    incr file."""
    server = ps.make_server("redis", extra=aof.aof_extra())
    try:
        ps.start(server)
        assert ps.stop_with(server) == 0
        template = tmp_path / "template"
        shutil.copytree(server.workdir / aof.AOF_DIR, template / aof.AOF_DIR)
    finally:
        server.cleanup()
    incr = template / aof.AOF_DIR / "appendonly.aof.1.incr.aof"
    assert incr.exists(), list((template / aof.AOF_DIR).iterdir())
    incr.write_bytes(b"".join(rec for rec, _ in crafted_records()))
    return template


def cut_offsets(records) -> list:
    """Offsets in the first transaction's records and the last one's (first byte, after '*',
    mid record, before the final CRLF, and the boundaries: outside and inside a transaction), and
    in the middle of every other record."""
    offsets, start = set(), 0
    for index, (rec, kind) in enumerate(records):
        if 2 <= index <= 7 or index >= len(records) - 3:
            offsets.update(start + inside for inside in (0, 1, 3, len(rec) // 2, len(rec) - 1))
        else:
            offsets.update((start, start + len(rec) // 2))
        start += len(rec)
    offsets.add(start)
    return sorted(offsets)


@pytest.mark.slow
@pytest.mark.parametrize("kind,threads", [("redis", None), ("shoal", 4)], ids=["redis", "shoal"])
def test_truncated_incr_file(tmp_path, kind, threads):
    records = crafted_records()
    template = template_dir(tmp_path)
    incr_name = "appendonly.aof.1.incr.aof"
    failures = []
    for cut in cut_offsets(records):
        clean, want = expected_after_cut(records, cut)
        for truncated in ("yes", "no"):
            work = tmp_path / f"cut{cut}-{truncated}"
            shutil.copytree(template, work)
            incr = work / aof.AOF_DIR / incr_name
            incr.write_bytes(incr.read_bytes()[:cut])
            written_after = {}

            def write_then(c):
                c.execute_command("SELECT", 7)
                c.execute_command("SET", "written:after", "1")
                written_after["ok"] = True
            outcome = aof.start_on_dir(kind, work, threads=threads, then=write_then, extra=(
                *aof.aof_extra(), "--aof-load-truncated", truncated))
            label = f"cut at {cut} (clean: {clean}), aof-load-truncated {truncated}"
            if truncated == "no" and not clean:
                if outcome.returncode is None:
                    failures.append(f"{label}: started (should refuse)")
                elif incr_name not in outcome.log:
                    failures.append(f"{label}: refused without naming {incr_name}:\n"
                                    f"{outcome.log[-800:]}")
                continue
            if outcome.returncode is not None:
                failures.append(f"{label}: exited {outcome.returncode}:\n{outcome.log[-800:]}")
                continue
            got = simple_state(outcome.state)
            if got != want:
                failures.append(f"{label}: loaded {got}, expected {want}")
                continue
            # The file was repaired: the write made after the start is kept by the next one.
            # Not on redis-server 7.0.15 when the cut is in a transaction: it truncates the file
            # after the dangling MULTI, so the next start drops what was written after it (a
            # Redis bug that loses acknowledged writes; Shoal must not copy it).
            if in_transaction(records, cut) and (kind == "redis" or servers.is_self_test()):
                continue
            again = aof.start_on_dir(kind, work, threads=threads,
                                     extra=(*aof.aof_extra(), "--aof-load-truncated", "no"))
            want_again = {**want, 7: {b"written:after": b"1"}}
            if again.returncode is not None or simple_state(again.state) != want_again:
                failures.append(f"{label}: the restart after a write got "
                                f"{again.returncode}, {simple_state(again.state)}, expected "
                                f"{want_again}:\n{again.log[-800:]}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])


@pytest.mark.parametrize("where", ["bad byte", "garbage line", "bad count"])
@pytest.mark.parametrize("kind,threads", [("redis", None), ("shoal", 4)], ids=["redis", "shoal"])
def test_garbage_in_the_middle_refuses_to_start(tmp_path, kind, threads, where):
    records = crafted_records()
    template = template_dir(tmp_path)
    incr = template / aof.AOF_DIR / "appendonly.aof.1.incr.aof"
    head = b"".join(rec for rec, _ in records[:7])
    tail = b"".join(rec for rec, _ in records[7:])
    if where == "bad byte":
        data = head + b"!" + tail[1:]  # The '*' of a record.
    elif where == "garbage line":
        data = head + b"this is not RESP\r\n" + tail
    else:
        data = head + b"*0\r\n" + tail
    incr.write_bytes(data)
    for truncated in ("yes", "no"):
        work = tmp_path / f"run-{truncated}"
        shutil.copytree(template, work)
        outcome = aof.start_on_dir(kind, work, threads=threads, extra=(
            *aof.aof_extra(), "--aof-load-truncated", truncated))
        assert outcome.returncode not in (None, 0), (
            f"{where}, aof-load-truncated {truncated}: came up with {outcome.state}")
        assert "appendonly.aof.1.incr.aof" in outcome.log, outcome.log[-1500:]


@pytest.mark.parametrize("kind,threads", [("redis", None), ("shoal", 4)], ids=["redis", "shoal"])
def test_truncated_file_that_is_not_the_last_refuses(tmp_path, kind, threads):
    template = template_dir(tmp_path)
    d = template / aof.AOF_DIR
    first = aof.encode("SELECT", 0) + aof.encode("SET", "a", "1") + aof.encode("SET", "b", "2")
    (d / "appendonly.aof.1.incr.aof").write_bytes(first[:-3])
    (d / "appendonly.aof.2.incr.aof").write_bytes(aof.encode("SELECT", 0) +
                                                 aof.encode("SET", "c", "3"))
    manifest = d / "appendonly.aof.manifest"
    manifest.write_text(manifest.read_text() + "file appendonly.aof.2.incr.aof seq 2 type i\n")
    outcome = aof.start_on_dir(kind, template, threads=threads, extra=(
        *aof.aof_extra(), "--aof-load-truncated", "yes"))
    assert outcome.returncode not in (None, 0), f"came up with {outcome.state}"
    # The two complete files (the truncation fixed) load.
    (d / "appendonly.aof.1.incr.aof").write_bytes(first)
    outcome = aof.start_on_dir(kind, template, threads=threads, extra=aof.aof_extra())
    assert outcome.returncode is None, outcome.log[-1500:]
    assert simple_state(outcome.state) == {0: {b"a": b"1", b"b": b"2", b"c": b"3"}}


# ---------------------------------------------------------------------------------------------
# Concurrent transactions


@pytest.mark.parametrize("watch", [False, True], ids=["multi", "watch-multi"])
@pytest.mark.parametrize("kind,threads", [("redis", None), ("shoal", 2), ("shoal", 4)],
                         ids=["redis", "shoal-t2", "shoal-t4"])
def test_concurrent_transactions_replay(launch, kind, threads, watch):
    """Clients race MULTI/EXEC transfers (optionally WATCHed, as the ledger's) over ten keys: the
    replay must hold what the live server held, so every EXEC that ran is in the file, once."""
    server = launch(kind, threads=threads, extra=aof.aof_extra())
    ps.start(server)
    executed = []

    def client_loop(seed):
        rng = random.Random(seed)
        c = ps.raw_client(server)
        done = 0
        for _ in range(250):
            a, b = (f"acct:{i}" for i in rng.sample(range(10), 2))
            if watch:
                c.execute_command("WATCH", a, b)
                c.execute_command("GET", a)
            c.execute_command("MULTI")
            c.execute_command("INCRBY", a, 1)
            c.execute_command("INCRBY", b, 100)
            done += c.execute_command("EXEC") is not None
        executed.append(done)
        c.close()
    workers = [threading.Thread(target=client_loop, args=(SEED + n,)) for n in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    c = ps.raw_client(server)
    keys = [f"acct:{i}" for i in range(10)]
    live = c.execute_command("MGET", *keys)
    total = sum(int(v or 0) for v in live)
    assert total == 101 * sum(executed)  # The live state itself: every EXEC applied once.
    assert ps.stop_with(server) == 0
    incr = server.workdir / aof.AOF_DIR / "appendonly.aof.1.incr.aof"
    logged = incr.read_bytes().count(b"INCRBY") // 2
    ps.start(server)
    replayed = ps.raw_client(server).execute_command("MGET", *keys)
    assert replayed == live, (f"{sum(executed)} transactions ran (each logged as two INCRBY), the "
                              f"incr file holds {logged}; live {live}, replayed {replayed}")
