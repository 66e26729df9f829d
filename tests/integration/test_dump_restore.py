"""DUMP/RESTORE between Shoal and redis-server 7.0 in both directions, for every type and
encoding (small and big ones, hundreds of elements, TTLs): a payload DUMPed by one server is
RESTOREd into the other and the contents compared through ordinary commands. Compact encodings
must also DUMP to the very same bytes. JSON values go Shoal -> Shoal (the reference server has no
JSON module).
"""

import random
import time

import pytest
import redis


@pytest.fixture
def r(shoal):
    client = redis.Redis(host="127.0.0.1", port=shoal.port, socket_timeout=30)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def ref(redis_ref):
    client = redis.Redis(host="127.0.0.1", port=redis_ref.port, socket_timeout=30)
    client.flushall()
    yield client
    client.close()


def contents(c, key):
    """What a key holds, read through commands, in an order-independent form."""
    t = c.type(key).decode()
    if t == "string":
        body = c.get(key)
    elif t == "list":
        body = c.lrange(key, 0, -1)
    elif t == "set":
        body = sorted(c.smembers(key))
    elif t == "zset":
        body = c.zrange(key, 0, -1, withscores=True)
    elif t == "hash":
        body = sorted(c.hgetall(key).items())
    else:
        body = None
    return t, c.object("encoding", key), body


def build_cases(rng):
    """(key, setup(client)) pairs covering every type and encoding."""
    cases = []

    def add(key, fn):
        cases.append((key, fn))

    add("str_int", lambda c: c.set("str_int", "12345"))
    add("str_int64", lambda c: c.set("str_int64", "-9223372036854775808"))
    add("str_small", lambda c: c.set("str_small", "hello"))
    add("str_lzf", lambda c: c.set("str_lzf", "abc" * 50))
    add("str_raw", lambda c: c.set("str_raw", bytes(rng.randrange(256) for _ in range(300))))
    add("str_big", lambda c: c.set("str_big", "x" * 100000))
    add("list_small", lambda c: c.rpush("list_small", "a", "1", "-300", "x" * 100))
    big_list = [str(rng.randrange(10**9)) if i % 2 else f"item:{i}" for i in range(5000)]
    add("list_big", lambda c: c.rpush("list_big", *big_list))
    add("set_intset", lambda c: c.sadd("set_intset", *range(-100, 400, 3)))
    add("set_intset64", lambda c: c.sadd("set_intset64", 1, 2**40, -(2**50)))
    add("set_ht", lambda c: c.sadd("set_ht", *[f"m{i}" for i in range(300)]))
    add("set_big_ints", lambda c: c.sadd("set_big_ints", *range(1000)))
    zs = {f"z{i}": rng.choice([i, i / 7, -i * 1e10]) for i in range(100)}
    add("zset_lp", lambda c: c.zadd("zset_lp", zs))
    zb = {f"z{i}": rng.random() * 1000 for i in range(700)}
    zb["inf"] = float("inf")
    zb["-inf"] = float("-inf")
    add("zset_big", lambda c: c.zadd("zset_big", zb))
    add("zset_long_member", lambda c: c.zadd("zset_long_member", {"m" * 100: 1, "a": 2}))
    add("hash_lp", lambda c: c.hset("hash_lp", mapping={f"f{i}": i * 3 for i in range(50)}))
    add("hash_big", lambda c: c.hset("hash_big", mapping={f"f{i}": f"v{i}" for i in range(1000)}))
    add("hash_long_value", lambda c: c.hset("hash_long_value", mapping={"f": "v" * 100}))
    return cases


# Encodings whose DUMP must equal Redis's byte for byte (a big list too: its nodes end where
# Redis's do).
COMPACT = {"str_int", "str_int64", "str_small", "str_lzf", "str_raw", "str_big", "list_small",
           "list_big", "set_intset", "set_intset64", "zset_lp", "zset_big", "zset_long_member",
           "hash_lp", "hash_long_value"}


@pytest.mark.parametrize("direction", ["redis_to_shoal", "shoal_to_redis"])
def test_every_type_both_ways(r, ref, direction):
    rng = random.Random(6)
    src, dst = (ref, r) if direction == "redis_to_shoal" else (r, ref)
    for key, setup in build_cases(rng):
        setup(src)
        src.pexpire(key, 500000) if key.endswith("big") else None
        payload = src.dump(key)
        ttl = src.pttl(key)
        assert dst.restore(key, max(ttl, 0), payload) == b"OK", key
        assert contents(dst, key) == contents(src, key), key
        if ttl > 0:
            assert abs(dst.pttl(key) - ttl) < 2000, key
        else:
            assert dst.pttl(key) == -1, key
        # Back again: the receiving side's DUMP restores on the sender too.
        src.delete(key)
        assert src.restore(key, 0, dst.dump(key)) == b"OK", key
        assert contents(src, key)[::2] == contents(dst, key)[::2], key


def test_compact_encodings_dump_byte_identical(r, ref):
    rng_a, rng_b = random.Random(9), random.Random(9)
    for (key, setup_a), (_, setup_b) in zip(build_cases(rng_a), build_cases(rng_b)):
        if key not in COMPACT:
            continue
        setup_a(ref)
        setup_b(r)
        assert r.object("encoding", key) == ref.object("encoding", key), key
        assert r.dump(key) == ref.dump(key), key


def test_restore_options(r, ref):
    for c in (r, ref):
        c.set("src", "value")
    payload = ref.dump("src")
    for c in (r, ref):
        assert c.restore("k_abs", int(time.time() * 1000) + 100000, payload, absttl=True)
        assert 90000 < c.pttl("k_abs") <= 100000
        # A deadline in the past: OK, and the key is not created (and REPLACE deletes).
        assert c.restore("gone", 1, payload, absttl=True)
        assert c.exists("gone") == 0
        c.set("old", "x")
        assert c.restore("old", 1, payload, absttl=True, replace=True)
        assert c.exists("old") == 0
        assert c.restore("idle", 0, payload, idletime=1000)
        assert 1000 <= c.object("idletime", "idle") <= 1001
        assert c.restore("freq", 0, payload, frequency=77)  # Ignored under an LRU policy.
        assert c.object("idletime", "freq") <= 1
    try:
        for c in (r, ref):
            c.config_set("maxmemory-policy", "allkeys-lfu")
            assert c.restore("lfu", 0, payload, frequency=77)
            assert c.object("freq", "lfu") == 77
    finally:
        for c in (r, ref):
            c.config_set("maxmemory-policy", "noeviction")


def test_restore_wakes_blocked_client(shoal):
    waiter = redis.Redis(host="127.0.0.1", port=shoal.port, socket_timeout=30)
    writer = redis.Redis(host="127.0.0.1", port=shoal.port, socket_timeout=30)
    writer.flushall()
    writer.rpush("tmp", "a", "b")
    payload = writer.dump("tmp")
    import threading
    got = []
    t = threading.Thread(target=lambda: got.append(waiter.blpop("blocked", timeout=10)))
    t.start()
    time.sleep(0.3)
    writer.restore("blocked", 0, payload)
    t.join(15)
    assert got == [(b"blocked", b"a")]
    assert writer.lrange("blocked", 0, -1) == [b"b"]


def test_restore_marks_watched_key(shoal):
    a = redis.Redis(host="127.0.0.1", port=shoal.port, socket_timeout=30)
    b = redis.Redis(host="127.0.0.1", port=shoal.port, socket_timeout=30)
    a.flushall()
    a.set("src", "v")
    payload = a.dump("src")
    p = a.pipeline(transaction=True)
    p.watch("w")
    b.restore("w", 0, payload)
    p.multi()
    p.set("x", 1)
    with pytest.raises(redis.WatchError):
        p.execute()


def test_restore_in_multi_and_script(r):
    r.set("src", "v")
    payload = r.dump("src")
    p = r.pipeline(transaction=True)
    p.restore("m1", 0, payload)
    p.get("m1")
    assert p.execute() == [b"OK", b"v"]
    assert r.eval("return redis.call('RESTORE', KEYS[1], 0, ARGV[1])", 1, "s1", payload) == b"OK"
    assert r.get("s1") == b"v"
    assert r.eval("return redis.call('DUMP', KEYS[1])", 1, "s1") == payload


def test_json_roundtrip_shoal_to_shoal(r):
    doc = '{"a":[1,2.5,"x",null,true,{"b":-0.0}],"s":"' + "long" * 30 + '"}'
    r.execute_command("JSON.SET", "j", "$", doc)
    before = r.execute_command("JSON.GET", "j")
    payload = r.dump("j")
    assert payload[0] == 7  # RDB type module2.
    r.delete("j")
    assert r.restore("j", 0, payload)
    assert r.type("j") == b"ReJSON-RL"
    assert r.execute_command("JSON.GET", "j") == before
    assert r.dump("j") == payload


def test_corrupt_payloads_refused(r):
    """Random corruptions with a valid checksum reach the decoder: Shoal must refuse them with
    Redis's error or accept a usable value, and survive."""
    rng = random.Random(3)
    r.rpush("l", *range(100))
    r.hset("h", mapping={f"f{i}": i for i in range(20)})
    r.zadd("z", {f"m{i}": i for i in range(20)})
    r.sadd("s", *range(20))
    seeds = [r.dump(k) for k in ("l", "h", "z", "s")]
    for _ in range(400):
        body = bytearray(rng.choice(seeds)[:-10])
        for _ in range(rng.randrange(1, 4)):
            body[rng.randrange(len(body))] = rng.randrange(256)
        payload = sign(bytes(body))
        try:
            r.restore("fz", 0, payload, replace=True)
        except redis.ResponseError as e:
            assert str(e) == "Bad data format", e
            continue
        r.type("fz")
        r.dump("fz")
        r.delete("fz")
    assert r.ping()


def crc64(data):
    """Redis's CRC64 (Jones, reflected), bit by bit: slow but independent of the server."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc


def sign(body):
    body = body + b"\x0a\x00"
    return body + crc64(body).to_bytes(8, "little")


@pytest.mark.parametrize("fill", [-2, -1, -5, 5, 128])
def test_pushed_lists_dump_byte_identical(r, ref, fill):
    """Lists built by pushes at both ends, with elements of every size class, split into the same
    quicklist nodes as Redis's, under size and count fill limits."""
    rng = random.Random(fill)
    ops = []
    for _ in range(3000):
        size = rng.choice([1, 5, 9, 20, 63, 64, 100, 300, 4000, 5000])
        elem = str(rng.randrange(10 ** min(size, 18))) if rng.random() < 0.3 else "e" * size
        ops.append((rng.random() < 0.3, elem))
    try:
        for c in (r, ref):
            c.config_set("list-max-listpack-size", fill)
            for left, elem in ops:
                (c.lpush if left else c.rpush)("pushed", elem)
        assert r.dump("pushed") == ref.dump("pushed")
    finally:
        for c in (r, ref):
            c.config_set("list-max-listpack-size", -2)
