"""Blocking pops with several clients: who gets what, in which order, when the timeout fires,
and what a client that leaves while blocked leaves behind.

Each scenario is a function of a port that drives a few raw connections and returns what they
observed. It runs against redis-server and against Shoal (two shard threads, so the many keys
used here fall on both shards), and the two transcripts must be identical; the assertions on
Redis's transcript pin down what the scenario is meant to show.
"""

import socket
import threading
import time

import pytest

from resp import RespConnection

KEYS = [f"bk:{i}" for i in range(8)]  # Spread over both shards.
SETTLE = 0.15  # A pause in which a wrong wake-up would have happened.


def parked(port, n):
    """Waits until the server reports exactly `n` blocked clients (so a command sent without
    reading its reply has reached the server and parked), or fails after 10 s."""
    deadline = time.monotonic() + 10
    with RespConnection(port) as c:
        while True:
            info = c.call("INFO", "clients")
            line = next(x for x in info.split(b"\r\n") if x.startswith(b"blocked_clients:"))
            if int(line.split(b":")[1]) == n:
                return
            assert time.monotonic() < deadline, f"blocked_clients stayed {line!r}, wanted {n}"
            time.sleep(0.01)


def conn(port, resp3=False):
    c = RespConnection(port)
    if resp3:
        c.call("HELLO", "3")
    return c


def send(c, *args):
    from resp import encode_command
    c.send_raw(encode_command(args))


def both(redis_ref, shoal, scenario, *args):
    """Runs `scenario` on both servers; returns Redis's transcript after checking Shoal's."""
    for server in (redis_ref, shoal):
        with RespConnection(server.port) as c:
            c.call("FLUSHALL")
    want = scenario(redis_ref.port, *args)
    got = scenario(shoal.port, *args)
    assert got == want
    return want


# --- scenarios ---------------------------------------------------------------------------------

def waiters_served_in_arrival_order(port, cmd):
    """Three clients block on one key in turn; one push of three elements serves all three,
    oldest first."""
    clients = [conn(port) for _ in range(3)]
    for i, c in enumerate(clients):
        send(c, cmd, "q", "0")
        parked(port, i + 1)
    with conn(port) as pusher:
        pushed = pusher.call("RPUSH", "q", "a", "b", "c")
        out = [pushed] + [c.read_reply().raw for c in clients]
        out.append(pusher.call("LLEN", "q"))
    for c in clients:
        c.close()
    return out


def first_key_with_data_wins(port):
    """With data already in several keys, the first in argument order is served at once."""
    with conn(port) as c:
        c.call("RPUSH", KEYS[5], "five")
        c.call("RPUSH", KEYS[2], "two")
        c.call("RPUSH", KEYS[7], "seven")
        return [c.call("BLPOP", *KEYS, "0"), c.call("BRPOP", *KEYS, "0"),
                c.call("BLPOP", *KEYS, "0"), c.call("BLPOP", KEYS[0], KEYS[1], "0.05")]


def push_to_any_key_wakes(port, resp3):
    """A client blocked on eight keys (both shards) is woken by a push to each of them."""
    out = []
    with conn(port, resp3) as waiter, conn(port) as pusher:
        for k in KEYS:
            send(waiter, "BLPOP", *KEYS, "0")
            parked(port, 1)
            out.append(pusher.call("LPUSH", k, "v-" + k))
            out.append(waiter.read_reply().raw)
        out.append(pusher.call("EXISTS", *KEYS))
    return out


def timeouts(port, resp3):
    """Fractional timeouts expire with each command's null reply; data arriving later stays."""
    out = []
    with conn(port, resp3) as c:
        for args in (["BLPOP", "nokey", "0.1"], ["BRPOP", "nokey", "nokey2", "0.1"],
                     ["BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.1"],
                     ["BRPOPLPUSH", "nokey", "dst", "0.1"],
                     ["BLMPOP", "0.1", "2", "nokey", "nokey2", "LEFT", "COUNT", "2"],
                     ["BZPOPMIN", "nokey", "0.1"], ["BZPOPMAX", "nokey", "0.1"],
                     ["BZMPOP", "0.1", "1", "nokey", "MAX"]):
            start = time.monotonic()
            out.append(c.call(*args))
            elapsed = time.monotonic() - start
            assert 0.08 <= elapsed < 1.5, (args, elapsed)
        out.append(c.call("EXISTS", "dst"))
    return out


def moves_across_keys(port):
    """BLMOVE and BRPOPLPUSH wake on the source and push to the destination (often on the other
    shard)."""
    out = []
    with conn(port) as waiter, conn(port) as pusher:
        for i, (src, dst) in enumerate(zip(KEYS, KEYS[1:] + KEYS[:1])):
            empty = pusher.call("LLEN", src) == b":0\r\n"  # Else it is served at once.
            if i % 2:
                send(waiter, "BLMOVE", src, dst, "RIGHT", "LEFT", "0")
            else:
                send(waiter, "BRPOPLPUSH", src, dst, "0")
            if empty:
                parked(port, 1)
                out.append(pusher.call("RPUSH", src, "x", f"m{i}"))
                out.append(waiter.read_reply().raw)
            else:
                # Served at once: take the reply before pushing, or the push may overtake the
                # move on its way to the owning shard (different connections race freely).
                out.append(waiter.read_reply().raw)
                out.append(pusher.call("RPUSH", src, "x", f"m{i}"))
            out.append(pusher.call("LRANGE", dst, "0", "-1"))
            out.append(pusher.call("LRANGE", src, "0", "-1"))
    return out


def mpop_counts(port, resp3):
    """BLMPOP and BZMPOP take up to COUNT from the first key that gets data."""
    out = []
    with conn(port, resp3) as waiter, conn(port) as pusher:
        send(waiter, "BLMPOP", "0", "3", KEYS[0], KEYS[3], KEYS[6], "RIGHT", "COUNT", "2")
        parked(port, 1)
        out.append(pusher.call("RPUSH", KEYS[6], "a", "b", "c"))
        out.append(waiter.read_reply().raw)
        send(waiter, "BZMPOP", "0", "2", "z" + KEYS[1], "z" + KEYS[4], "MIN", "COUNT", "5")
        parked(port, 1)
        out.append(pusher.call("ZADD", "z" + KEYS[4], "3", "c", "1", "a", "2.5", "b"))
        out.append(waiter.read_reply().raw)
        send(waiter, "BZPOPMAX", "z" + KEYS[2], "z" + KEYS[5], "0")
        parked(port, 1)
        out.append(pusher.call("ZADD", "z" + KEYS[5], "1.5", "x", "-2", "y"))
        out.append(waiter.read_reply().raw)
        out.append(pusher.call("ZRANGE", "z" + KEYS[5], "0", "-1", "WITHSCORES"))
    return out


def wrong_types(port):
    """A key of another type fails the command at once; while blocked, such a key is ignored
    until it becomes the right type."""
    out = []
    with conn(port) as c, conn(port) as other:
        c.call("SET", KEYS[1], "str")
        out.append(c.call("BLPOP", KEYS[0], KEYS[1], "0"))
        out.append(c.call("BZPOPMIN", KEYS[1], "0"))
        c.call("RPUSH", "lst", "x")
        out.append(c.call("BZPOPMIN", "lst", "0.05"))
        out.append(c.call("BLMOVE", KEYS[2], KEYS[1], "LEFT", "LEFT", "0.05"))
        c.call("RPUSH", KEYS[2], "e")
        out.append(c.call("BLMOVE", KEYS[2], KEYS[1], "LEFT", "LEFT", "0"))
        out.append(c.call("LRANGE", KEYS[2], "0", "-1"))
        # A zset waiter is not woken by a list, and keeps its place until a zset arrives.
        send(c, "BZPOPMIN", KEYS[3], "0")
        parked(port, 1)
        out.append(other.call("RPUSH", KEYS[3], "l"))
        time.sleep(SETTLE)
        parked(port, 1)
        out.append(other.call("DEL", KEYS[3]))
        out.append(other.call("ZADD", KEYS[3], "7", "m"))
        out.append(c.read_reply().raw)
    return out


def disconnect_leaves_nothing(port):
    """Clients that hang up while blocked are gone: a later push stays in the list, the next
    waiter in line is served, and the server forgets them."""
    out = []
    quitters = [conn(port) for _ in range(3)]
    for q in quitters:
        send(q, "BLPOP", "dq", KEYS[4], "0")
    parked(port, 3)
    with conn(port) as stayer, conn(port) as pusher:
        send(stayer, "BLPOP", "dq", "0")
        parked(port, 4)
        for q in quitters:
            q.sock.shutdown(socket.SHUT_RDWR)
            q.close()
        parked(port, 1)
        out.append(pusher.call("RPUSH", "dq", "a", "b"))
        out.append(stayer.read_reply().raw)
        out.append(pusher.call("LRANGE", "dq", "0", "-1"))
        out.append(pusher.call("RPUSH", KEYS[4], "kept"))
        out.append(pusher.call("LRANGE", KEYS[4], "0", "-1"))
        info = pusher.call("INFO", "clients")
        out.append([line for line in info.split(b"\r\n") if line.startswith(b"blocked_clients")])
    return out


def pipeline_waits_behind_block(port):
    """Commands pipelined after a blocking one wait for it: their replies come after its own."""
    out = []
    with conn(port) as c, conn(port) as pusher:
        c.send_raw(b"*3\r\n$5\r\nBLPOP\r\n$2\r\npq\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n"
                   b"*2\r\n$4\r\nLLEN\r\n$2\r\npq\r\n")
        parked(port, 1)
        out.append(pusher.call("RPUSH", "pq", "1", "2"))
        out.extend(c.read_reply().raw for _ in range(3))
    return out


def kill_blocked_client(port):
    """CLIENT KILL closes a blocked client without a reply."""
    with conn(port) as c, conn(port) as admin:
        cid = c.call("CLIENT", "ID")
        send(c, "BLPOP", "kq", "0")
        parked(port, 1)
        killed = admin.call("CLIENT", "KILL", "ID", cid[1:-2].decode())
        gone = c.is_closed_by_peer(timeout=2.0)
        admin.call("RPUSH", "kq", "v")
        return [killed, gone, admin.call("LLEN", "kq")]


# --- tests -------------------------------------------------------------------------------------

@pytest.mark.parametrize("cmd", ["BLPOP", "BRPOP"])
def test_fifo_order(redis_ref, shoal, cmd):
    t = both(redis_ref, shoal, waiters_served_in_arrival_order, cmd)
    assert t[1].endswith(b"\r\na\r\n") if cmd == "BLPOP" else t[1].endswith(b"\r\nc\r\n")


def test_first_key_with_data_wins(redis_ref, shoal):
    t = both(redis_ref, shoal, first_key_with_data_wins)
    assert b"two" in t[0] and t[-1] == b"*-1\r\n"


@pytest.mark.parametrize("resp3", [False, True])
def test_push_to_any_key_wakes(redis_ref, shoal, resp3):
    both(redis_ref, shoal, push_to_any_key_wakes, resp3)


@pytest.mark.parametrize("resp3", [False, True])
def test_timeouts(redis_ref, shoal, resp3):
    t = both(redis_ref, shoal, timeouts, resp3)
    assert t[0] == (b"_\r\n" if resp3 else b"*-1\r\n")


def test_moves(redis_ref, shoal):
    both(redis_ref, shoal, moves_across_keys)


@pytest.mark.parametrize("resp3", [False, True])
def test_mpop_counts(redis_ref, shoal, resp3):
    both(redis_ref, shoal, mpop_counts, resp3)


def test_wrong_types(redis_ref, shoal):
    t = both(redis_ref, shoal, wrong_types)
    assert t[0].startswith(b"-WRONGTYPE")


def test_disconnect_while_blocked(redis_ref, shoal):
    t = both(redis_ref, shoal, disconnect_leaves_nothing)
    assert t[-1] == [b"blocked_clients:0"]


def test_pipeline_after_blocking_command(redis_ref, shoal):
    both(redis_ref, shoal, pipeline_waits_behind_block)


def test_client_kill_while_blocked(redis_ref, shoal):
    t = both(redis_ref, shoal, kill_blocked_client)
    assert t[1] is True


def test_argument_errors(redis_ref, shoal):
    def errors(port):
        with conn(port) as c:
            return [c.call(*a) for a in (
                ["BLPOP", "k", "abc"], ["BLPOP", "k", "-1"], ["BLPOP", "k", "1e20"],
                ["BLPOP", "k", "inf"], ["BLPOP", "k", "nan"], ["BRPOPLPUSH", "a", "b", "-1"],
                ["BLMOVE", "a", "b", "left", "up", "0"], ["BLMOVE", "a", "b", "up", "left", "x"],
                ["BLMPOP", "0", "0", "a", "left"], ["BLMPOP", "0", "2", "a", "left"],
                ["BLMPOP", "0", "1", "a", "left", "count", "0"], ["BLMPOP", "0", "1", "a", "middle"],
                ["BLMPOP", "x", "1", "a", "left"], ["BLMPOP", "x", "0", "a", "left"],
                ["BLMPOP", "0", "abc", "a", "left"], ["BLMPOP", "0", "-1", "a", "left"],
                ["BLMPOP", "0.01", "1", "a", "left", "count", "1", "count", "2"],
                ["BLMPOP", "0.01", "1", "a", "left", "count"],
                ["BZPOPMIN", "k", "-1"], ["BZMPOP", "0", "1", "a", "MIN", "count", "-1"],
                ["BZMPOP", "0", "1", "a", "left"], ["BLPOP", "k"], ["BZMPOP", "0", "1", "a"],
                ["BLMPOP", "0.01", "1", "a", "left", "count", "99999999999999999999"])]
    both(redis_ref, shoal, errors)


def test_many_clients_many_threads(redis_ref, shoal):
    """Twenty clients block on their own keys; twenty others push from their own connections at
    once. Everyone is served exactly once with their own element."""
    def run(port):
        waiters = [conn(port) for _ in range(20)]
        for i, w in enumerate(waiters):
            send(w, "BLPOP", f"mk:{i}", f"mk:shared:{i % 3}", "5")
        parked(port, 20)

        def push(i):
            with conn(port) as p:
                p.call("RPUSH", f"mk:{i}", f"e{i}")
        threads = [threading.Thread(target=push, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = [w.read_reply().raw for w in waiters]
        for w in waiters:
            w.close()
        return got
    t = both(redis_ref, shoal, run)
    assert all(f"e{i}".encode() in r for i, r in enumerate(t))
