"""JSON.* through clients and the server's machinery: redis-py's generic execute_command, Lua's
redis.call, MULTI/EXEC with WATCH, COMMAND INFO/DOCS, INFO's used_memory_json, and JSON.MGET /
JSON.MSET across the shards of a four-thread Shoal (atomic, all or nothing).
"""

import json
import threading
import time

import pytest
import redis

import servers
from resp import RespConnection

THREADS = 4
KEYS = [f"jm:{i}" for i in range(8)]  # Spread over the shards of a four-thread server.


@pytest.fixture(scope="module")
def server():
    try:
        s = servers.make_shoal(threads=THREADS)
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    s.start()
    yield s
    s.cleanup()


@pytest.fixture
def r(server):
    server.ensure_running()
    client = redis.Redis(port=server.port, decode_responses=True)
    client.flushall()
    yield client
    client.close()
    if not server.is_running():
        pytest.fail(f"server exited; log:\n{server.log_tail()}", pytrace=False)


def test_redis_py_generic_commands(r):
    assert r.execute_command("JSON.SET", "doc", "$", json.dumps({"a": [1, 2], "b": {"c": "d"}}))
    assert json.loads(r.execute_command("JSON.GET", "doc")) == {"a": [1, 2], "b": {"c": "d"}}
    assert json.loads(r.execute_command("JSON.GET", "doc", "$.a[*]")) == [1, 2]
    assert r.execute_command("JSON.ARRAPPEND", "doc", "$.a", "3") == [3]
    assert r.execute_command("JSON.TYPE", "doc", "$.b") == ["object"]
    assert r.execute_command("JSON.OBJKEYS", "doc", ".b") == ["c"]
    assert r.execute_command("TYPE", "doc") == "ReJSON-RL"
    with pytest.raises(redis.ResponseError, match="new objects must be created at the root"):
        r.execute_command("JSON.SET", "other", "$.x", "1")


def test_lua_redis_call(r):
    r.execute_command("JSON.SET", "doc", "$", '{"a":{"b":[10,20]}}')
    got = r.eval("return redis.call('JSON.GET', KEYS[1], '$.a.b[1]')", 1, "doc")
    assert got == "[20]"
    # A script changes a document and reads it back atomically.
    got = r.eval("redis.call('JSON.NUMINCRBY', KEYS[1], '.a.b[0]', 5) "
                 "return redis.call('JSON.GET', KEYS[1], '.a.b[0]')", 1, "doc")
    assert got == "15"
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.set("s", "x")
        r.eval("return redis.call('JSON.GET', KEYS[1])", 1, "s")


def test_multi_exec_and_watch(r):
    r.execute_command("JSON.SET", "doc", "$", '{"n":1}')
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("JSON.NUMINCRBY", "doc", "$.n", 1)
    pipe.execute_command("JSON.SET", "doc", "$.m", '"x"')
    pipe.execute_command("JSON.GET", "doc")
    assert pipe.execute() == ["[2]", "OK", '{"n":2,"m":"x"}']
    # WATCH: a JSON write by another client fails the transaction.
    with r.pipeline(transaction=True) as p:
        p.watch("doc")
        other = redis.Redis(port=r.connection_pool.connection_kwargs["port"])
        other.execute_command("JSON.SET", "doc", "$.n", "100")
        other.close()
        p.multi()
        p.execute_command("JSON.SET", "doc", "$.n", "0")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.execute_command("JSON.GET", "doc", ".n") == "100"


def test_command_info_and_docs(server, r):
    with RespConnection(server.port) as c:
        info = c.call("COMMAND", "INFO", "json.get")
        assert info.startswith(b"*1\r\n*10\r\n$8\r\njson.get\r\n:-2\r\n"
                               b"*2\r\n+readonly\r\n+module\r\n:1\r\n:1\r\n:1\r\n"), info
        info = c.call("COMMAND", "INFO", "json.mset")
        assert b"$9\r\njson.mset\r\n:-4\r\n*3\r\n+write\r\n+denyoom\r\n+module\r\n" \
            b":1\r\n:-1\r\n:3\r\n" in info, info
        info = c.call("COMMAND", "INFO", "json.mget")
        assert b":1\r\n:-2\r\n:1\r\n" in info, info
        docs = c.call("COMMAND", "DOCS", "json.set")
        assert b"Sets or updates the JSON value at a path" in docs, docs
        keys = c.call("COMMAND", "GETKEYS", "JSON.MGET", "a", "b", "$")
        assert keys == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", keys
        keys = c.call("COMMAND", "GETKEYS", "JSON.MSET", "a", "$", "1", "b", "$", "2")
        assert keys == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", keys


def test_info_json_memory(r):
    def used():
        return int(r.info("memory")["used_memory_json"])
    base = used()
    doc = json.dumps({"items": [{"id": i, "name": f"item {i}", "tags": ["x", "y"]}
                                for i in range(50)]})
    for i in range(20):
        r.execute_command("JSON.SET", f"mem:{i}", "$", doc)
    grown = used()
    assert grown - base > 20 * len(doc) / 4
    per_doc = r.execute_command("JSON.DEBUG", "MEMORY", "mem:0")
    assert per_doc > 0
    r.delete(*[f"mem:{i}" for i in range(20)])
    assert used() == base


def raw(conn, *args):
    return conn.call(*args)


def test_mset_mget_across_shards_atomic(server, r):
    for k in KEYS:
        r.execute_command("JSON.SET", k, "$", '{"v":0}')
    stop = threading.Event()
    problems = []

    def writer():
        with RespConnection(server.port) as c:
            i = 0
            while not stop.is_set():
                i += 1
                args = ["JSON.MSET"]
                for k in KEYS:
                    args += [k, "$.v", str(i)]
                if c.call(*args) != b"+OK\r\n":
                    problems.append("MSET failed")
                    return

    def reader():
        with RespConnection(server.port) as c:
            while not stop.is_set():
                got = c.call("JSON.MGET", *KEYS, "$.v")
                values = {line for line in got.split(b"\r\n") if line.startswith(b"[")}
                if len(values) != 1:
                    problems.append(f"torn read: {got!r}")
                    return

    threads = [threading.Thread(target=writer), threading.Thread(target=reader),
               threading.Thread(target=reader)]
    for t in threads:
        t.start()
    time.sleep(2)
    stop.set()
    for t in threads:
        t.join()
    assert not problems, problems[:3]


def test_mset_all_or_nothing_across_shards(r):
    for k in KEYS:
        r.execute_command("JSON.SET", k, "$", '{"v":0}')
    args = []
    for k in KEYS:
        args += [k, "$.v", "1"]
    with pytest.raises(redis.ResponseError, match="new objects must be created at the root"):
        r.execute_command("JSON.MSET", *args, "jm:new", "$.x", "1")
    with pytest.raises(redis.ResponseError, match="at line 1 column"):
        r.execute_command("JSON.MSET", *args[:-1], "nope")
    assert r.execute_command("JSON.MGET", *KEYS, ".v") == ["0"] * len(KEYS)
    assert r.execute_command("JSON.MSET", *args) == "OK"
    assert r.execute_command("JSON.MGET", *KEYS, ".v") == ["1"] * len(KEYS)
    assert r.execute_command("JSON.MGET", *KEYS, "nokey", "$.v")[-1] is None


def test_mset_mget_across_shards_in_multi_and_scripts(r):
    args = []
    for k in KEYS:
        args += [k, "$", '{"v":1}']
    pipe = r.pipeline(transaction=True)
    pipe.execute_command("JSON.MSET", *args)
    pipe.execute_command("JSON.NUMINCRBY", KEYS[0], "$.v", 1)
    pipe.execute_command("JSON.MGET", *KEYS, "$.v")
    assert pipe.execute() == ["OK", "[2]", ["[2]"] + ["[1]"] * (len(KEYS) - 1)]
    # A script whose declared keys span the shards.
    got = r.eval("redis.call('JSON.MSET', KEYS[1], '$.v', 5, KEYS[2], '$.v', 6) "
                 "return redis.call('JSON.MGET', KEYS[1], KEYS[2], KEYS[3], '.v')",
                 3, KEYS[1], KEYS[2], KEYS[3])
    assert got == ["5", "6", "1"]
