"""Sorted-set behaviour the differential scripts cannot pin down byte for byte: random members
(ZRANDMEMBER), the scan order of big zsets (ZSCAN), and big collections end to end (converted
encodings, ranks and ranges over thousands of members, cross-shard pops and stores), checked
against a model in Python rather than against redis-server's exact reply."""

import random

import pytest
import redis


@pytest.fixture
def r(shoal):
    client = redis.Redis(port=shoal.port, decode_responses=True)
    client.flushall()
    yield client
    client.close()


def fill(r, key, n, prefix="m"):
    members = {f"{prefix}{i:06d}": float((i * 7919) % 1000) / 4 for i in range(n)}
    items = list(members.items())
    for i in range(0, n, 500):
        r.zadd(key, dict(items[i:i + 500]))
    return members


def model_order(members):
    return sorted(members.items(), key=lambda kv: (kv[1], kv[0]))


@pytest.mark.parametrize("n", [50, 3000])  # listpack, then the big encoding
def test_zrandmember_members_belong_and_are_distinct(r, n):
    members = fill(r, "z", n)
    assert r.object("encoding", "z") == ("listpack" if n <= 128 else "skiplist")
    one = r.zrandmember("z")
    assert one in members
    for count in (1, 5, n // 3, n // 2, n - 1, n, n + 10):
        got = r.zrandmember("z", count)
        assert len(got) == min(count, n)
        assert len(set(got)) == len(got), "positive counts return distinct members"
        assert set(got) <= set(members)
    got = r.zrandmember("z", -(n + 20))
    assert len(got) == n + 20 and set(got) <= set(members)
    pairs = r.zrandmember("z", 7, withscores=True)
    assert len(pairs) == 14
    for m, s in zip(pairs[::2], pairs[1::2]):
        assert members[m] == float(s)


def test_zrandmember_is_spread_over_the_whole_zset(r):
    members = fill(r, "z", 1000)
    seen = set()
    for _ in range(60):
        seen.update(r.zrandmember("z", -50))
    # 3000 draws over 1000 members: each is missed with probability ~5%.
    assert len(seen) > 900
    assert seen <= set(members)


@pytest.mark.parametrize("n", [100, 5000])
def test_zscan_visits_every_member_with_its_score(r, n):
    members = fill(r, "z", n)
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, page = r.zscan("z", cursor, count=37)
        calls += 1
        for m, s in page:
            seen[m] = s
        if cursor == 0:
            break
    assert seen == members
    if n > 128:
        assert calls > 10, "a big zset is scanned in steps"
    matched = {}
    cursor = 0
    while True:
        cursor, page = r.zscan("z", cursor, match="m0001*", count=100)
        matched.update(dict(page))
        if cursor == 0:
            break
    assert matched == {m: s for m, s in members.items() if m.startswith("m0001")}


def test_zscan_survives_growth_during_the_scan(r):
    members = fill(r, "z", 2000)
    seen = set()
    cursor, page = r.zscan("z", 0, count=50)
    seen.update(m for m, _ in page)
    extra = 0
    while cursor != 0:
        r.zadd("z", {f"new{extra}": 1})  # Grows the table: rehashing mid-scan.
        extra += 1
        cursor, page = r.zscan("z", cursor, count=50)
        seen.update(m for m, _ in page)
    assert set(members) <= seen


def test_big_zset_ranks_ranges_and_removals_match_a_model(r):
    members = fill(r, "big", 20000)
    order = model_order(members)
    assert r.zcard("big") == 20000
    rng = random.Random(5)
    for _ in range(200):
        i = rng.randrange(len(order))
        m, s = order[i]
        assert r.zrank("big", m) == i
        assert r.zrevrank("big", m) == len(order) - 1 - i
        assert r.zscore("big", m) == s
    assert r.zrange("big", 100, 120, withscores=True) == order[100:121]
    assert r.zrange("big", -5, -1) == [m for m, _ in order[-5:]]
    lo, hi = 50.0, 60.25
    in_range = [(m, s) for m, s in order if lo <= s <= hi]
    assert r.zcount("big", lo, hi) == len(in_range)
    assert r.zrangebyscore("big", lo, hi, withscores=True) == in_range
    assert r.zrangebyscore("big", lo, hi, start=10, num=5) == [m for m, _ in in_range[10:15]]
    assert r.zrevrangebyscore("big", hi, lo) == [m for m, _ in reversed(in_range)]
    # Remove a rank range, a score range, and single members; check against the model.
    assert r.zremrangebyrank("big", 1000, 1999) == 1000
    del order[1000:2000]
    removed = [(m, s) for m, s in order if 100 < s < 110]
    assert r.zremrangebyscore("big", "(100", "(110") == len(removed)
    order = [(m, s) for m, s in order if not 100 < s < 110]
    victims = rng.sample(order, 500)
    assert r.zrem("big", *[m for m, _ in victims]) == 500
    gone = {m for m, _ in victims}
    order = [(m, s) for m, s in order if m not in gone]
    assert r.zcard("big") == len(order)
    assert r.zrange("big", 0, -1, withscores=True) == order
    popped = r.zpopmin("big", 10)
    assert popped == order[:10]
    popped = r.zpopmax("big", 10)
    assert popped == list(reversed(order[-10:]))


def test_big_lex_ranges(r):
    words = [f"w{i:05d}" for i in range(5000)]
    for i in range(0, len(words), 1000):
        r.zadd("lex", {w: 0 for w in words[i:i + 1000]})
    assert r.object("encoding", "lex") == "skiplist"
    assert r.zlexcount("lex", "[w01000", "(w02000") == 1000
    assert r.zrangebylex("lex", "(w04990", "+") == words[4991:]
    assert r.zrevrangebylex("lex", "[w00010", "-", start=2, num=3) == ["w00008", "w00007",
                                                                        "w00006"]
    assert r.zremrangebylex("lex", "[w00000", "[w00999") == 1000
    assert r.zrange("lex", 0, 0) == ["w01000"]


def test_cross_shard_store_and_pop_of_big_zsets(r):
    # Enough keys that some pairs land on different shards.
    a = fill(r, "src-a", 3000)
    b = fill(r, "src-b", 3000, prefix="n")
    for dst in ("dst-1", "dst-2", "dst-3", "dst-4"):
        assert r.zunionstore(dst, ["src-a", "src-b"]) == 6000
        assert r.object("encoding", dst) == "skiplist"
        assert r.zrange(dst, 0, -1, withscores=True) == model_order({**a, **b})
        assert r.zrangestore(dst, "src-a", 0, 9) == 10
        assert r.object("encoding", dst) == "listpack"
    key, popped = r.zmpop(3, ["nokey-1", "src-b", "src-a"], min=True, count=4)
    assert key == "src-b"
    assert [(m, float(s)) for m, s in popped] == model_order(b)[:4]


def test_copy_and_delete_of_a_big_zset(r):
    members = fill(r, "big", 5000)
    for dst in ("copy-1", "copy-2", "copy-3"):
        assert r.copy("big", dst) == 1
        assert r.zrange(dst, 0, -1, withscores=True) == model_order(members)
    assert r.delete("big", "copy-1", "copy-2", "copy-3") == 4
    assert r.exists("big") == 0


def test_a_big_set_given_twice(r):
    # Growing a hashtable set leaves it mid-rehash: the algebra must still visit each member once.
    members = [f"s{i}" for i in range(5000)]
    for i in range(0, len(members), 700):
        r.sadd("bigset", *members[i:i + 700])
    assert r.object("encoding", "bigset") == "hashtable"
    inter = r.zinter(["bigset", "bigset"], withscores=True)
    assert sorted(inter) == sorted((m, 2.0) for m in members)
    assert r.zdiff(["bigset", "bigset"]) == []
    assert r.zintercard(2, ["bigset", "bigset"]) == 5000
    union = r.zunion(["bigset", "bigset"], withscores=True)
    assert len(union) == 5000 and {s for _, s in union} == {2.0}
