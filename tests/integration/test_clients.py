"""Real clients against Shoal alone: redis-py, redis-cli, and a telnet-style inline session.

These check what the differential scripts cannot: a client library's own expectations (pooling,
pipelining, SCAN cursors that must visit every key whatever their values), and the command-line
tool's output formats and --pipe mode.
"""

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from resp import RespConnection, encode_command

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


@pytest.fixture
def client(shoal):
    pool = redis.ConnectionPool(host="127.0.0.1", port=shoal.port, max_connections=8,
                                socket_timeout=10)
    r = redis.Redis(connection_pool=pool)
    r.flushall()
    yield r
    pool.disconnect()


def cli(shoal, *args, stdin=None, resp3=False, exit_code=0):
    """Runs redis-cli; returns its stdout. Its stdout is not a tty, so it prints raw replies."""
    argv = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(shoal.port)] + (["-3"] if resp3 else [])
    done = subprocess.run(argv + list(args), input=stdin, capture_output=True, timeout=30)
    assert done.returncode == exit_code, (done.stdout, done.stderr)
    return done.stdout.decode()


# --- redis-py ---------------------------------------------------------------------------------

def test_pool_shared_by_threads(client):
    def work(_):
        for _ in range(200):
            client.incr("counter")
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(work, range(8)))
    assert client.get("counter") == b"1600"


def test_pipeline_of_1000(client):
    pipe = client.pipeline(transaction=False)
    for i in range(1000):
        pipe.set(f"p:{i}", i)
    assert pipe.execute() == [True] * 1000
    pipe = client.pipeline(transaction=False)
    for i in range(1000):
        pipe.incrby(f"p:{i}", i)
    assert pipe.execute() == [2 * i for i in range(1000)]
    assert client.mget([f"p:{i}" for i in range(0, 1000, 100)]) == \
        [str(2 * i).encode() for i in range(0, 1000, 100)]


def test_binary_keys_and_values(client):
    all_bytes = bytes(range(256))
    client.set(all_bytes, all_bytes * 4)
    assert client.get(all_bytes) == all_bytes * 4
    client.set(b"crlf\r\nkey", b"\r\n\x00\r\n")
    assert client.get(b"crlf\r\nkey") == b"\r\n\x00\r\n"
    assert client.append(b"crlf\r\nkey", b"\x00") == 6
    assert client.strlen(b"crlf\r\nkey") == 6
    assert client.exists(all_bytes, b"crlf\r\nkey") == 2


def _fill(client, n: int) -> set:
    keys = {f"user:{i}" for i in range(n)}
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "v")
    pipe.execute()
    return {k.encode() for k in keys}


def test_scan_iter_visits_every_key(client):
    keys = _fill(client, 5000)
    assert set(client.scan_iter(count=100)) == keys
    assert set(client.scan_iter()) == keys
    assert set(client.scan_iter(match="user:1*", count=1000)) == \
        {k for k in keys if k.startswith(b"user:1")}
    assert client.dbsize() == 5000


def test_scan_misses_no_key_present_throughout(client):
    """Keys added or deleted during a SCAN may or may not show up; the others must."""
    keys = _fill(client, 2000)
    seen, cursor, step = set(), 0, 0
    while True:
        cursor, batch = client.scan(cursor, count=50)
        seen.update(batch)
        client.set(f"added:{step}", "v")
        client.delete(f"user:{step}")
        step += 1
        if cursor == 0:
            break
    kept = {k for k in keys if int(k.split(b":")[1]) >= step}
    assert kept <= seen


def test_keys(client):
    keys = _fill(client, 300)
    assert set(client.keys()) == keys
    assert set(client.keys("user:2?")) == {b"user:%d" % i for i in range(20, 30)}
    assert client.keys("nomatch*") == []


# --- redis-cli --------------------------------------------------------------------------------

def test_cli_basic_replies(shoal, client):
    assert cli(shoal, "PING") == "PONG\n"
    assert cli(shoal, "SET", "k", "v") == "OK\n"
    assert cli(shoal, "GET", "k") == "v\n"
    assert cli(shoal, "GET", "missing") == "\n"
    assert cli(shoal, "INCR", "n") == "1\n"
    assert cli(shoal, "MGET", "k", "missing", "k") == "v\n\nv\n"
    assert cli(shoal, "GET") == "ERR wrong number of arguments for 'get' command\n\n"
    assert cli(shoal, "--no-raw", "MGET", "k", "missing") == '1) "v"\n2) (nil)\n'
    assert cli(shoal, "--no-raw", "GET", "missing") == "(nil)\n"


def test_cli_commands_from_stdin(shoal, client):
    assert cli(shoal, stdin=b"SET a 1\nINCR a\nGET a\n") == "OK\n2\n2\n"


def test_cli_resp3(shoal, client):
    assert cli(shoal, "PING", resp3=True) == "PONG\n"
    assert cli(shoal, "SET", "k", "v", resp3=True) == "OK\n"
    assert cli(shoal, "GET", "missing", resp3=True) == "\n"
    assert cli(shoal, "--no-raw", "GET", "missing", resp3=True) == "(nil)\n"
    assert cli(shoal, "--no-raw", "CONFIG", "GET", "databases", resp3=True) == \
        '1# "databases" => "16"\n'
    assert "proto 3\n" in cli(shoal, "HELLO", "3", resp3=True)


def test_cli_pipe_mass_insert(shoal, client):
    n = 20000
    stream = b"".join(encode_command([b"SET", b"mass:%d" % i, b"value-%d" % i]) for i in range(n))
    out = cli(shoal, "--pipe", stdin=stream)
    assert f"errors: 0, replies: {n}" in out, out
    assert client.dbsize() == n
    assert client.get("mass:12345") == b"value-12345"


def test_cli_pipe_counts_errors(shoal, client):
    stream = encode_command([b"SET", b"a", b"1"]) + encode_command([b"INCR", b"a", b"extra"]) + \
        encode_command([b"SET", b"a", b"not-a-number"]) + encode_command([b"INCR", b"a"])
    assert "errors: 2, replies: 4" in cli(shoal, "--pipe", stdin=stream, exit_code=1)


# --- inline commands, as typed into telnet ----------------------------------------------------

def test_inline_session(shoal, client):
    with RespConnection(shoal.port) as conn:
        conn.send_raw(b"SET a b\r\n")
        assert conn.read_reply().raw == b"+OK\r\n"
        conn.send_raw(b"GET a\r\n")
        assert conn.read_reply().raw == b"$1\r\nb\r\n"
        conn.send_raw(b"SET \"key with space\" 'single \\' quote'\r\n")
        assert conn.read_reply().raw == b"+OK\r\n"
        conn.send_raw(b"GET \"key with space\"\r\n")
        assert conn.read_reply().raw == b"$14\r\nsingle ' quote\r\n"
        conn.send_raw(b"SET esc \"\\x00\\xff\\r\\n\"\r\nSTRLEN esc\r\n")
        assert conn.read_reply().raw == b"+OK\r\n"
        assert conn.read_reply().raw == b":4\r\n"
        conn.send_raw(b"\r\nget a\n")  # An empty line is skipped; a bare LF ends a line too.
        assert conn.read_reply().raw == b"$1\r\nb\r\n"
        conn.send_raw(b"QUIT\r\n")
        assert conn.read_reply().raw == b"+OK\r\n"
        assert conn.is_closed_by_peer()
