"""Concurrency tests that fail if a multi-key command or a transaction is not atomic.

Each test runs writer and reader threads (one raw connection each) for a few seconds against a
Shoal with four shard threads, on keys spread over the shards (eight or sixteen keys, or eight
key pairs, so that some of them are all but certainly on different shards). Readers check an
invariant that holds between any two complete writes and breaks if a reader ever sees half of
one; the tolerance is zero. Each test also requires a minimum amount of work, so that a run in
which the race never happened cannot pass. With SHOAL_BIN=redis the same tests run against
redis-server, which checks the tests themselves.

  MSET vs MGET; MULTI SET... vs MULTI GET...; RENAME/RENAMENX ping-pong vs EXISTS and MGET;
  SMOVE vs MULTI SCARD... and SUNION; LMOVE vs MULTI LLEN...; DEL/UNLINK vs MSET vs EXISTS;
  WATCH-based increments (final value = successful EXECs); MSETNX on overlapping key sets;
  MULTI transfers vs MGET totals; SMOVE vs SUNIONSTORE/SINTERSTORE; MULTI ZREM+ZADD vs
  ZUNIONSTORE; MSET vs BITOP XOR.

Environment:
  SHOAL_ATOMICITY_SECONDS  seconds each test runs its threads (default 3; raise it for a soak).
  SHOAL_ATOMICITY_THREADS  Shoal's --threads for these tests (default 4).
"""

import os
import random
import threading
import time

import pytest

import servers
from resp import RespConnection, encode_command

SECONDS = float(os.environ.get("SHOAL_ATOMICITY_SECONDS", "3"))
THREADS = os.environ.get("SHOAL_ATOMICITY_THREADS", "4")
KEYS = [f"at:k{i}" for i in range(16)]
MAX_REPORTED = 10  # Violations kept for the report; the count covers them all.


@pytest.fixture(scope="module")
def server():
    """A Shoal of its own with several shard threads (redis-server when SHOAL_BIN=redis)."""
    try:
        s = servers.make_shoal(threads=THREADS)
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    s.start()
    yield s
    s.cleanup()


@pytest.fixture
def port(server):
    server.ensure_running()
    with RespConnection(server.port) as c:
        c.call("FLUSHALL")
    yield server.port
    if not server.is_running():
        pytest.fail(f"server exited with code {server.proc.returncode}; log:\n"
                    f"{server.log_tail()}", pytrace=False)


# --- a tiny client -------------------------------------------------------------------------------

class ServerError(Exception):
    pass


def decode(reply):
    """A RESP2 reply as Python values: bytes, int, None, list; an error reply as ServerError."""
    kind, raw = reply.kind, reply.raw
    if kind == "+":
        return raw[1:-2]
    if kind == "-":
        return ServerError(raw[1:-2].decode(errors="replace"))
    if kind == ":":
        return int(raw[1:-2])
    if kind == "$":
        return None if reply.is_null else raw[raw.index(b"\r\n") + 2:-2]
    if kind == "*":
        return None if reply.is_null else [decode(c) for c in reply.children]
    raise AssertionError(f"unexpected RESP2 reply {raw!r}")


class Client:
    def __init__(self, port):
        self.conn = RespConnection(port)

    def call(self, *args):
        self.conn.send_raw(encode_command(args))
        return decode(self.conn.read_reply())

    def pipeline(self, commands):
        """Sends all commands at once; returns their replies."""
        self.conn.send_raw(b"".join(encode_command(c) for c in commands))
        return [decode(self.conn.read_reply()) for _ in commands]

    def transaction(self, commands):
        """MULTI, commands, EXEC in one write; returns EXEC's reply (None if it failed). Any
        reply but OK/QUEUED before EXEC is raised: the test is wrong or the server is."""
        replies = self.pipeline([["MULTI"], *commands, ["EXEC"]])
        if replies[0] != b"OK" or any(r != b"QUEUED" for r in replies[1:-1]):
            raise ServerError(f"MULTI/queueing replied {replies[:-1]!r}")
        return replies[-1]

    def close(self):
        self.conn.close()


class Run:
    """Threads that loop until the deadline; violations and counters shared between them."""

    def __init__(self, port, seconds=SECONDS):
        self.port = port
        self.seconds = seconds
        self.lock = threading.Lock()
        self.violations = []
        self.violation_count = 0
        self.counts = {}
        self.errors = []
        self.workers = []

    def add(self, name, fn, *args):
        """`fn(run, client, rng, *args)` is called in a loop until the time is up."""
        self.workers.append((name, fn, args))

    def violation(self, what):
        with self.lock:
            self.violation_count += 1
            if len(self.violations) < MAX_REPORTED:
                self.violations.append(what)

    def count(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def done(self):
        # Stop early once the outcome is clear, so a broken server fails fast.
        return time.monotonic() >= self.deadline or self.violation_count >= 100 or self.errors

    def go(self):
        self.deadline = time.monotonic() + self.seconds
        start = threading.Barrier(len(self.workers), timeout=30)

        def body(index, name, fn, args):
            client = None
            rng = random.Random(index)
            try:
                client = Client(self.port)
                start.wait()
                while not self.done():
                    fn(self, client, rng, *args)
            except Exception as e:  # Reported by check(); the other threads stop.
                start.abort()  # Releases threads still waiting to start.
                with self.lock:
                    self.errors.append(f"{name}: {type(e).__name__}: {e}")
            finally:
                if client is not None:
                    client.close()

        threads = [threading.Thread(target=body, args=(i, *w), daemon=True)
                   for i, w in enumerate(self.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.seconds + 60)
        assert not any(t.is_alive() for t in threads), "a worker thread hung"
        return self

    def check(self, **minimum):
        """Fails on any violation or error, or if a counter stayed below its minimum (a test in
        which the race never happened proves nothing)."""
        problems = []
        if self.errors:
            problems.append("errors:\n  " + "\n  ".join(self.errors[:MAX_REPORTED]))
        if self.violation_count:
            problems.append(f"{self.violation_count} violations, first ones:\n  "
                            + "\n  ".join(str(v) for v in self.violations))
        low = {k: self.counts.get(k, 0) for k, n in minimum.items() if self.counts.get(k, 0) < n}
        if low:
            problems.append(f"too little work done: {low} (wanted {minimum})")
        if problems:
            pytest.fail(f"counts: {self.counts}\n" + "\n".join(problems), pytrace=False)


def prepare(port, *commands):
    c = Client(port)
    try:
        for cmd in commands:
            r = c.call(*cmd)
            assert not isinstance(r, ServerError), (cmd, r)
    finally:
        c.close()


def by_value(keys, values):
    """{value: [keys holding it]}: a torn multi-key write reads as two or more groups."""
    groups = {}
    for k, v in zip(keys, values):
        groups.setdefault(v, []).append(k)
    return groups


def mset_args(keys, value):
    return [x for k in keys for x in (k, value)]


# --- (a) MSET vs MGET ----------------------------------------------------------------------------

def mset_writer(run, c, rng, wid):
    value = f"w{wid}:{rng.getrandbits(40)}"
    r = c.call("MSET", *mset_args(KEYS, value))
    if r != b"OK":
        run.violation(f"MSET replied {r!r}")
    run.count("writes")


def mget_reader(run, c, rng):
    values = c.call("MGET", *KEYS)
    if not isinstance(values, list) or len(set(values)) != 1:
        seen = by_value(KEYS, values) if isinstance(values, list) else values
        run.violation(f"MGET saw {seen!r}")
    run.count("reads")


def test_mset_mget_all_or_nothing(port):
    prepare(port, ["MSET", *mset_args(KEYS, "initial")])
    run = Run(port)
    for i in range(4):
        run.add(f"writer{i}", mset_writer, i)
    for i in range(4):
        run.add(f"reader{i}", mget_reader)
    run.go().check(writes=50, reads=50)


# --- (b) MULTI SET... EXEC vs MULTI GET... EXEC ---------------------------------------------------

def multi_writer(run, c, rng, wid):
    value = f"w{wid}:{rng.getrandbits(40)}"
    # Keys in a random order, so that two writers do not always meet the shards in one order.
    keys = rng.sample(KEYS, len(KEYS))
    r = c.transaction([["SET", k, value] for k in keys])
    if r != [b"OK"] * len(KEYS):
        run.violation(f"EXEC of SETs replied {r!r}")
    run.count("writes")


def multi_reader(run, c, rng):
    r = c.transaction([["GET", k] for k in KEYS])
    if not isinstance(r, list) or len(set(r)) != 1:
        seen = by_value(KEYS, r) if isinstance(r, list) else r
        run.violation(f"MULTI GET... EXEC saw {seen!r}")
    run.count("reads")


def test_multi_exec_all_or_nothing(port):
    prepare(port, ["MSET", *mset_args(KEYS, "initial")])
    run = Run(port)
    for i in range(4):
        run.add(f"writer{i}", multi_writer, i)
    for i in range(4):
        run.add(f"reader{i}", multi_reader)
    run.go().check(writes=50, reads=50)


# --- (c) RENAME ping-pong -------------------------------------------------------------------------

PAIRS = [(f"at:a{i}", f"at:b{i}") for i in range(8)]  # Some pairs are on two shards.


def renamer(run, c, rng, direction):
    a, b = rng.choice(PAIRS)
    src, dst = (a, b) if direction == 0 else (b, a)
    cmd = rng.choice(["RENAME", "RENAMENX"])
    r = c.call(cmd, src, dst)
    # "no such key": the token is under the other name. RENAMENX's 0: both names exist, which
    # the readers would catch as well.
    ok = r in ((b"OK",) if cmd == "RENAME" else (1,)) or \
        (isinstance(r, ServerError) and str(r) == "ERR no such key")
    if not ok:
        run.violation(f"{cmd} {src} {dst} replied {r!r}")
    run.count("renames")


def pair_reader(run, c, rng):
    a, b = rng.choice(PAIRS)
    exists, values = c.pipeline([["EXISTS", a, b], ["MGET", a, b]])
    if exists != 1:
        run.violation(f"EXISTS {a} {b} = {exists!r}")
    if not isinstance(values, list) or sum(v is not None for v in values) != 1 \
            or f"token:{a}".encode() not in values:
        run.violation(f"MGET {a} {b} = {values!r}")
    run.count("reads")


def test_rename_ping_pong(port):
    prepare(port, *[["SET", a, f"token:{a}"] for a, _ in PAIRS])
    run = Run(port)
    for i in range(4):
        run.add(f"renamer{i}", renamer, i % 2)
    for i in range(4):
        run.add(f"reader{i}", pair_reader)
    run.go().check(renames=100, reads=100)
    # Every token still exists exactly once, under one of its two names.
    c = Client(port)
    try:
        for a, b in PAIRS:
            values = c.call("MGET", a, b)
            assert sorted(values, key=lambda v: v is None) == [f"token:{a}".encode(), None], \
                (a, b, values)
    finally:
        c.close()


# --- (d) SMOVE between sets -----------------------------------------------------------------------

SETS = [f"at:set{i}" for i in range(8)]
TOKENS = [f"t{i}" for i in range(64)]


def smover(run, c, rng):
    src, dst = rng.sample(SETS, 2)
    member = c.call("SRANDMEMBER", src)
    if member is None:
        return
    r = c.call("SMOVE", src, dst, member)
    if r not in (0, 1):  # 0: another mover took it first.
        run.violation(f"SMOVE {src} {dst} {member!r} replied {r!r}")
    run.count("moves", r == 1)


def set_auditor(run, c, rng):
    r = c.transaction([["SCARD", s] for s in SETS])
    if not isinstance(r, list) or sum(r) != len(TOKENS):
        seen = dict(zip(SETS, r)) if isinstance(r, list) else r
        run.violation(f"MULTI SCARD... EXEC: {seen!r}, want a sum of {len(TOKENS)}")
    union = c.call("SUNION", *SETS)
    if not isinstance(union, list) or sorted(union) != sorted(t.encode() for t in TOKENS):
        run.violation(f"SUNION has {len(union) if isinstance(union, list) else union!r} members")
    run.count("audits")


def test_smove_conserves_members(port):
    prepare(port, *[["SADD", SETS[i % len(SETS)], t] for i, t in enumerate(TOKENS)])
    run = Run(port)
    for i in range(4):
        run.add(f"mover{i}", smover)
    for i in range(3):
        run.add(f"auditor{i}", set_auditor)
    run.go().check(moves=100, audits=30)
    c = Client(port)
    try:
        members = [m for s in SETS for m in c.call("SMEMBERS", s)]
        assert sorted(members) == sorted(t.encode() for t in TOKENS), members
    finally:
        c.close()


# --- (e) LMOVE between lists ----------------------------------------------------------------------

LISTS = [f"at:list{i}" for i in range(8)]
ITEMS = [f"i{i}" for i in range(64)]


def lmover(run, c, rng):
    src, dst = rng.sample(LISTS, 2)
    ends = [rng.choice(["LEFT", "RIGHT"]) for _ in range(2)]
    r = c.call("LMOVE", src, dst, *ends)
    if r is not None and not (isinstance(r, bytes) and r.startswith(b"i")):
        run.violation(f"LMOVE {src} {dst} {ends} replied {r!r}")
    run.count("moves", r is not None)


def list_auditor(run, c, rng):
    r = c.transaction([["LLEN", k] for k in LISTS])
    if not isinstance(r, list) or sum(r) != len(ITEMS):
        seen = dict(zip(LISTS, r)) if isinstance(r, list) else r
        run.violation(f"MULTI LLEN... EXEC: {seen!r}, want a sum of {len(ITEMS)}")
    run.count("audits")


def test_lmove_conserves_elements(port):
    prepare(port, *[["RPUSH", LISTS[i % len(LISTS)], x] for i, x in enumerate(ITEMS)])
    run = Run(port)
    for i in range(4):
        run.add(f"mover{i}", lmover)
    for i in range(3):
        run.add(f"auditor{i}", list_auditor)
    run.go().check(moves=100, audits=30)
    c = Client(port)
    try:
        items = [x for k in LISTS for x in c.call("LRANGE", k, "0", "-1")]
        assert sorted(items) == sorted(x.encode() for x in ITEMS), items
    finally:
        c.close()


# --- (f) DEL vs MSET ------------------------------------------------------------------------------

def del_or_mset(run, c, rng, wid):
    op = rng.choice(["DEL", "UNLINK", "MSET"])
    if op == "MSET":
        r = c.call("MSET", *mset_args(KEYS, f"w{wid}"))
        ok = r == b"OK"
    else:
        r = c.call(op, *KEYS)
        ok = isinstance(r, int) and r in (0, len(KEYS))  # Atomic: all of them or none existed.
    if not ok:
        run.violation(f"{op} of all keys replied {r!r}")
    run.count("writes")


def exists_reader(run, c, rng):
    n = c.call("EXISTS", *KEYS)
    if n not in (0, len(KEYS)):
        run.violation(f"EXISTS of {len(KEYS)} keys = {n!r}")
    run.count("reads")


def test_del_vs_mset(port):
    run = Run(port)
    for i in range(4):
        run.add(f"writer{i}", del_or_mset, i)
    for i in range(4):
        run.add(f"reader{i}", exists_reader)
    run.go().check(writes=50, reads=50)


# --- (g) WATCH-based increments -------------------------------------------------------------------

COUNTERS = ["at:counter:a", "at:counter:b", "at:counter:c"]


def watch_incrementer(run, c, rng):
    """Optimistic read-modify-write of three counters (on different shards, most likely): a lost
    update or a half-applied EXEC shows as counters that differ from the successes counted."""
    if c.call("WATCH", *COUNTERS) != b"OK":
        raise ServerError("WATCH failed")
    values = c.call("MGET", *COUNTERS)
    if len(set(values)) != 1:
        run.violation(f"counters differ: {dict(zip(COUNTERS, values))}")
    n = int(values[0])
    r = c.transaction([["SET", k, str(n + 1)] for k in COUNTERS])
    if r is None:
        run.count("retries")
    elif r == [b"OK"] * len(COUNTERS):
        run.count("successes")
    else:
        run.violation(f"EXEC replied {r!r}")


def test_watch_increments_lose_nothing(port):
    prepare(port, ["MSET", *mset_args(COUNTERS, "0")])
    run = Run(port)
    for i in range(8):
        run.add(f"client{i}", watch_incrementer)
    run.go().check(successes=20)
    c = Client(port)
    try:
        final = c.call("MGET", *COUNTERS)
    finally:
        c.close()
    want = str(run.counts["successes"]).encode()
    assert final == [want] * len(COUNTERS), \
        f"counters {dict(zip(COUNTERS, final))}, successful EXECs {want!r}, counts {run.counts}"
    # The race must have happened: some EXECs failed because another client got there first.
    assert run.counts.get("retries", 0) > 0, run.counts


# --- (h) MSETNX on overlapping key sets -----------------------------------------------------------

MSETNX_CLIENTS = 6


def msetnx_round(rnd, clients, barrier, results, i, key_sets):
    barrier.wait()
    results[i] = clients[i].call("MSETNX", *mset_args(key_sets[i], f"r{rnd}c{i}"))


def test_msetnx_overlapping(port):
    """Rounds of six clients calling MSETNX at once on overlapping sets of sixteen fresh keys.
    MSETNX sets all its keys or none: each client's keys hold its value everywhere (it replied
    1) or nowhere (it replied 0). A reader checks the same during the race."""
    clients = [Client(port) for _ in range(MSETNX_CLIENTS)]
    reader = Client(port)
    rng = random.Random(7)
    violations = []
    deadline = time.monotonic() + SECONDS
    rounds = winners = 0
    try:
        while time.monotonic() < deadline and len(violations) < MAX_REPORTED:
            keys = [f"at:nx{rounds}:{j}" for j in range(16)]
            key_sets = [rng.sample(keys, rng.randint(2, 8)) for _ in range(MSETNX_CLIENTS)]
            results = [None] * MSETNX_CLIENTS
            barrier = threading.Barrier(MSETNX_CLIENTS + 1, timeout=30)
            threads = [threading.Thread(target=msetnx_round,
                                        args=(rounds, clients, barrier, results, i, key_sets))
                       for i in range(MSETNX_CLIENTS)]
            for t in threads:
                t.start()
            barrier.wait()
            # Read while the MSETNXs run: each set is all its owner's or none of it.
            seen = [reader.call("MGET", *ks) for ks in key_sets]
            for t in threads:
                t.join(30)
            for i, (ks, values) in enumerate(zip(key_sets, seen)):
                mine = [v == f"r{rounds}c{i}".encode() for v in values]
                if any(mine) and not all(mine):
                    violations.append(f"round {rounds}: reader saw {dict(zip(ks, values))} "
                                      f"for client {i}")
            final = {k: v for k, v in zip(keys, reader.call("MGET", *keys))}
            for i, ks in enumerate(key_sets):
                mine = [final[k] == f"r{rounds}c{i}".encode() for k in ks]
                want = [results[i] == 1] * len(ks)
                if mine != want or results[i] not in (0, 1):
                    violations.append(f"round {rounds}: client {i} MSETNX replied {results[i]!r} "
                                      f"but its keys hold {({k: final[k] for k in ks})}")
            winners += sum(r == 1 for r in results)
            rounds += 1
    finally:
        for c in clients + [reader]:
            c.close()
    assert not violations, "\n".join(violations)
    assert rounds >= 20 and winners >= rounds, (rounds, winners)


# --- (i) transfers in MULTI/EXEC, audited by one multi-key read -----------------------------------

ACCOUNTS = [f"at:acct{i}" for i in range(16)]
START_BALANCE = 1000


def transferrer(run, c, rng):
    src, dst = rng.sample(ACCOUNTS, 2)
    amount = rng.randint(1, 50)
    r = c.transaction([["DECRBY", src, str(amount)], ["INCRBY", dst, str(amount)]])
    if not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, int) for x in r)):
        run.violation(f"transfer {src} -> {dst} of {amount}: EXEC replied {r!r}")
    run.count("transfers")


def mget_auditor(run, c, rng):
    values = c.call("MGET", *ACCOUNTS)
    total = sum(int(v) for v in values)
    if total != START_BALANCE * len(ACCOUNTS):
        run.violation(f"MGET total {total}: {dict(zip(ACCOUNTS, values))}")
    run.count("audits")


def test_transfers_seen_whole_by_mget(port):
    """A transaction's writes on two shards are seen together by a multi-key read (MGET), not only
    by another transaction: the total over all accounts never changes."""
    prepare(port, ["MSET", *mset_args(ACCOUNTS, str(START_BALANCE))])
    run = Run(port)
    for i in range(4):
        run.add(f"transferrer{i}", transferrer)
    for i in range(3):
        run.add(f"auditor{i}", mget_auditor)
    run.go().check(transfers=50, audits=50)
    c = Client(port)
    try:
        values = c.call("MGET", *ACCOUNTS)
    finally:
        c.close()
    assert sum(int(v) for v in values) == START_BALANCE * len(ACCOUNTS), values


# --- (j) *STORE commands read a consistent snapshot -----------------------------------------------

def set_storer(run, c, rng, sid):
    """SUNIONSTORE of all the sets must hold every token once; SINTERSTORE of two sets nothing
    (a token is in one set at a time). A torn SMOVE or a torn read shows in either."""
    n = c.call("SUNIONSTORE", f"at:union{sid}", *SETS)
    if n != len(TOKENS):
        run.violation(f"SUNIONSTORE of {SETS} stored {n!r} members, want {len(TOKENS)}")
    a, b = rng.sample(SETS, 2)
    n = c.call("SINTERSTORE", f"at:inter{sid}", a, b)
    if n != 0:
        both_sets = c.call("SMEMBERS", f"at:inter{sid}")
        run.violation(f"SINTERSTORE {a} {b} stored {n!r}: {both_sets!r} were in both")
    run.count("stores")


def test_set_stores_see_whole_moves(port):
    prepare(port, *[["SADD", SETS[i % len(SETS)], t] for i, t in enumerate(TOKENS)])
    run = Run(port)
    for i in range(4):
        run.add(f"mover{i}", smover)
    for i in range(3):
        run.add(f"storer{i}", set_storer, i)
    run.go().check(moves=100, stores=30)


ZSETS = [f"at:zset{i}" for i in range(8)]


def zmover_owned(run, c, rng, wid):
    """Each mover owns its own members, so its ZREM/ZADD pairs never race with another mover's
    and must both succeed; the auditors check totals while the pairs run."""
    members = [f"z{wid}:{j}" for j in range(8)]
    m = rng.choice(members)
    where = c.transaction([["ZSCORE", z, m] for z in ZSETS])
    if not isinstance(where, list) or sum(v is not None for v in where) != 1:
        run.violation(f"member {m} found in {where!r}")
        return
    src = ZSETS[next(i for i, v in enumerate(where) if v is not None)]
    dst = rng.choice([z for z in ZSETS if z != src])
    r = c.transaction([["ZREM", src, m], ["ZADD", dst, where[ZSETS.index(src)], m]])
    if r != [1, 1]:
        run.violation(f"ZREM {src} / ZADD {dst} {m}: EXEC replied {r!r}")
    run.count("moves")


def zscore_of(member):
    """Each member's own score: a member counted twice by ZUNIONSTORE shows a doubled score."""
    w, j = member[1:].split(":")
    return str(int(w) * 8 + int(j) + 1)


def zset_auditor(run, c, rng, sid):
    n = c.call("ZUNIONSTORE", f"at:zunion{sid}", str(len(ZSETS)), *ZSETS)
    if n != 32:
        run.violation(f"ZUNIONSTORE of {ZSETS} stored {n!r} members, want 32")
    flat = c.call("ZRANGE", f"at:zunion{sid}", "0", "-1", "WITHSCORES")
    wrong = {m: s for m, s in zip(flat[::2], flat[1::2]) if s != zscore_of(m.decode()).encode()}
    if wrong:
        run.violation(f"ZUNIONSTORE summed these members' scores over several sets: {wrong}")
    run.count("audits")


def test_zset_moves_in_multi_seen_whole_by_zunionstore(port):
    """Four movers move their own members between eight sorted sets, each move a MULTI with ZREM
    and ZADD; ZUNIONSTORE of all the sets always stores all 32 members, each with its own
    score (a member caught in two sets would have its score summed)."""
    prepare(port, *[["ZADD", ZSETS[(w * 8 + j) % len(ZSETS)], zscore_of(f"z{w}:{j}"), f"z{w}:{j}"]
                    for w in range(4) for j in range(8)])
    run = Run(port)
    for i in range(4):
        run.add(f"mover{i}", zmover_owned, i)
    for i in range(3):
        run.add(f"auditor{i}", zset_auditor, i)
    run.go().check(moves=50, audits=30)


# --- (k) BITOP reads all its sources at one moment ------------------------------------------------

BITKEYS = [f"at:bits{i}" for i in range(8)]


def bits_writer(run, c, rng):
    r = c.call("MSET", *mset_args(BITKEYS, rng.randbytes(8)))
    if r != b"OK":
        run.violation(f"MSET replied {r!r}")
    run.count("writes")


def bitop_reader(run, c, rng, sid):
    """The sources always hold one value (an even number of copies of it): XOR is all zeros."""
    n = c.call("BITOP", "XOR", f"at:xor{sid}", *BITKEYS)
    got = c.call("GET", f"at:xor{sid}")
    if n != 8 or got != bytes(8):
        run.violation(f"BITOP XOR of {len(BITKEYS)} equal keys returned {n!r}, stored {got!r}")
    run.count("reads")


def test_bitop_sees_whole_mset(port):
    prepare(port, ["MSET", *mset_args(BITKEYS, bytes(8))])
    run = Run(port)
    for i in range(4):
        run.add(f"writer{i}", bits_writer)
    for i in range(4):
        run.add(f"reader{i}", bitop_reader, i)
    run.go().check(writes=50, reads=50)
