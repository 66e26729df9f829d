"""WATCH with several clients: what another connection's writes do to a watched key.

One connection (the watcher) WATCHes keys and runs MULTI/EXEC while other connections write. Each
scenario is a function of a port that returns what the connections saw; it runs against
redis-server and against Shoal and the two transcripts must be identical (as in test_blocking.py).
The assertions on Redis's transcript pin down what each scenario is meant to show, so a scenario
that stopped testing anything would fail here rather than pass quietly.

Single-connection MULTI/EXEC/WATCH semantics are in scripts/transactions.txt. SWAPDB is not tested:
Shoal does not implement it (README command table).
"""

import socket
import threading

import pytest

from resp import RespConnection, encode_command

# Sixteen unrelated names: with two or more shards they fall on several of them.
KEYS = [f"wk:{i}" for i in range(16)]
NIL = {False: b"*-1\r\n", True: b"_\r\n"}  # EXEC's reply when a watched key was touched.


def conn(port, resp3=False):
    c = RespConnection(port)
    if resp3:
        c.call("HELLO", "3")
    return c


def send(c, *args):
    c.send_raw(encode_command(args))


def both(redis_ref, shoal, scenario, *args):
    """Runs `scenario` on both servers; returns Redis's transcript after checking Shoal's."""
    for server in (redis_ref, shoal):
        with RespConnection(server.port) as c:
            c.call("FLUSHALL")
    want = scenario(redis_ref.port, *args)
    got = scenario(shoal.port, *args)
    if got != want:
        lines = [f"  step {i}: redis {w!r}\n          shoal {g!r}"
                 for i, (w, g) in enumerate(zip(want, got)) if w != g]
        if len(want) != len(got):
            lines.append(f"  transcript lengths: redis {len(want)}, shoal {len(got)}")
        pytest.fail(f"{scenario.__name__}{args}: transcripts differ\n" + "\n".join(lines),
                    pytrace=False)
    return want


def attempt(watcher, *commands):
    """MULTI, the queued commands, EXEC on `watcher`: returns [MULTI, QUEUED..., EXEC] replies."""
    return [watcher.call("MULTI")] + [watcher.call(*c) for c in commands] + [watcher.call("EXEC")]


# --- another client's write to a watched key -----------------------------------------------------

# name -> (setup by the other client, its write to the watched key "w"). Every write changes "w",
# so EXEC must fail. Keys named "o*" are other keys (usually on another shard than "w").
WRITES = {
    "set": ([["SET", "w", "1"]], [["SET", "w", "2"]]),
    "set_same_value": ([["SET", "w", "1"]], [["SET", "w", "1"]]),
    "create": ([], [["SET", "w", "new"]]),
    "incr": ([["SET", "w", "1"]], [["INCR", "w"]]),
    "append": ([["SET", "w", "1"]], [["APPEND", "w", "x"]]),
    "del": ([["SET", "w", "1"]], [["DEL", "w"]]),
    "del_many": ([["SET", "w", "1"]], [["DEL", "o1", "w", "o2"]]),
    "unlink": ([["SET", "w", "1"]], [["UNLINK", "w"]]),
    "getdel": ([["SET", "w", "1"]], [["GETDEL", "w"]]),
    "expire": ([["SET", "w", "1"]], [["EXPIRE", "w", "100"]]),
    "pexpire_past": ([["SET", "w", "1"]], [["PEXPIREAT", "w", "1"]]),
    "persist": ([["SET", "w", "1", "EX", "100"]], [["PERSIST", "w"]]),
    "getex": ([["SET", "w", "1"]], [["GETEX", "w", "EX", "100"]]),
    "rename_to": ([["SET", "w", "1"], ["SET", "o1", "2"]], [["RENAME", "o1", "w"]]),
    "rename_to_missing": ([["SET", "o1", "2"]], [["RENAME", "o1", "w"]]),
    "rename_from": ([["SET", "w", "1"]], [["RENAME", "w", "o1"]]),
    "renamenx_from": ([["SET", "w", "1"]], [["RENAMENX", "w", "o1"]]),
    "copy_to": ([["SET", "o1", "2"]], [["COPY", "o1", "w"]]),
    "copy_replace": ([["SET", "w", "1"], ["SET", "o1", "2"]], [["COPY", "o1", "w", "REPLACE"]]),
    "move": ([["SET", "w", "1"]], [["MOVE", "w", "1"]]),
    "mset": ([], [["MSET", "o1", "a", "w", "b", "o2", "c"]]),
    "msetnx": ([], [["MSETNX", "o1", "a", "w", "b"]]),
    "lpush": ([["RPUSH", "w", "a"]], [["LPUSH", "w", "b"]]),
    "lpop_last": ([["RPUSH", "w", "a"]], [["LPOP", "w"]]),
    "lmove_into": ([["RPUSH", "o1", "a"]], [["LMOVE", "o1", "w", "LEFT", "LEFT"]]),
    "lmove_out_of": ([["RPUSH", "w", "a", "b"]], [["LMOVE", "w", "o1", "LEFT", "LEFT"]]),
    "sadd": ([["SADD", "w", "a"]], [["SADD", "w", "b"]]),
    "smove_into": ([["SADD", "o1", "a"]], [["SMOVE", "o1", "w", "a"]]),
    "smove_out_of": ([["SADD", "w", "a", "b"]], [["SMOVE", "w", "o1", "a"]]),
    "sinterstore": ([["SADD", "o1", "1", "2"], ["SADD", "o2", "2"]],
                    [["SINTERSTORE", "w", "o1", "o2"]]),
    "sunionstore_over": ([["SET", "w", "str"], ["SADD", "o1", "1"]],
                         [["SUNIONSTORE", "w", "o1"]]),
    "hset": ([["HSET", "w", "f", "1"]], [["HSET", "w", "f", "2"]]),
    "hincrby": ([["HSET", "w", "f", "1"]], [["HINCRBY", "w", "f", "1"]]),
    "zadd": ([["ZADD", "w", "1", "a"]], [["ZADD", "w", "2", "a"]]),
    "zunionstore": ([["ZADD", "o1", "1", "a"], ["ZADD", "o2", "2", "b"]],
                    [["ZUNIONSTORE", "w", "2", "o1", "o2"]]),
    "bitop": ([["SET", "o1", "ab"]], [["BITOP", "NOT", "w", "o1"]]),
    "setbit": ([], [["SETBIT", "w", "7", "1"]]),
    "pfmerge": ([["PFADD", "o1", "a", "b"]], [["PFMERGE", "w", "o1"]]),
    "pfadd": ([["PFADD", "w", "a"]], [["PFADD", "w", "b"]]),
    "flushdb": ([["SET", "w", "1"]], [["FLUSHDB"]]),
    "flushall": ([["SET", "w", "1"]], [["FLUSHALL"]]),
    "multi_exec": ([["SET", "w", "1"]], [["MULTI"], ["SET", "o1", "x"], ["INCR", "w"], ["EXEC"]]),
    "multi_exec_with_error": ([["SET", "w", "1"], ["SET", "o1", "str"]],
                              [["MULTI"], ["INCR", "o1"], ["DEL", "w"], ["EXEC"]]),
}


def other_client_writes(port, name, resp3):
    setup, write = WRITES[name]
    out = []
    with conn(port, resp3) as watcher, conn(port) as other:
        for c in setup:
            other.call(*c)
        out.append(watcher.call("WATCH", "w"))
        out += [other.call(*c) for c in write]
        out += attempt(watcher, ["SET", "w", "watcher"], ["INCR", "o9"])
        # Nothing of the failed transaction ran.
        out += [watcher.call("TYPE", "w"), watcher.call("EXISTS", "o9")]
    return out


@pytest.mark.parametrize("name", sorted(WRITES))
def test_other_client_write_aborts_exec(redis_ref, shoal, name):
    t = both(redis_ref, shoal, other_client_writes, name, False)
    assert t[-3] == NIL[False], t
    assert t[-1] == b":0\r\n", t


@pytest.mark.parametrize("resp3", [False, True], ids=["RESP2", "RESP3"])
def test_other_client_write_aborts_exec_resp3(redis_ref, shoal, resp3):
    t = both(redis_ref, shoal, other_client_writes, "set", resp3)
    assert t[-3] == NIL[resp3], t


def write_while_queued(port):
    """The other client writes after the watcher entered MULTI and queued commands: EXEC still
    fails; the same sequence with a write to an unwatched key succeeds."""
    out = []
    with conn(port) as watcher, conn(port) as other:
        for target in ("w", "unwatched"):
            other.call("SET", "w", "0")
            out.append(watcher.call("WATCH", "w"))
            out.append(watcher.call("MULTI"))
            out.append(watcher.call("INCR", "w"))
            out.append(other.call("SET", target, "other"))
            out.append(watcher.call("INCR", "w"))
            out.append(watcher.call("EXEC"))
            out.append(watcher.call("GET", "w"))
    return out


def test_write_while_queued(redis_ref, shoal):
    t = both(redis_ref, shoal, write_while_queued)
    assert t[5] == b"*-1\r\n" and t[6] == b"$5\r\nother\r\n", t
    assert t[12] == b"*2\r\n:1\r\n:2\r\n", t


# --- writes that must not abort ------------------------------------------------------------------

def unrelated_writes(port):
    """Writes to other keys (on every shard), to the same name in another database, reads of the
    watched keys, a MULTI/EXEC that is discarded or aborted at queue time, and a FLUSHDB of
    another database: none touches the watched keys."""
    out = []
    with conn(port) as watcher, conn(port) as other:
        other.call("MSET", *[x for k in KEYS[:8] for x in (k, "v")])
        out.append(watcher.call("WATCH", *KEYS[:8]))
        for k in KEYS[8:]:
            out.append(other.call("SET", k, "x"))
            out.append(other.call("LPUSH", k + ":list", "x"))
        out.append(other.call("MSET", *[x for k in KEYS[8:] for x in (k, "y")]))
        out.append(other.call("DEL", *[k + ":list" for k in KEYS[8:]]))
        out.append(other.call("MGET", *KEYS[:8]))
        out.append(other.call("EXISTS", *KEYS[:8]))
        out.append(other.call("SELECT", "1"))
        out += [other.call("SET", k, "db1") for k in KEYS[:8]]
        out.append(other.call("FLUSHDB"))
        out.append(other.call("SELECT", "0"))
        out += [other.call("MULTI"), other.call("SET", KEYS[0], "discarded"),
                other.call("DISCARD")]
        out += attempt(other, ["SET", KEYS[1], "aborted"], ["NOSUCHCOMMAND"])
        out += attempt(watcher, ["MGET", *KEYS[:8]], ["SET", KEYS[0], "done"])
    return out


def test_unrelated_writes_do_not_abort(redis_ref, shoal):
    t = both(redis_ref, shoal, unrelated_writes)
    assert t[-1].startswith(b"*2\r\n*8\r\n$1\r\nv\r\n"), t[-1]


def one_of_many_watched(port, resp3):
    """Sixteen watched keys spread over the shards: touching any single one of them (by another
    client) fails EXEC; touching none lets it run."""
    out = []
    with conn(port, resp3) as watcher, conn(port) as other:
        for touched in list(range(len(KEYS))) + [None]:
            other.call("MSET", *[x for k in KEYS for x in (k, "0")])
            out.append(watcher.call("WATCH", *KEYS))
            if touched is not None:
                out.append(other.call("INCR", KEYS[touched]))
            out += attempt(watcher, ["MSET", *[x for k in KEYS for x in (k, "w")]])
            out.append(other.call("MGET", *KEYS))
    return out


@pytest.mark.parametrize("resp3", [False, True], ids=["RESP2", "RESP3"])
def test_one_of_many_watched_keys(redis_ref, shoal, resp3):
    t = both(redis_ref, shoal, one_of_many_watched, resp3)
    per_round = 6  # WATCH, INCR, MULTI, QUEUED, EXEC, MGET
    for i in range(len(KEYS)):
        assert t[i * per_round + 4] == NIL[resp3], (i, t[i * per_round + 4])
    assert t[-2] == b"*1\r\n+OK\r\n", t[-2]


def watch_from_several_connections(port):
    """Two clients WATCH the same key and both try a read-modify-write: the first EXEC wins, the
    second fails because the first one's EXEC touched the key."""
    out = []
    with conn(port) as a, conn(port) as b:
        a.call("SET", "w", "10")
        out += [a.call("WATCH", "w"), b.call("WATCH", "w"), a.call("GET", "w"), b.call("GET", "w")]
        out += [a.call("MULTI"), b.call("MULTI"), a.call("SET", "w", "11"),
                b.call("SET", "w", "12"), a.call("EXEC"), b.call("EXEC"), a.call("GET", "w")]
    return out


def test_first_exec_wins(redis_ref, shoal):
    t = both(redis_ref, shoal, watch_from_several_connections)
    assert t[8:] == [b"*1\r\n+OK\r\n", b"*-1\r\n", b"$2\r\n11\r\n"], t


# --- when watches end ----------------------------------------------------------------------------

ENDINGS = {
    # How the watcher ends its watch before the other client writes.
    "exec": [["MULTI"], ["PING"], ["EXEC"]],
    "failed_exec": [["SET", "w", "self"], ["MULTI"], ["PING"], ["EXEC"]],
    "execabort": [["MULTI"], ["NOSUCHCOMMAND"], ["EXEC"]],
    "discard": [["MULTI"], ["PING"], ["DISCARD"]],
    "unwatch": [["UNWATCH"]],
}


def watch_ends(port, ending):
    """After EXEC (successful or not), EXECABORT, DISCARD or UNWATCH the watcher watches nothing:
    a later write by another client does not fail its next transaction."""
    out = []
    with conn(port) as watcher, conn(port) as other:
        other.call("SET", "w", "0")
        out.append(watcher.call("WATCH", "w", KEYS[3]))
        out += [watcher.call(*c) for c in ENDINGS[ending]]
        out.append(other.call("SET", "w", "1"))
        out.append(other.call("SET", KEYS[3], "1"))
        out += attempt(watcher, ["GET", "w"])
    return out


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_watch_ends(redis_ref, shoal, ending):
    t = both(redis_ref, shoal, watch_ends, ending)
    assert t[-1] == b"*1\r\n$1\r\n1\r\n", t


def disconnect_clears_watches(port):
    """Watchers that hang up (idle, or in the middle of MULTI) leave nothing behind: writes to
    the keys they watched succeed afterwards, and the clients that stay are still told about the
    write (their EXEC fails) while a new watcher starts clean."""
    out = []
    with conn(port) as writer:
        writer.call("MSET", *[x for k in KEYS for x in (k, "0")])
        leavers = [conn(port) for _ in range(20)]
        stayers = [conn(port) for _ in range(4)]
        for i, c in enumerate(leavers + stayers):
            c.call("WATCH", KEYS[i % len(KEYS)], KEYS[(i * 7) % len(KEYS)])
            if i % 3 == 0:
                c.call("MULTI")
                c.call("INCR", KEYS[i % len(KEYS)])
        for c in leavers:
            c.sock.shutdown(socket.SHUT_RDWR)
            c.close()
        # Writes to every key, including those only the departed clients watched.
        out += [writer.call("INCR", k) for k in KEYS]
        for i, c in enumerate(stayers, start=len(leavers)):
            if i % 3 != 0:
                c.call("MULTI")
                c.call("INCR", KEYS[i % len(KEYS)])
            out.append(c.call("EXEC"))
            c.close()
        with conn(port) as fresh:
            out.append(fresh.call("WATCH", *KEYS))
            out += attempt(fresh, ["MGET", *KEYS])
        out.append(writer.call("PING"))
    return out


def test_disconnect_clears_watches(redis_ref, shoal):
    t = both(redis_ref, shoal, disconnect_clears_watches)
    assert t[16:20] == [b"*-1\r\n"] * 4, t[16:20]
    assert t[-2].startswith(b"*1\r\n*16\r\n$1\r\n1\r\n"), t[-2]


def concurrent_watchers(port):
    """Forty clients each WATCH a shared key and a key of their own and queue a write to both; a
    writer then touches the own keys of the odd ones, and all forty send EXEC at once. The odd
    ones fail; of the even ones exactly one wins, because its EXEC touches the shared key that all
    the others watch."""
    with conn(port) as setup:
        setup.call("SET", "shared", "0")
        setup.call("MSET", *[x for i in range(40) for x in (f"own:{i}", "0")])
    clients = [conn(port) for _ in range(40)]
    for i, c in enumerate(clients):
        c.call("WATCH", "shared", f"own:{i}")
        c.call("MULTI")
        c.call("INCR", "shared")
        c.call("SET", f"own:{i}", "done")
    with conn(port) as writer:
        for i in range(1, 40, 2):
            writer.call("SET", f"own:{i}", "touched")
    barrier = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def run(i):
        barrier.wait()
        results[i] = clients[i].call("EXEC")
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    with conn(port) as check:
        shared = check.call("GET", "shared")
        owns = [check.call("GET", f"own:{i}") for i in range(40)]
    winners = [i for i, r in enumerate(results) if r != b"*-1\r\n"]
    # Which even client wins is a race: the transcript keeps only what must agree.
    return [len(winners), all(i % 2 == 0 for i in winners), shared,
            sorted(set(owns[i] for i in range(1, 40, 2))),
            sum(owns[i] == b"$4\r\ndone\r\n" for i in range(0, 40, 2))]


def test_concurrent_watchers_one_winner(redis_ref, shoal):
    t = both(redis_ref, shoal, concurrent_watchers)
    assert t == [1, True, b"$1\r\n1\r\n", [b"$7\r\ntouched\r\n"], 1], t


# --- whole transactions in one write --------------------------------------------------------------

def pipelined(port, resp3):
    """Clients send MULTI ... EXEC (and commands before and after) in one write, as pipelining
    libraries do: the replies come back in order, and another client's write that arrives in the
    same moment lands before or after the whole transaction, never inside it."""
    out = []
    with conn(port, resp3) as c, conn(port) as other:
        batch = [["SET", KEYS[0], "10"], ["MULTI"]]
        batch += [["INCR", k] for k in KEYS]
        batch += [["MGET", *KEYS], ["EXEC"], ["GET", KEYS[0]], ["MULTI"], ["NOSUCHCOMMAND"],
                  ["SET", KEYS[1], "aborted"], ["EXEC"], ["GET", KEYS[1]],
                  ["WATCH", KEYS[2]], ["SET", KEYS[2], "self"], ["MULTI"], ["DEL", KEYS[2]],
                  ["EXEC"], ["MULTI"], ["DEL", KEYS[3]], ["DISCARD"], ["EXISTS", KEYS[2], KEYS[3]]]
        c.send_raw(b"".join(encode_command(a) for a in batch))
        out += [c.read_reply().raw for _ in batch]
        # Two transactions back to back from each of two clients, sent in one write each.
        mine = [["MULTI"], *[["SET", k, "c"] for k in KEYS], ["EXEC"]] * 2
        theirs = [["MULTI"], *[["SET", k, "o"] for k in KEYS], ["EXEC"], ["MGET", *KEYS]]
        c.send_raw(b"".join(encode_command(a) for a in mine))
        other.send_raw(b"".join(encode_command(a) for a in theirs))
        out += [c.read_reply().raw for _ in mine]
        replies = [other.read_reply().raw for _ in theirs]
        out += replies[:-1]
        # Whoever ran last, the other client's MGET sees one writer's values only.
        out.append(replies[-1].count(b"$1\r\nc\r\n") in (0, len(KEYS)))
    return out


@pytest.mark.parametrize("resp3", [False, True], ids=["RESP2", "RESP3"])
def test_pipelined_transactions(redis_ref, shoal, resp3):
    t = both(redis_ref, shoal, pipelined, resp3)
    assert t[19].startswith(b"*17\r\n:11\r\n:1\r\n") and t[20] == b"$2\r\n11\r\n", t[19:21]
    assert t[24].startswith(b"-EXECABORT") and t[25] == b"$1\r\n1\r\n", t[24:26]
    assert t[30] == NIL[resp3] and t[34] == b":2\r\n", t[30:35]
    assert t[-1] is True
