"""RDB snapshots across servers: a file written by one loads into the other with every key, type,
encoding and TTL intact; SAVE, BGSAVE [SCHEDULE], SHUTDOWN [SAVE|NOSAVE], SIGTERM and save points
write (or do not write) the file as Redis does; CONFIG and INFO persistence answer as Redis's;
a damaged file stops start-up; a BGSAVE under write load is a point-in-time image.

Every test starts its own servers (persist_support.make_server) on their own directories. Tests of
one server's behaviour are parametrized with redis-server too: the `redis` case proves that what
the test expects is Redis's behaviour. Under SHOAL_BIN=redis (the harness self-test) the `shoal`
side is a second redis-server.
"""

import random
import re
import shutil
import signal
import threading
import time

import pytest

import persist_support as ps
from persist_support import launch  # noqa: F401 (fixture)
from resp import RespConnection, encode_command

SEED = 6  # Issue #6.
MIN_DATASET_KEYS = 2800  # What fill(SEED) leaves, minus the keys that expire soon.
KINDS = pytest.mark.parametrize("kind", ["shoal", "redis"])


def copy_rdb(source, *targets):
    for target in targets:
        shutil.copy(ps.rdb_path(source), ps.rdb_path(target))


def save(server, how: str):
    """SAVE or BGSAVE (waiting for it to finish); either must move LASTSAVE."""
    c = ps.raw_client(server)
    before = ps.lastsave(c)
    ps.wait_next_second(before)  # LASTSAVE counts seconds.
    if how == "SAVE":
        assert c.execute_command("SAVE") == b"OK"
        assert ps.lastsave(c) > before, "SAVE did not move LASTSAVE"
    else:
        assert c.execute_command(*how.split()) == b"Background saving started"
        ps.wait_bgsave_done(c, before)
    assert ps.info_field(c, "rdb_changes_since_last_save") == "0"
    c.close()


# ---------------------------------------------------------------------------------------------
# Files crossing servers


def test_redis_file_loads_into_shoal(launch):
    source = launch("redis")
    ps.start(source)
    ps.fill(source, SEED)
    save(source, "SAVE")
    reference, subject = launch("redis"), launch("shoal")
    copy_rdb(source, reference, subject)
    ps.start(subject)
    ps.start(reference)
    expected = ps.read_keyspace(source)
    assert ps.key_count(expected) >= MIN_DATASET_KEYS
    loaded = ps.read_keyspace(subject)
    ps.assert_same_keyspace(ps.read_keyspace(reference), loaded,
                            ("redis-server loading the file", "shoal-server loading it"))
    ps.assert_same_keyspace(expected, loaded, ("redis-server that saved", "shoal-server"),
                            b_reloaded=True)


@pytest.mark.parametrize("how", ["SAVE", "BGSAVE", "BGSAVE SCHEDULE"])
def test_shoal_file_loads_into_redis(launch, how):
    source = launch("shoal")
    ps.start(source)
    ps.fill(source, SEED)
    save(source, how)
    reference = launch("redis")
    copy_rdb(source, reference)
    ps.start(reference)
    expected = ps.read_keyspace(source)
    assert ps.key_count(expected) >= MIN_DATASET_KEYS
    ps.assert_same_keyspace(expected, ps.read_keyspace(reference),
                            ("shoal-server that saved", "redis-server loading its file"),
                            b_reloaded=True)


def fill_big(server):
    """Values far past the snapshot's chunk size (256 KB) and Redis's listpack limits."""
    c = ps.raw_client(server)
    rng = random.Random(SEED)
    c.execute_command("SET", "big:string", rng.randbytes(3 << 20))
    c.execute_command("SET", "big:string:lzf", b"0123456789" * 300_000)
    for start in range(0, 30_000, 10_000):
        batch = range(start, start + 10_000)
        c.execute_command("RPUSH", "big:list", *[f"element-{i}" for i in batch])
        c.execute_command("HSET", "big:hash", *[x for i in batch for x in (f"f{i}", i * 7)])
        c.execute_command("SADD", "big:set", *[f"member-{i}" for i in batch])
        c.execute_command("SADD", "big:intset", *batch)  # Past set-max-intset-entries.
        c.execute_command("ZADD", "big:zset", *[x for i in batch for x in (i / 3, f"z{i}")])
    c.execute_command("RPUSH", "big:list:elements", *[rng.randbytes(600_000) for _ in range(3)])
    c.execute_command("SETBIT", "big:bitmap", 40_000_000, 1)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["redis", "shoal"])
def test_big_values_cross_over(launch, target):
    """Multi-megabyte strings, 30k-element collections (each past the 256 KB chunk), a 5 MB
    bitmap: Shoal's file loads into `target` intact."""
    source = launch("shoal")
    ps.start(source)
    fill_big(source)
    save(source, "BGSAVE")
    loaded = launch(target)
    copy_rdb(source, loaded)
    ps.start(loaded)
    ps.assert_same_keyspace(ps.read_keyspace(source), ps.read_keyspace(loaded),
                            ("shoal-server that saved", f"{target}-server loading its file"),
                            b_reloaded=True)


@pytest.mark.slow
def test_big_values_from_redis(launch):
    source = launch("redis")
    ps.start(source)
    fill_big(source)
    save(source, "SAVE")
    loaded = launch("shoal")
    copy_rdb(source, loaded)
    ps.start(loaded)
    ps.assert_same_keyspace(ps.read_keyspace(source), ps.read_keyspace(loaded),
                            ("redis-server that saved", "shoal-server loading its file"),
                            b_reloaded=True)


def test_keys_expired_before_load_are_not_loaded(launch):
    """A key whose deadline passed between SAVE and start-up is dropped by the load: DBSIZE and
    INFO keyspace do not count it, and INFO persistence counts it as expired, as Redis does."""
    source = launch("redis")
    ps.start(source)
    c = ps.client(source)
    c.set("live", "v")
    c.set("live:ttl", "v", px=ps.FAR_PEXPIRE_MS)
    c.set("dead:str", "v", px=300)
    c.rpush("dead:list", "a", "b")
    c.pexpire("dead:list", 300)
    assert c.save()  # At once: the keys must still be there when the file is written.
    assert c.dbsize() == 4
    time.sleep(0.5)
    answers = {}
    for kind in ("redis", "shoal"):
        server = launch(kind)
        copy_rdb(source, server)
        ps.start(server)
        raw = ps.raw_client(server)
        persistence = dict(ps.info_section(raw, "persistence"))
        answers[kind] = {"DBSIZE": raw.execute_command("DBSIZE"),
                         "INFO keyspace": ps.info_section(raw, "keyspace")[0][1].split(",avg")[0],
                         "rdb_last_load_keys_loaded": persistence["rdb_last_load_keys_loaded"],
                         "rdb_last_load_keys_expired": persistence["rdb_last_load_keys_expired"]}
    assert answers["redis"] == {"DBSIZE": 2, "INFO keyspace": "keys=2,expires=1",
                                "rdb_last_load_keys_loaded": "2",
                                "rdb_last_load_keys_expired": "2"}
    assert answers["shoal"] == answers["redis"]


def test_encodings_after_load_match_redis(launch):
    """The same dataset saved by each server and loaded by the other: what redis-server reports
    after loading Shoal's file equals what it reports after loading its own, and the other way."""
    redis_source, shoal_source = launch("redis"), launch("shoal")
    for server in (redis_source, shoal_source):
        ps.start(server)
        ps.fill(server, SEED)
        save(server, "SAVE")
    redis_from_shoal, redis_from_redis = launch("redis"), launch("redis")
    shoal_from_redis, shoal_from_shoal = launch("shoal"), launch("shoal")
    copy_rdb(shoal_source, redis_from_shoal, shoal_from_shoal)
    copy_rdb(redis_source, redis_from_redis, shoal_from_redis)
    for server in (redis_from_shoal, redis_from_redis, shoal_from_redis, shoal_from_shoal):
        ps.start(server)
    reference = ps.read_keyspace(redis_from_redis)
    for server, name in ((redis_from_shoal, "redis-server loading Shoal's file"),
                         (shoal_from_redis, "shoal-server loading Redis's file"),
                         (shoal_from_shoal, "shoal-server loading its own file")):
        ps.assert_same_keyspace(reference, ps.read_keyspace(server),
                                ("redis-server loading its own file", name))


JSON_DOCUMENTS = {
    "json:object": '{"a":1,"b":[true,false,null],"c":{"d":"text","e":[]},"f":{}}',
    "json:numbers": '[0,-1,1.5,-2.25e-10,1e300,9007199254740993,12345678901234567890]',
    "json:strings": '["","\\u00e9t\\u00e9 \\u2603","quote \\" backslash \\\\","\\u0000"]',
    "json:scalar": '"just a string"',
    "json:deep": "[" * 100 + "]" * 100,
    "json:big": "[" + ",".join(f'{{"id":{i},"name":"item {i}"}}' for i in range(20_000)) + "]",
}


def test_json_values_survive_a_restart(launch):
    """JSON keys (Shoal's ReJSON-RL values, RedisJSON's module type in the file) come back
    equal, with their TTL, after SAVE and a restart with another --threads."""
    if ps.servers.is_self_test():
        pytest.skip("redis-server has no JSON type")
    server = launch("shoal", threads=4)
    ps.start(server)
    c = ps.raw_client(server)
    for key, document in JSON_DOCUMENTS.items():
        assert c.execute_command("JSON.SET", key, "$", document) == b"OK", key
    c.execute_command("PEXPIREAT", "json:object", ps.FIXED_PEXPIREAT_MS)
    c.execute_command("SET", "plain", "string")

    def read(conn):
        return {key: (conn.execute_command("TYPE", key), conn.execute_command("JSON.GET", key),
                      conn.execute_command("PEXPIRETIME", key)) for key in JSON_DOCUMENTS}
    expected = read(c)
    save(server, "SAVE")
    ps.kill9(server)
    server.options["threads"] = 1
    ps.start(server)
    got = read(ps.raw_client(server))
    different = {key: (expected[key], got[key]) for key in expected if expected[key] != got[key]}
    assert not different, "\n".join(
        f"{key}: {ps.short_repr(want)} vs {ps.short_repr(have)}"
        for key, (want, have) in different.items())
    assert ps.client(server).dbsize() == len(JSON_DOCUMENTS) + 1


# ---------------------------------------------------------------------------------------------
# Restarts of one server on its own directory


def mutate(server, step: int):
    """Deterministic changes after a save, so that each restart has something new to keep."""
    c0, c1 = ps.client(server, 0), ps.client(server, 1)
    c0.delete("str:raw", "list:small", f"bulk:str:{step}")
    c0.set(f"new:{step}", f"after save {step}")
    c0.rpush("list:multinode", *[f"more-{step}-{i}" for i in range(50)])
    c0.zadd("zset:skiplist", {f"new{step}": -1.5 * step})
    c0.hset("hash:hashtable", f"new{step}", "x" * 100)
    c0.srem("set:int64", "1")
    c0.pfadd("hll:sparse", f"new{step}")
    c0.pexpire("ttl:far:list", ps.FAR_PEXPIRE_MS // 2)
    c0.persist("ttl:far:str")
    c1.flushdb()  # A database that empties must be empty after the restart too.
    ps.client(server, 7).set(f"db7:{step}", "x")
    for c in (c0, c1):
        c.close()


@pytest.mark.parametrize("kind,threads,restart_threads", [("shoal", 4, 1), ("shoal", 1, 4),
                                                          ("redis", None, None)])
def test_restart_keeps_dataset(launch, kind, threads, restart_threads):
    """SAVE + kill -9, SHUTDOWN SAVE, SIGTERM with save points: each restart loads what was
    there; the last one with another --threads (keys go to other shards)."""
    server = launch(kind, save="3600 1", threads=threads)
    ps.start(server)
    ps.fill(server, SEED)

    save(server, "SAVE")
    expected = ps.read_keyspace(server)
    ps.kill9(server)
    ps.start(server)
    ps.assert_same_keyspace(expected, ps.read_keyspace(server),
                            ("before SAVE + kill -9", "after restart"), b_reloaded=True)

    mutate(server, 1)
    expected = ps.read_keyspace(server)
    assert ps.shutdown(server, "SAVE") == 0
    ps.start(server)
    ps.assert_same_keyspace(expected, ps.read_keyspace(server),
                            ("before SHUTDOWN SAVE", "after restart"), b_reloaded=True)

    mutate(server, 2)
    expected = ps.read_keyspace(server)
    assert ps.stop_with(server, signal.SIGTERM) == 0
    server.options["threads"] = restart_threads
    ps.start(server)
    ps.assert_same_keyspace(expected, ps.read_keyspace(server),
                            ("before SIGTERM (save points set)",
                             f"after restart with --threads {restart_threads}"), b_reloaded=True)


@KINDS
def test_shutdown_nosave_keeps_previous_file(launch, kind):
    server = launch(kind, save="3600 1")
    ps.start(server)
    ps.fill(server, SEED, bulk_keys=100)
    save(server, "SAVE")
    saved_bytes = ps.rdb_path(server).read_bytes()
    expected = ps.read_keyspace(server)
    ps.client(server).set("written:after:save", "lost")
    assert ps.shutdown(server, "NOSAVE") == 0
    assert ps.rdb_path(server).read_bytes() == saved_bytes, "SHUTDOWN NOSAVE changed the file"
    ps.start(server)
    ps.assert_same_keyspace(expected, ps.read_keyspace(server),
                            ("at SAVE", "after SHUTDOWN NOSAVE and restart"), b_reloaded=True)


@KINDS
def test_no_save_points_means_no_save_at_exit(launch, kind):
    """With --save '': SIGTERM and a plain SHUTDOWN write nothing, not even a first file."""
    server = launch(kind, save="")
    ps.start(server)
    ps.client(server).set("k", "v")
    assert ps.stop_with(server, signal.SIGTERM) == 0
    assert sorted(p.name for p in server.workdir.glob("*.rdb")) == [], \
        "SIGTERM without save points wrote a file"

    ps.start(server)
    c = ps.client(server)
    assert c.dbsize() == 0
    c.set("saved", "1")
    save(server, "SAVE")
    saved_bytes = ps.rdb_path(server).read_bytes()
    ps.client(server).set("not:saved", "1")
    assert ps.stop_with(server, signal.SIGTERM) == 0
    assert ps.rdb_path(server).read_bytes() == saved_bytes, "SIGTERM without save points saved"

    ps.start(server)
    ps.client(server).set("not:saved:either", "1")
    assert ps.shutdown(server) == 0
    assert ps.rdb_path(server).read_bytes() == saved_bytes, \
        "SHUTDOWN without save points saved"
    ps.start(server)
    assert sorted(ps.client(server).keys()) == [b"saved"]


@KINDS
def test_save_point_triggers_background_save(launch, kind):
    """--save "1 1": one change, and a background save follows within a few seconds."""
    server = launch(kind, save="1 1")
    ps.start(server)
    c = ps.raw_client(server)
    before = ps.lastsave(c)
    assert c.execute_command("SET", "k", "v") == b"OK"
    persistence = dict(ps.info_section(c, "persistence"))
    if ps.lastsave(c) == before and persistence["rdb_bgsave_in_progress"] == "0":
        assert persistence["rdb_changes_since_last_save"] == "1", persistence
    deadline = time.monotonic() + 6 * ps.SLOWDOWN
    while time.monotonic() < deadline:
        persistence = dict(ps.info_section(c, "persistence"))
        if (ps.lastsave(c) > before and persistence["rdb_bgsave_in_progress"] == "0" and
                persistence["rdb_changes_since_last_save"] == "0"):
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"no background save within 6 s of a change with --save '1 1': "
                             f"LASTSAVE {ps.lastsave(c)} (was {before}), {persistence}")
    assert persistence["rdb_last_bgsave_status"] == "ok"
    ps.kill9(server)
    ps.start(server)
    assert ps.client(server).get("k") == b"v"


# ---------------------------------------------------------------------------------------------
# CONFIG and INFO


def config_transcript(server, commands) -> list:
    """[(command, reply bytes)], where a bulk string starting with the server's directory reads
    $?<CRLF><dir>... (the two servers' directories differ)."""
    workdir = re.compile(rb"\$\d+\r\n" + re.escape(str(server.workdir).encode()))
    with RespConnection(server.port) as conn:
        return [(" ".join(map(str, cmd)), workdir.sub(b"$?\r\n<dir>", conn.call(*cmd)))
                for cmd in commands]


def assert_same_transcripts(redis_side, shoal_side):
    differences = [f"{cmd}\n    redis: {expected!r}\n    shoal: {got!r}"
                   for (cmd, expected), (_, got) in zip(redis_side, shoal_side) if got != expected]
    assert not differences, f"{len(differences)} replies differ:\n" + "\n".join(differences)


CONFIG_COMMANDS = [
    ("CONFIG", "GET", "save"), ("CONFIG", "GET", "dir"), ("CONFIG", "GET", "dbfilename"),
    ("CONFIG", "SET", "save", "100 10 50 20"), ("CONFIG", "GET", "save"),
    ("CONFIG", "SET", "save", "50 20 100 10"), ("CONFIG", "GET", "save"),
    ("CONFIG", "SET", "save", "10 1 10 1"), ("CONFIG", "GET", "save"),
    ("CONFIG", "SET", "save", ""), ("CONFIG", "GET", "save"),
    ("CONFIG", "SET", "save", "  60   5 "), ("CONFIG", "SET", "save", "bad"),
    ("CONFIG", "SET", "save", "1"), ("CONFIG", "SET", "save", "1 2 3"),
    ("CONFIG", "SET", "save", "-1 5"), ("CONFIG", "SET", "save", "0 0"),
    ("CONFIG", "SET", "save", "1 -1"), ("CONFIG", "GET", "save"),
    ("CONFIG", "SET", "dir", "/tmp"), ("CONFIG", "SET", "dbfilename", "other.rdb"),
    ("CONFIG", "SET", "dbfilename", "a/b"), ("CONFIG", "SET", "save", "3600 1", "dbfilename", "x"),
    ("CONFIG", "GET", "save"), ("CONFIG", "GET", "dbfilename"), ("CONFIG", "GET", "dir"),
]


@pytest.mark.parametrize("startup_save", [None, "", "900 1 300 10"])
def test_config_persistence_options_as_redis(launch, startup_save):
    """CONFIG GET/SET of save, dir, dbfilename (the last two protected, as Redis's default)."""
    transcripts = []
    for kind in ("redis", "shoal"):
        server = launch(kind, save=startup_save)
        ps.start(server)
        transcripts.append(config_transcript(server, CONFIG_COMMANDS))
    assert_same_transcripts(*transcripts)


def test_config_set_dir_with_protected_configs_enabled(launch):
    transcripts = []
    for kind in ("redis", "shoal"):
        server = launch(kind, extra=("--enable-protected-configs", "yes"))
        ps.start(server)
        (server.workdir / "sub").mkdir()
        transcripts.append(config_transcript(server, [
            ("CONFIG", "SET", "dir", "/nonexistent/dir"), ("CONFIG", "GET", "dir"),
            ("CONFIG", "SET", "dir", str(server.workdir / "sub")), ("CONFIG", "GET", "dir"),
            ("CONFIG", "SET", "dbfilename", "a/b"), ("CONFIG", "SET", "dbfilename", "other.rdb"),
            ("CONFIG", "GET", "dbfilename"), ("SET", "k", "v"), ("SAVE",)]))
        written = server.workdir / "sub" / "other.rdb"
        assert written.exists() and written.read_bytes().startswith(b"REDIS"), \
            f"{server.name}: SAVE after CONFIG SET dir/dbfilename did not write {written}"
    assert_same_transcripts(*transcripts)


def test_info_persistence_fields_as_redis(launch):
    fields = {}
    for kind in ("redis", "shoal"):
        server = launch(kind)
        ps.start(server)
        fields[kind] = [name for name, _ in ps.info_section(ps.raw_client(server),
                                                            "persistence")]
    assert fields["shoal"] == fields["redis"], (
        f"INFO persistence fields differ\n    redis: {fields['redis']}\n"
        f"    shoal: {fields['shoal']}")


def test_changes_since_last_save_rise_with_writes(launch):
    """rdb_changes_since_last_save (Redis's `dirty`): writes raise it, reads do not, SAVE resets
    it. Shoal counts write commands where Redis counts changed elements (MSET of 3 is 1, not 3:
    documented in the README), so only that shape is compared."""
    steps = [("SET", "a", "1"), ("GET", "a"), ("MSET", "b", "1", "c", "2"), ("EXISTS", "a"),
             ("RPUSH", "l", "1", "2", "3"), ("INCR", "n"), ("TYPE", "l"), ("SAVE",)]
    for kind in ("redis", "shoal"):
        server = launch(kind)
        ps.start(server)
        c = ps.raw_client(server)
        seen = [int(ps.info_field(c, "rdb_changes_since_last_save"))]
        for step in steps:
            c.execute_command(*step)
            seen.append(int(ps.info_field(c, "rdb_changes_since_last_save")))
        assert seen[0] == 0, (kind, seen)
        for i, step in enumerate(steps):
            before, after = seen[i], seen[i + 1]
            if step[0] == "SAVE":
                assert after == 0, (kind, step, seen)
            elif step[0] in ("GET", "EXISTS", "TYPE"):
                assert after == before, (kind, step, seen)
            else:
                assert after > before, (kind, step, seen)


def wait_no_save_running(conn: RespConnection, timeout: float = 30.0):
    deadline = time.monotonic() + timeout * ps.SLOWDOWN
    while b"rdb_bgsave_in_progress:0" not in conn.call("INFO", "persistence"):
        assert time.monotonic() < deadline, "the background save did not end"
        time.sleep(0.02)


def persistence_status(conn: RespConnection) -> bytes:
    info = conn.call("INFO", "persistence")
    return re.search(rb"rdb_last_bgsave_status:\w+", info).group(0)


@pytest.mark.parametrize("save_points", ["", "3600 1"])
def test_failing_saves_as_redis(launch, save_points):
    """dump.rdb is a directory, so the final rename fails: SAVE and BGSAVE report the failure as
    Redis does, and with save points set, writes are refused (MISCONF) until a save succeeds."""
    transcripts = []
    for kind in ("redis", "shoal"):
        server = launch(kind, save=save_points)
        ps.start(server)
        blocker = ps.rdb_path(server)
        (blocker / "x").mkdir(parents=True)
        transcript = []
        with RespConnection(server.port) as conn:
            def call(*cmd):
                transcript.append((" ".join(cmd), conn.call(*cmd)))
            call("SET", "k", "v1")
            call("SAVE")
            transcript.append(("after SAVE", persistence_status(conn)))
            call("SET", "k", "v1b")  # A failed SAVE alone does not stop writes.
            call("BGSAVE")
            wait_no_save_running(conn)
            transcript.append(("after BGSAVE", persistence_status(conn)))
            call("SET", "k", "v2")
            call("GET", "k")
            call("DEL", "k")
            call("DBSIZE")
            shutil.rmtree(blocker)
            call("BGSAVE")
            wait_no_save_running(conn)
            transcript.append(("after BGSAVE", persistence_status(conn)))
            call("SET", "k", "v3")
            call("SAVE")
            call("GET", "k")
        transcripts.append(transcript)
    assert_same_transcripts(*transcripts)


# ---------------------------------------------------------------------------------------------
# Damaged files


def _flip(data: bytes, offset: int) -> bytes:
    damaged = bytearray(data)
    damaged[offset] ^= 0xFF
    return bytes(damaged)


# name -> function of the good file's bytes. Header changes get a recomputed checksum, so that
# the version or magic check, not the checksum, is what judges them.
DAMAGE = {
    "wrong_magic": lambda d: ps.with_valid_checksum(b"REDIX" + d[5:-8]),
    "version_0": lambda d: ps.with_valid_checksum(b"REDIS0000" + d[9:-8]),
    "version_11": lambda d: ps.with_valid_checksum(b"REDIS0011" + d[9:-8]),
    "version_99": lambda d: ps.with_valid_checksum(b"REDIS0099" + d[9:-8]),
    "version_not_digits": lambda d: ps.with_valid_checksum(b"REDIS00x9" + d[9:-8]),
    "version_9_header": lambda d: ps.with_valid_checksum(b"REDIS0009" + d[9:-8]),
    "bad_checksum": lambda d: d[:-1] + bytes([d[-1] ^ 1]),
    "zero_checksum": lambda d: d[:-8] + bytes(8),  # Redis: "saved with checksum disabled".
    "trailing_bytes": lambda d: d + b"garbage after the checksum",
    "no_eof_opcode": lambda d: ps.with_valid_checksum(d[:-9]),
    "empty_file": lambda d: b"",
    **{f"truncated_at_{cut}": (lambda cut: lambda d: d[:cut])(cut) for cut in (5, 9, 30, 100)},
    **{f"truncated_at_{pct}pct": (lambda pct: lambda d: d[:len(d) * pct // 100])(pct)
       for pct in (25, 50, 99)},
    "truncated_checksum": lambda d: d[:-4],
    "truncated_before_checksum": lambda d: d[:-8],
    **{f"flipped_byte_{pct}pct": (lambda pct: lambda d: _flip(d, 9 + (len(d) - 9) * pct // 100))(
        pct) for pct in (0, 1, 3, 10, 30, 50, 70, 90, 99)},
    "flipped_checksum_byte": lambda d: _flip(d, len(d) - 3),
}


# A Redis-style log line below warning level ("pid:role date time level message", the levels
# being . - * #): "* Loading RDB..." is not a complaint.
INFO_LOG_LINE = re.compile(r"^\d+:[MCSX] \d{2} \w{3} \d{4} [\d:.]+ [.*-] ")


@pytest.fixture(scope="module")
def good_rdb():
    """An RDB file of a small dataset (every type) written by redis-server."""
    source = ps.make_server("redis")
    ps.start(source)
    try:
        ps.fill(source, SEED, bulk_keys=100)
        save(source, "SAVE")
        yield ps.rdb_path(source).read_bytes()
    finally:
        source.cleanup()


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_file_as_redis(launch, good_rdb, damage):
    """A file redis-server refuses stops shoal-server's start-up: exit code > 0 (no crash), a
    message about the RDB file on stderr, no port opened. A file redis-server accepts loads."""
    data = DAMAGE[damage](good_rdb)
    redis_side, shoal_side = launch("redis"), launch("shoal")
    for server in (redis_side, shoal_side):
        ps.rdb_path(server).write_bytes(data)
    reference = ps.try_start("redis", redis_side.workdir)
    outcome = ps.try_start("shoal", shoal_side.workdir)
    if reference.returncode is not None:
        assert outcome.returncode is not None, (
            f"redis-server refuses this file ({reference.returncode}) but shoal-server started "
            f"on it: {outcome.describe()}")
        assert outcome.returncode > 0, f"shoal-server did not exit cleanly: {outcome.describe()}"
        log = outcome.stderr if not ps.servers.is_self_test() else outcome.stdout  # Redis: stdout.
        complaints = [line for line in log.splitlines() if not INFO_LOG_LINE.match(line) and
                      re.search(r"\b(rdb|db|dump\.rdb)\b", line, re.IGNORECASE)]
        assert complaints, (f"no warning on stderr says what is wrong with the RDB file: "
                            f"{outcome.describe()}")
        return
    assert outcome.returncode is None, (
        f"redis-server loads this file but shoal-server refused it: {outcome.describe()}")
    for server in (redis_side, shoal_side):
        ps.start(server)
    ps.assert_same_keyspace(ps.read_keyspace(redis_side), ps.read_keyspace(shoal_side),
                            ("redis-server loading the file", "shoal-server loading it"))


# ---------------------------------------------------------------------------------------------
# BGSAVE under load


class PairWriter(threading.Thread):
    """Writes pair i (keys pair:i:a and pair:i:b) to the value v, v = 1, 2, 3...: one MSET or one
    MULTI/EXEC each, pipelined. `log[v - 1]` is the pair of write v; `acked` the last v replied."""

    def __init__(self, server, pairs: int, seed: int):
        super().__init__(daemon=True)
        self.client = ps.raw_client(server)
        self.pairs, self.rng = pairs, random.Random(seed)
        self.log, self.acked, self.error = [], 0, None
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                pipe = self.client.pipeline(transaction=False)
                for _ in range(50):
                    v = len(self.log) + 1
                    i = self.rng.randrange(self.pairs)
                    self.log.append(i)
                    a, b = f"pair:{i}:a", f"pair:{i}:b"
                    if v % 2:
                        pipe.execute_command("MSET", a, v, b, v)
                    else:
                        pipe.execute_command("MULTI")
                        pipe.execute_command("SET", a, v)
                        pipe.execute_command("SET", b, v)
                        pipe.execute_command("EXEC")
                replies = pipe.execute(raise_on_error=False)
                bad = [r for r in replies if isinstance(r, Exception)]
                assert not bad, bad[:3]
                self.acked = len(self.log)
        except Exception as e:  # noqa: BLE001 (reported by the test)
            self.error = e


def fill_pairs(server, pairs: int):
    c = ps.raw_client(server)
    for start in range(0, pairs, 1000):
        args = []
        for i in range(start, min(pairs, start + 1000)):
            args += [f"pair:{i}:a", 0, f"pair:{i}:b", 0]
        c.execute_command("MSET", *args)
    c.close()


def read_pairs(server, pairs: int) -> list:
    c = ps.raw_client(server)
    values = []
    for start in range(0, pairs, 1000):
        keys = [f"pair:{i}:{side}" for i in range(start, min(pairs, start + 1000))
                for side in "ab"]
        got = c.execute_command("MGET", *keys)
        values += [(got[j], got[j + 1]) for j in range(0, len(got), 2)]
    c.close()
    return values


@KINDS
def test_bgsave_under_writes_is_point_in_time(launch, kind):
    """100k pairs (200k keys) on 4 shards; a writer keeps rewriting pairs, each with one MSET or
    MULTI/EXEC, all through a BGSAVE. In the file, no pair is torn, and the writes it holds are
    exactly the first M of the writer's sequence (M >= the writes acknowledged before BGSAVE)."""
    pairs = 100_000
    server = launch(kind, threads=4)
    ps.start(server)
    fill_pairs(server, pairs)
    c = ps.raw_client(server)
    before = ps.lastsave(c)
    ps.wait_next_second(before)
    writer = PairWriter(server, pairs, SEED)
    writer.start()
    while writer.acked < 2000 and writer.is_alive():
        time.sleep(0.01)
    acked_before = writer.acked
    assert c.execute_command("BGSAVE") == b"Background saving started"
    acked_at_reply = writer.acked
    ps.wait_bgsave_done(c, before)
    acked_after = writer.acked
    writer.stop.set()
    writer.join(30)
    assert writer.error is None, f"writer failed: {writer.error!r}"
    # Usually writes are acknowledged while the save runs; on a loaded machine the writer thread
    # may not get a turn before it ends. The image must be point-in-time either way.
    overlapped = acked_after > acked_at_reply
    print(f"writes acknowledged during the save: {acked_after - acked_at_reply} "
          f"(overlapped: {overlapped})")

    loaded = launch(kind, threads=4)
    copy_rdb(server, loaded)
    ps.start(loaded)
    assert ps.client(loaded).dbsize() == 2 * pairs
    values = read_pairs(loaded, pairs)
    torn = [(i, a, b) for i, (a, b) in enumerate(values) if a != b]
    assert not torn, f"{len(torn)} torn pairs (pair, a, b), e.g. {torn[:10]}"
    newest = max(int(a) for a, _ in values)
    assert newest >= acked_before, (f"the file misses writes acknowledged before BGSAVE: it holds "
                                    f"writes up to {newest}, {acked_before} were acknowledged")
    expected = [0] * pairs
    for v, i in enumerate(writer.log[:newest], start=1):
        expected[i] = v
    not_prefix = [(i, int(a), expected[i]) for i, (a, _) in enumerate(values)
                  if int(a) != expected[i]]
    assert not not_prefix, (
        f"not a point-in-time image: the newest write in the file is {newest}, but "
        f"{len(not_prefix)} pairs hold another value than after writes 1..{newest} "
        f"(pair, in file, expected), e.g. {not_prefix[:10]}")


@pytest.mark.parametrize("flush", ["FLUSHALL", "FLUSHALL ASYNC", "FLUSHDB", "SELECT 1|FLUSHDB"])
@KINDS
def test_flush_during_bgsave_keeps_the_image(launch, kind, flush):
    """A flush right after BGSAVE (same pipeline) empties the server, not the file: the file
    holds every key as it was when the save began, and nothing written after. (Redis's FLUSHALL
    cancels a running BGSAVE instead, so that no file is written: allowed too, never a part.)"""
    server = launch(kind, threads=4)
    ps.start(server)
    fill_pairs(server, 50_000)
    ps.client(server, 1).mset({f"db1:{i}": i for i in range(1000)})
    with RespConnection(server.port) as conn:
        commands = [("BGSAVE",), *[tuple(part.split()) for part in flush.split("|")],
                    ("SET", "after:flush", "1")]
        conn.send_raw(b"".join(encode_command(cmd) for cmd in commands))
        replies = [conn.read_reply().raw for _ in commands]
        assert replies[0] == b"+Background saving started\r\n", replies
        assert all(r == b"+OK\r\n" for r in replies[1:]), replies
        wait_no_save_running(conn)
        assert persistence_status(conn) == b"rdb_last_bgsave_status:ok"
    if flush.startswith("FLUSHALL") and not ps.rdb_path(server).exists():
        return  # Cancelled, as Redis does.
    loaded = launch(kind)
    copy_rdb(server, loaded)
    ps.start(loaded)
    sizes = (ps.client(loaded, 0).dbsize(), ps.client(loaded, 1).dbsize())
    assert sizes == (100_000, 1000), \
        f"the file holds {sizes} keys in dbs 0 and 1, not (100000, 1000)"
    values = read_pairs(loaded, 50_000)
    assert values == [(b"0", b"0")] * 50_000
    assert ps.client(loaded, 0).get("after:flush") is None
    assert ps.client(loaded, 1).get("after:flush") is None


MIXED_SIZES = {"s": 20_000, "h": 2000, "l": 2000, "set": 2000, "z": 2000, "c": 1000}


def fill_mixed(server):
    """About 29k keys of every type, so that a background save takes a while."""
    c = ps.raw_client(server)
    pipe = c.pipeline(transaction=False)
    for start in range(0, MIXED_SIZES["s"], 1000):
        pipe.execute_command("MSET", *[x for i in range(start, start + 1000)
                                       for x in (f"s:{i}", f"string-{i}" * (1 + i % 5))])
    for i in range(MIXED_SIZES["h"]):
        pipe.execute_command("HSET", f"h:{i}", *[x for f in range(10) for x in (f"f{f}", i * f)])
        pipe.execute_command("RPUSH", f"l:{i}", *range(i, i + 10))
        pipe.execute_command("SADD", f"set:{i}", *range(i, i + 10))
        pipe.execute_command("ZADD", f"z:{i}", *[x for m in range(10) for x in (m / 4, f"m{m}")])
    pipe.execute_command("MSET", *[x for i in range(MIXED_SIZES["c"]) for x in (f"c:{i}", i)])
    pipe.execute()


def mixed_operation(rng: random.Random) -> list:
    """One random write (a few commands) over the keys of fill_mixed, new keys, db 1."""
    def key(kind):
        return f"{kind}:{rng.randrange(MIXED_SIZES[kind])}"
    value = f"v{rng.randrange(10**6)}"
    return rng.choice([
        lambda: [("SET", key("s"), value)],
        lambda: [("SET", f"new:{rng.randrange(5000)}", value)],
        lambda: [("DEL", key(rng.choice(list(MIXED_SIZES))))],
        lambda: [("UNLINK", key("h"), key("l"))],
        lambda: [("RENAME", key("s"), key("s"))],
        lambda: [("COPY", key("h"), key("h"), "REPLACE")],
        lambda: [("MOVE", key("s"), 1)],
        lambda: [("MSET", key("s"), value, key("s"), value)],
        lambda: [("APPEND", key("s"), "+"), ("SETRANGE", key("s"), 3, "xyz")],
        lambda: [("HSET", key("h"), f"f{rng.randrange(20)}", value)],
        lambda: [("HDEL", key("h"), f"f{rng.randrange(10)}")],
        lambda: [("RPUSH", key("l"), value), ("LPOP", key("l"))],
        lambda: [("LMOVE", key("l"), key("l"), "LEFT", "RIGHT")],
        lambda: [("SADD", key("set"), rng.randrange(100)), ("SREM", key("set"), rng.randrange(50))],
        lambda: [("SUNIONSTORE", key("set"), key("set"), key("set"))],
        lambda: [("ZADD", key("z"), rng.randrange(-100, 100) / 8, f"m{rng.randrange(15)}")],
        lambda: [("ZINCRBY", key("z"), 1.5, f"m{rng.randrange(10)}")],
        lambda: [("INCRBY", key("c"), rng.randrange(-5, 100))],
        lambda: [("PEXPIREAT", key(rng.choice(list(MIXED_SIZES))),
                  ps.FIXED_PEXPIREAT_MS + rng.randrange(10**6))],
        lambda: [("PERSIST", key("s"))],
    ])()


class MixedWriter(threading.Thread):
    """Runs mixed operations, operation v as MULTI <its commands> SET seq v EXEC, pipelined."""

    def __init__(self, server, seed: int):
        super().__init__(daemon=True)
        self.client = ps.raw_client(server)
        self.rng = random.Random(seed)
        self.log, self.acked, self.error = [], 0, None
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                pipe = self.client.pipeline(transaction=False)
                for _ in range(20):
                    self.log.append(mixed_operation(self.rng))
                    for cmd in [("MULTI",), *self.log[-1], ("SET", "seq", len(self.log)),
                                ("EXEC",)]:
                        pipe.execute_command(*cmd)
                pipe.execute(raise_on_error=False)  # EXEC holds the (deterministic) errors.
                self.acked = len(self.log)
        except Exception as e:  # noqa: BLE001 (reported by the test)
            self.error = e


def replay(server, operations):
    c = ps.raw_client(server)
    for start in range(0, len(operations), 200):
        pipe = c.pipeline(transaction=False)
        for v, commands in enumerate(operations[start:start + 200], start=start + 1):
            for cmd in [("MULTI",), *commands, ("SET", "seq", v), ("EXEC",)]:
                pipe.execute_command(*cmd)
        pipe.execute(raise_on_error=False)


@KINDS
def test_bgsave_under_mixed_writes_is_point_in_time(launch, kind):
    """A writer runs random writes of every kind (creations, deletions, RENAME, COPY, MOVE to db
    1, cross-shard stores, TTLs...) through a BGSAVE, each write numbered by SET seq in its
    MULTI/EXEC. The file must equal, key for key, the dataset after writes 1..seq: redis-server
    replaying them is the reference."""
    server = launch(kind, threads=4)
    ps.start(server)
    fill_mixed(server)
    c = ps.raw_client(server)
    before = ps.lastsave(c)
    ps.wait_next_second(before)
    writer = MixedWriter(server, SEED)
    writer.start()
    while writer.acked < 500 and writer.is_alive():
        time.sleep(0.01)
    acked_before = writer.acked
    assert c.execute_command("BGSAVE") == b"Background saving started"
    acked_at_reply = writer.acked
    ps.wait_bgsave_done(c, before)
    acked_after = writer.acked
    writer.stop.set()
    writer.join(30)
    assert writer.error is None, f"writer failed: {writer.error!r}"
    print(f"writes acknowledged: {acked_before} before BGSAVE, {acked_at_reply} at its reply, "
          f"{acked_after} when it was done")
    # Usually writes are acknowledged while the save runs; on a loaded machine the writer thread
    # may not get a turn before it ends. The image must be point-in-time either way.
    overlapped = acked_after > acked_at_reply
    print(f"writes acknowledged during the save: {acked_after - acked_at_reply} "
          f"(overlapped: {overlapped})")

    loaded = launch(kind, threads=4)
    copy_rdb(server, loaded)
    ps.start(loaded)
    seq = int(ps.client(loaded).get("seq"))
    assert acked_before <= seq <= len(writer.log), (
        f"the file holds writes 1..{seq}; {acked_before} were acknowledged before BGSAVE, "
        f"{len(writer.log)} sent in all")
    reference = launch("redis")
    ps.start(reference)
    fill_mixed(reference)
    replay(reference, writer.log[:seq])
    ps.assert_same_keyspace(ps.read_keyspace(reference), ps.read_keyspace(loaded),
                            (f"redis-server after writes 1..{seq}",
                             f"the file of the BGSAVE that began at write {seq}"),
                            encodings=False)


@KINDS
def test_bgsave_while_saving(launch, kind):
    """During a BGSAVE, BGSAVE, BGSAVE SCHEDULE and SAVE are refused; BGSAVE inside MULTI/EXEC is
    scheduled, and that later save holds what the transaction wrote."""
    server = launch(kind, threads=4)
    ps.start(server)
    fill_pairs(server, 100_000)
    c = ps.raw_client(server)
    saves_before = int(ps.info_field(c, "rdb_saves"))
    with RespConnection(server.port) as conn:
        conn.send_raw(b"".join(encode_command(cmd) for cmd in (
            ("BGSAVE",), ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("SAVE",))))
        replies = [conn.read_reply().raw for _ in range(4)]
        assert replies == [b"+Background saving started\r\n",
                           b"-ERR Background save already in progress\r\n",
                           b"-ERR Background save already in progress\r\n",
                           b"-ERR Background save already in progress\r\n"]
        ps.wait_saves(c, saves_before + 1)
        conn.send_raw(b"".join(encode_command(cmd) for cmd in (
            ("MULTI",), ("SET", "written:in:multi", "1"), ("BGSAVE",), ("EXEC",))))
        replies = [conn.read_reply().raw for _ in range(4)]
        assert replies == [b"+OK\r\n", b"+QUEUED\r\n", b"+QUEUED\r\n",
                           b"*2\r\n+OK\r\n+Background saving scheduled\r\n"]
    ps.wait_saves(c, saves_before + 2)
    loaded = launch(kind)
    copy_rdb(server, loaded)
    ps.start(loaded)
    assert ps.client(loaded).get("written:in:multi") == b"1"
    assert ps.client(loaded).dbsize() == 200_001
