"""Lua scripting: differential scripts against a --threads 1 Shoal, and busy scripts.

The scripts in scripts_1thread/ run like those of test_differential.py (RESP2 and RESP3), but
against a Shoal with one shard, so that every key a script touches is on the script's shard
(scripts reaching keys of other shards need the transaction layer).

Busy scripts: a script that loops past busy-reply-threshold makes other connections get BUSY,
SCRIPT KILL stops it (or UNKILLABLE once it wrote), and SCRIPT FLUSH from another connection
makes EVALSHA fail afterwards. These run against both servers and compare what each connection
saw; Shoal runs with several threads and the connections are spread over them.
"""

import threading
import time
from pathlib import Path

import pytest

import harness
import servers
from resp import RespConnection

SCRIPTS_1THREAD = Path(__file__).resolve().parent / "scripts_1thread"


@pytest.fixture(scope="module")
def shoal_one_thread():
    try:
        server = servers.make_shoal(threads="1")
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    server.start()
    yield server
    server.cleanup()


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
@pytest.mark.parametrize("script", sorted(SCRIPTS_1THREAD.glob("*.txt")), ids=lambda p: p.stem)
def test_script_one_thread(script, protocol, redis_ref, shoal_one_thread):
    shoal_one_thread.ensure_running()
    mismatches = harness.run_script(script, redis_ref.port, shoal_one_thread.port, protocol)
    if mismatches:
        pytest.fail(harness.format_mismatches(mismatches), pytrace=False)


# --- busy scripts --------------------------------------------------------------------------------

THRESHOLD_MS = 100


def _send(c, *args):
    from resp import encode_command
    c.send_raw(encode_command(args))


def _busy_observer(port, deadline_s=10.0):
    """A connection that answers while the script runs, once the server reports BUSY.

    On Shoal a connection served by the thread that runs the script cannot be answered until the
    script ends (see ARCHITECTURE.md, "Scripting"); such a connection times out here and is
    dropped, and the next one (round-robin: another thread) is tried."""
    deadline = time.monotonic() + deadline_s
    c = None
    while time.monotonic() < deadline:
        if c is None:
            c = RespConnection(port, timeout=0.5)
        try:
            reply = c.call("PING")
        except OSError:  # socket.timeout: this connection shares the script's thread.
            c.close()
            c = None
            continue
        if reply.startswith(b"-BUSY"):
            c.sock.settimeout(10.0)
            return c, reply
        time.sleep(0.02)  # PONG: not past the threshold yet.
    raise AssertionError("the server never reported BUSY")


def _with_threshold(port, fn):
    with RespConnection(port) as admin:
        admin.call("CONFIG", "SET", "busy-reply-threshold", str(THRESHOLD_MS))
    try:
        return fn(port)
    finally:
        with RespConnection(port) as admin:
            admin.call("CONFIG", "SET", "busy-reply-threshold", "5000")


def busy_script_killed(port):
    """An endless read-only script: others get BUSY, SCRIPT KILL stops it with Redis's error."""
    def run(port):
        out = []
        with RespConnection(port) as runner:
            runner.call("SET", "k", "before")
            _send(runner, "EVAL", "local n = 0 while true do n = n + 1 end", "0")
            time.sleep(0.05)
            obs, first = _busy_observer(port)
            out.append(first)
            out.append(obs.call("GET", "k"))
            out.append(obs.call("SET", "k", "during"))
            out.append(obs.call("SCRIPT", "KILL"))
            out.append(runner.read_reply().raw)
            out.append(obs.call("GET", "k"))
            out.append(obs.call("SCRIPT", "KILL"))
            out.append(runner.call("PING"))
            obs.close()
        return out
    return _with_threshold(port, run)


def busy_script_unkillable(port):
    """A script that wrote cannot be killed; it runs to its end, and its reply arrives."""
    body = ("redis.call('set', KEYS[1], 'written') "
            "local s = tonumber(redis.call('time')[1]) "
            "while tonumber(redis.call('time')[1]) < s + 2 do end return 'done'")

    def run(port):
        out = []
        with RespConnection(port) as runner:
            _send(runner, "EVAL", body, "1", "k")
            time.sleep(0.05)
            obs, first = _busy_observer(port)
            out.append(first)
            out.append(obs.call("SCRIPT", "KILL"))
            out.append(runner.read_reply().raw)
            out.append(obs.call("GET", "k"))
            out.append(obs.call("SCRIPT", "KILL"))
            obs.close()
        return out
    return _with_threshold(port, run)


def busy_script_killed_inside_pcall(port):
    """pcall cannot swallow SCRIPT KILL: the script still ends with the kill error."""
    body = "while true do pcall(function() while true do end end) end"

    def run(port):
        out = []
        with RespConnection(port) as runner:
            _send(runner, "EVAL", body, "0")
            time.sleep(0.05)
            obs, first = _busy_observer(port)
            out.append(first)
            out.append(obs.call("SCRIPT", "KILL"))
            out.append(runner.read_reply().raw)
            obs.close()
        return out
    return _with_threshold(port, run)


def flush_from_another_connection(port):
    """SCRIPT FLUSH on one connection drops what another loaded, on every thread's VM."""
    out = []
    with RespConnection(port) as a, RespConnection(port) as b:
        sha = a.call("SCRIPT", "LOAD", "return KEYS[1]")
        out.append(sha)
        sha = sha.split(b"\r\n")[1].decode()
        keys = ["k%d" % i for i in range(8)]  # Spread over the shards.
        out += [a.call("EVALSHA", sha, "1", k) for k in keys]
        out.append(b.call("SCRIPT", "EXISTS", sha))
        out.append(b.call("SCRIPT", "FLUSH"))
        out += [a.call("EVALSHA", sha, "1", k) for k in keys]
        out.append(a.call("SCRIPT", "EXISTS", sha))
        out.append(a.call("EVAL", "return KEYS[1]", "1", "k0"))  # Loads it again.
        out += [b.call("EVALSHA", sha, "1", k) for k in keys]
    return out


def _both(redis_ref, shoal, scenario):
    for server in (redis_ref, shoal):
        with RespConnection(server.port) as c:
            c.call("FLUSHALL")
            c.call("SCRIPT", "FLUSH")
    want = scenario(redis_ref.port)
    got = scenario(shoal.port)
    assert got == want
    return want


def test_busy_script_killed(redis_ref, shoal):
    out = _both(redis_ref, shoal, busy_script_killed)
    assert out[0].startswith(b"-BUSY") and out[3] == b"+OK\r\n"
    assert out[4].startswith(b"-ERR Script killed by user with SCRIPT KILL...")


def test_busy_script_unkillable(redis_ref, shoal):
    out = _both(redis_ref, shoal, busy_script_unkillable)
    assert out[1].startswith(b"-UNKILLABLE") and out[2] == b"$4\r\ndone\r\n"


def test_busy_script_killed_inside_pcall(redis_ref, shoal):
    out = _both(redis_ref, shoal, busy_script_killed_inside_pcall)
    assert out[1] == b"+OK\r\n"


def test_flush_from_another_connection(redis_ref, shoal):
    out = _both(redis_ref, shoal, flush_from_another_connection)
    assert all(r.startswith(b"-NOSCRIPT") for r in out[11:19])
    assert out[-1] == b"$2\r\nk7\r\n"  # EVAL of the same body registered it again.


# The same scenarios on a one-thread Shoal: every connection shares the script's thread, which
# answers them from the script's hook (BUSY, SCRIPT KILL) while the script runs.

def test_busy_script_killed_one_thread(redis_ref, shoal_one_thread):
    out = _both(redis_ref, shoal_one_thread, busy_script_killed)
    assert out[3] == b"+OK\r\n"


def test_busy_script_unkillable_one_thread(redis_ref, shoal_one_thread):
    out = _both(redis_ref, shoal_one_thread, busy_script_unkillable)
    assert out[1].startswith(b"-UNKILLABLE")


def test_busy_script_killed_inside_pcall_one_thread(redis_ref, shoal_one_thread):
    out = _both(redis_ref, shoal_one_thread, busy_script_killed_inside_pcall)
    assert out[1] == b"+OK\r\n"


def test_busy_pipelined_behind_script_one_thread(redis_ref, shoal_one_thread):
    """Commands pipelined behind the busy EVAL on its own connection wait for it (they are not
    answered BUSY); another connection's SCRIPT KILL ends it and they run in order."""
    def scenario(port):
        def run(port):
            out = []
            with RespConnection(port) as runner:
                from resp import encode_command
                runner.send_raw(encode_command(["EVAL", "while true do end", "0"]) +
                                encode_command(["SET", "after", "1"]) +
                                encode_command(["GET", "after"]))
                time.sleep(0.05)
                obs, first = _busy_observer(port)
                out.append(first)
                out.append(obs.call("SCRIPT", "KILL"))
                out += [runner.read_reply().raw for _ in range(3)]
                obs.close()
            return out
        return _with_threshold(port, run)
    out = _both(redis_ref, shoal_one_thread, scenario)
    assert out[-1] == b"$1\r\n1\r\n"


@pytest.mark.parametrize("threads", ["1", "2"])
def test_shutdown_nosave_during_busy_script(threads):
    """SHUTDOWN NOSAVE while a script is busy stops the server, as in Redis (whose reply is
    none: the connection closes)."""
    results = {}
    for name, server in (("redis", servers.make_redis("redis-shutdown")),
                         ("shoal", servers.make_shoal(threads=threads))):
        server.start()
        try:
            with RespConnection(server.port) as admin:
                admin.call("CONFIG", "SET", "busy-reply-threshold", str(THRESHOLD_MS))
            runner = RespConnection(server.port)
            _send(runner, "EVAL", "redis.call('set', KEYS[1], 1) while true do end", "1", "x")
            time.sleep(0.05)
            obs, first = _busy_observer(server.port)
            _send(obs, "SHUTDOWN", "NOSAVE")
            server.proc.wait(timeout=10)
            results[name] = (first, obs.is_closed_by_peer(), runner.is_closed_by_peer())
            obs.close()
            runner.close()
        finally:
            server.cleanup()
    assert results["shoal"] == results["redis"]
