"""Set commands whose replies are random or cursor-driven, checked for what must hold rather than
against Redis byte for byte (the differential scripts cover the deterministic parts): random
members belong to the set, are distinct for positive counts, and come in the right number; SPOP
removes exactly what it returns; an SSCAN walk of a hashtable visits every member; and big sets
on several shards give the same algebra results as Redis.
"""

import random

import pytest
import redis


@pytest.fixture
def r(shoal):
    client = redis.Redis(host="127.0.0.1", port=shoal.port, socket_timeout=30)
    client.flushall()
    client.config_set("set-max-intset-entries", 512)
    yield client
    client.config_set("set-max-intset-entries", 512)
    client.close()


@pytest.fixture
def ref(redis_ref):
    client = redis.Redis(host="127.0.0.1", port=redis_ref.port, socket_timeout=30)
    client.flushall()
    yield client
    client.close()


def fill(r, key, members):
    members = list(members)
    for i in range(0, len(members), 1000):
        r.sadd(key, *members[i:i + 1000])
    return {str(m).encode() for m in members}


INTS = list(range(-50, 50))  # An intset.
STRS = [f"m:{i}" for i in range(100)]  # A hashtable.
BIG = [f"m:{i}" for i in range(3000)]  # A bigger hashtable (rehashes while filled).


@pytest.mark.parametrize("members", [INTS, STRS, BIG], ids=["intset", "hashtable", "big"])
def test_srandmember_counts(r, members):
    want = fill(r, "s", members)
    n = len(want)
    for count in (1, 2, n // 3 - 1, n // 3 + 1, n - 1):  # Both sampling strategies.
        got = r.srandmember("s", count)
        assert len(got) == count and len(set(got)) == count and set(got) <= want, count
    assert set(r.srandmember("s", n)) == want
    assert sorted(r.srandmember("s", n + 10)) == sorted(want)
    rep = r.srandmember("s", -3 * n)
    assert len(rep) == 3 * n and set(rep) <= want
    assert len(set(rep)) > n // 2  # Draws are spread over the set, not stuck on a few.
    singles = {r.srandmember("s") for _ in range(20 * n if n <= 100 else 500)}
    assert singles <= want and len(singles) > (n // 2 if n <= 100 else 200)
    assert r.scard("s") == n  # SRANDMEMBER never removes.


def test_srandmember_on_one_member_repeats_it(r):
    r.sadd("one", "x")
    assert r.srandmember("one", -5) == [b"x"] * 5
    assert r.srandmember("one", 5) == [b"x"]


@pytest.mark.parametrize("members", [INTS, STRS, BIG], ids=["intset", "hashtable", "big"])
@pytest.mark.parametrize("count", [1, 7, 0.9], ids=["one", "few", "most"])
def test_spop_removes_what_it_returns(r, members, count):
    want = fill(r, "p", members)
    n = len(want)
    k = int(n * count) if isinstance(count, float) else count  # "most" takes the rebuild path.
    popped = r.spop("p", k)
    assert len(popped) == k and len(set(popped)) == k and set(popped) <= want
    left = r.smembers("p")
    assert left == want - set(popped)
    assert r.scard("p") == n - k


def test_spop_one_by_one_empties_the_set(r):
    want = fill(r, "p", STRS)
    seen = [r.spop("p") for _ in range(len(want))]
    assert set(seen) == want and len(seen) == len(want)
    assert r.exists("p") == 0
    assert r.spop("p") is None


def test_spop_rebuild_picks_encoding_from_what_stays(r):
    # An all-integer hashtable (past the limit) that loses most members becomes an intset again.
    r.config_set("set-max-intset-entries", 16)
    fill(r, "ints", range(40))
    assert r.object("encoding", "ints") == b"hashtable"
    r.spop("ints", 35)
    assert r.object("encoding", "ints") == b"intset"
    left = [int(m) for m in r.sscan("ints", 0)[1]]
    assert left == sorted(left) and len(left) == 5  # An intset scans in ascending order.
    # Mixed members: an intset exactly when every member that stayed is an integer.
    for _ in range(10):
        r.delete("mixed")
        fill(r, "mixed", [str(i) for i in range(18)] + ["a", "b"])
        r.spop("mixed", 17)
        stayed = r.smembers("mixed")
        all_ints = all(m.lstrip(b"-").isdigit() for m in stayed)
        assert r.object("encoding", "mixed") == (b"intset" if all_ints else b"hashtable")


def test_spop_keeps_the_ttl(r):
    fill(r, "t", range(20))
    r.expire("t", 1000)
    r.spop("t", 18)  # The rebuild path replaces the set.
    assert 990 <= r.ttl("t") <= 1000
    r.spop("t")
    assert 990 <= r.ttl("t") <= 1000


def scan_all(r, key, **kw):
    seen, cursor, calls = [], 0, 0
    while True:
        cursor, batch = r.sscan(key, cursor, **kw)
        seen += batch
        calls += 1
        if cursor == 0:
            return seen, calls


@pytest.mark.parametrize("count", [None, 1, 7, 1000])
def test_sscan_visits_every_member_of_a_hashtable(r, count):
    want = fill(r, "h", BIG)
    seen, calls = scan_all(r, "h", count=count)
    assert set(seen) == want
    if count in (None, 1):
        assert calls > 10  # Really incremental.
    matching, _ = scan_all(r, "h", match="m:1?", count=count)
    assert set(matching) == {f"m:1{i}".encode() for i in range(10)}


def test_sscan_while_the_set_grows_and_shrinks(r):
    want = fill(r, "h", BIG)
    seen, cursor, step = set(), 0, 0
    while True:
        cursor, batch = r.sscan("h", cursor, count=20)
        seen |= set(batch)
        step += 1
        # Between calls the table grows (rehashing) and then shrinks; the original members stay.
        if step < 30:
            r.sadd("h", *[f"extra:{step}:{i}" for i in range(200)])
        elif step < 60:
            r.srem("h", *[f"extra:{step - 29}:{i}" for i in range(200)])
        if cursor == 0:
            break
    assert want <= seen


def test_sscan_of_an_intset_ignores_the_cursor(r):
    fill(r, "i", [5, 3, -1, 100])
    assert r.sscan("i", 0) == (0, [b"-1", b"3", b"5", b"100"])
    assert r.sscan("i", 987654, count=1) == (0, [b"-1", b"3", b"5", b"100"])


def test_smove_across_shards_moves_every_member(r):
    keys = [f"mv{i}" for i in range(6)]  # Several shards.
    want = fill(r, keys[0], STRS + INTS)
    rng = random.Random(5)
    for m in sorted(want):
        src = next(k for k in keys if r.sismember(k, m))
        dst = rng.choice(keys)
        assert r.smove(src, dst, m) == 1
    assert sum(r.scard(k) for k in keys) == len(want)
    assert set().union(*[r.smembers(k) for k in keys]) == want


def test_big_algebra_across_shards_matches_redis(r, ref):
    rng = random.Random(9)
    pool = [str(i) for i in range(4000)] + [f"w{i}" for i in range(4000)]
    keys = [f"alg{i}" for i in range(5)]
    for k in keys:
        members = rng.sample(pool, rng.randint(500, 3000))
        fill(r, k, members)
        fill(ref, k, members)
    for cmd in ("sinter", "sunion", "sdiff"):
        for n in (2, 3, 5):
            assert getattr(r, cmd)(keys[:n]) == getattr(ref, cmd)(keys[:n]), (cmd, n)
            store = f"{cmd}store"
            assert getattr(r, store)("dst", keys[:n]) == getattr(ref, store)("dst", keys[:n])
            assert r.object("encoding", "dst") == ref.object("encoding", "dst")
            assert r.smembers("dst") == ref.smembers("dst")
    assert r.sintercard(3, keys[:3]) == ref.sintercard(3, keys[:3])
    assert r.sintercard(2, keys[:2], limit=17) == 17
    # Integers only: the stored intersection is small enough to be an intset, and sorted.
    ints = [f"i{i}" for i in range(3)]
    for k in ints:
        members = rng.sample(range(2000), 1000)  # Hashtables; about 250 in common.
        fill(r, k, members)
        fill(ref, k, members)
    assert r.sinterstore("idst", ints) == ref.sinterstore("idst", ints)
    assert r.object("encoding", "idst") == ref.object("encoding", "idst") == b"intset"
    assert r.execute_command("SMEMBERS", "idst") == ref.execute_command("SMEMBERS", "idst")
