"""Scripts that touch keys they did not declare, on a Shoal with four shards.

Libraries such as BullMQ build key names inside their scripts. On Shoal such a script runs
holding every shard (ARCHITECTURE.md, Scripting); these tests check that it is then atomic and
correct under concurrency, and that a script proven to keep to its declared keys, which later
strays onto another shard, gets one error and then runs holding every shard.
"""

import threading

import pytest
import redis

import servers

# Builds its key names from a prefix (like BullMQ's queue scripts): declares one key, touches five.
BUMP = """
local prefix = ARGV[1]
for i = 0, 3 do redis.call('INCR', prefix .. ':c' .. i) end
return redis.call('INCR', KEYS[1])
"""
READ = """
local prefix = ARGV[1]
local out = {}
for i = 0, 3 do out[#out + 1] = redis.call('GET', prefix .. ':c' .. i) or '0' end
return out
"""


@pytest.fixture(scope="module")
def port():
    try:
        s = servers.make_shoal(threads="4")
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    s.start()
    yield s.port
    s.cleanup()


def client(port):
    return redis.Redis(port=port, decode_responses=True)


def test_undeclared_keys_are_atomic_under_concurrency(port):
    c = client(port)
    c.flushall()
    bump = c.script_load(BUMP)
    read = c.script_load(READ)
    writers, per_writer = 6, 150
    seen_torn = []
    stop = threading.Event()

    failures = []

    def writer():
        c = client(port)
        try:
            for _ in range(per_writer):
                c.evalsha(bump, 1, "q:total", "q")
        except Exception as e:  # Reported below: an error reply fails the test.
            failures.append(repr(e))

    def reader():
        c = client(port)
        while not stop.is_set():
            values = [int(v) for v in c.evalsha(read, 0, "q")]
            if len(set(values)) != 1:
                seen_torn.append(values)
            pipe = c.pipeline(transaction=True)
            for i in range(4):
                pipe.get(f"q:c{i}")
            values = [int(v or 0) for v in pipe.execute()]
            if len(set(values)) != 1:
                seen_torn.append(values)

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    readers = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads + readers:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert failures == [], failures[:3]
    assert seen_torn == [], seen_torn[:5]
    total = writers * per_writer
    assert c.get("q:total") == str(total)
    assert c.mget([f"q:c{i}" for i in range(4)]) == [str(total)] * 4


def test_proven_script_straying_to_another_shard_errs_once_then_runs(port):
    # Touches its declared key, and the key named by ARGV[1] only when ARGV[2] is 'stray'.
    body = ("redis.call('INCR', KEYS[1]) "
            "if ARGV[2] == 'stray' then redis.call('INCR', ARGV[1]) end "
            "return redis.call('GET', KEYS[1])")
    c = client(port)
    c.flushall()
    sha = c.script_load(body)
    # The first run holds every shard and proves the script (it kept to its key); the second
    # runs on the key's shard only.
    assert c.evalsha(sha, 1, "p:home", "x", "no") == "1"
    assert c.evalsha(sha, 1, "p:home", "x", "no") == "2"
    # Some of 40 names live on another shard (4 shards): straying there fails once.
    errors = 0
    for i in range(40):
        try:
            c.evalsha(sha, 1, "p:home", f"p:other{i}", "stray")
        except redis.ResponseError as e:
            assert "did not declare" in str(e), str(e)
            errors += 1
            # The next run holds every shard: the same call now works, atomically.
            c.evalsha(sha, 1, "p:home", f"p:other{i}", "stray")
            assert c.get(f"p:other{i}") == "1"
            break
    assert errors == 1, "no key of another shard among 40 names, or no error"
