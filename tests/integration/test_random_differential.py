"""Randomized differential test: one random stream of string and key commands, sent to
redis-server and to Shoal, every reply compared; then the whole keyspace is compared.

The stream is a pure function of the seed (it never looks at a reply), so both servers get the same
commands and a failure is reproducible from the seed alone. It works on a small keyspace (30 keys)
so that commands collide: values change type (integer, float, text), TTLs are set, replaced and
removed, keys are renamed onto each other, copied and moved between databases 0 and 1 (and SELECT
switches between them). Error cases (wrong arity, bad integers, conflicting options) are sprinkled
in.

Time: every TTL in the stream is either far in the future (>= 1 day, or in the year 2100) or
already past (deleted at once, deterministically), so no key expires while the test runs. TTL and
PTTL, and EXPIRETIME/PEXPIRETIME of relative TTLs, depend on the instant each server ran the
command: they are compared with a tolerance (non-negative replies only; -1 and -2 must match).
GT/LT are only combined with absolute times far from any relative one, so that two servers a few
milliseconds apart cannot decide them differently.

Commands are pipelined in batches (both servers work on a batch at the same time); a connection
runs its commands in order, so the replies are those of the same commands sent one by one.

Environment:
  SHOAL_RANDOM_SEED  the seed (default 1); `random` picks one (shown in a failure report)
  SHOAL_RANDOM_OPS   commands per protocol (default 20000)
  SHOAL_RANDOM_DUMP  on a mismatch, write the commands up to the failing one to this file as a
                     differential script (scripts/ format), to replay or shrink by hand
"""

import collections
import os
import random

import pytest

from resp import encode_command
from random_support import Mismatch, line as _line, open_conn as _open, settings

DEFAULT_SEED = 1
DEFAULT_OPS = 20000
BATCH = 64  # Commands per pipelined batch.
HISTORY = 10  # Commands shown before the failing one.

# Integer replies compared with a tolerance, per command name (seconds or milliseconds): relative
# TTLs are set at slightly different instants on the two servers.
TOLERANT = {b"TTL": 1, b"EXPIRETIME": 1, b"PTTL": 1500, b"PEXPIRETIME": 1500}
UNORDERED = {b"KEYS"}  # Replies whose elements come in dict order: compared sorted.

YEAR_2100 = 4102444800  # Absolute times live here, far from now + any relative TTL.


# --- the random stream ------------------------------------------------------------------------

def _settings():
    return settings(DEFAULT_SEED, DEFAULT_OPS)

class Stream:
    """Generates commands (lists of bytes) from one random.Random; never sees a reply."""

    KEYS = [b"k%d" % i for i in range(24)] + [b"", b"\x00", b"key with space", b"\xff\xfe",
                                               b"{tag}a", b"{tag}b"]
    INTS = [b"0", b"1", b"-1", b"7", b"42", b"100", b"-250", b"9999", b"10000", b"123456789",
            b"9223372036854775807", b"-9223372036854775808", b"9223372036854775806",
            b"-9223372036854775807", b"9223372036854775808", b"-0", b"007", b"+5", b" 5", b"5 ",
            b"1e3", b"0x10", b"18446744073709551615"]
    FLOATS = [b"0.1", b"-0.25", b"1.5", b"3e2", b"2.5e-3", b"-1e10", b"1e308", b"-1e308", b"inf",
              b"-inf", b"nan", b"0.0", b"-0.0", b".5", b"5.", b"1e-400", b"1e400",
              b"3.14159265358979323846", b"100000000000000000000", b"0x1p3", b"1,5", b""]
    BAD_INTS = [b"abc", b"1.5", b"", b"9223372036854775808", b"-9223372036854775809", b"+1",
                b" 1", b"1 ", b"0x1", b"1e2"]

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.ops = [(w, getattr(self, "op_" + name)) for name, w in self.WEIGHTS]
        self.total = sum(w for w, _ in self.ops)

    # Weights of the command generators (relative).
    WEIGHTS = [
        ("set", 14), ("get", 6), ("append", 3), ("setrange", 3), ("getrange", 3),
        ("incr", 5), ("incrbyfloat", 4), ("mset", 4), ("mget", 4), ("msetnx", 2), ("del", 4),
        ("exists", 3), ("touch", 1), ("rename", 3), ("copy", 3), ("move", 1),
        ("expire_rel", 4), ("expire_abs", 4), ("expire_past", 1), ("persist", 2), ("ttl", 5),
        ("strlen", 2), ("type", 1), ("getdel", 2), ("getex", 3), ("setnx", 2), ("setex", 2),
        ("getset", 2), ("lcs", 2), ("encoding", 1), ("keys", 1), ("errors", 3), ("select", 1),
    ]

    def next(self) -> list:
        x = self.r.uniform(0, self.total)
        for w, op in self.ops:
            x -= w
            if x <= 0:
                return op()
        return self.ops[-1][1]()

    # -- building blocks --

    def key(self) -> bytes:
        return self.r.choice(self.KEYS)

    def keys(self, lo: int, hi: int) -> list:
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def text(self) -> bytes:
        n = self.r.choice([0, 1, 2, 3, 5, 8, 12, 20])
        alphabet = b"abcxyz" if self.r.random() < 0.8 else b"ab\x00\xff\r\n 9-"
        return bytes(self.r.choice(alphabet) for _ in range(n))

    def value(self) -> bytes:
        x = self.r.random()
        if x < 0.4:
            return self.r.choice(self.INTS) if self.r.random() < 0.5 else str(
                self.r.randint(-1000, 1000)).encode()
        if x < 0.55:
            return self.r.choice(self.FLOATS)
        return self.text()

    def rel_seconds(self) -> bytes:  # Relative TTLs: at least a day, far below the year 2100.
        return str(self.r.choice([86400, 100000, 200000, 500000, 1000000]) +
                   self.r.randint(0, 999)).encode()

    def abs_seconds(self) -> bytes:
        return str(YEAR_2100 + self.r.randint(0, 100000)).encode()

    def past(self) -> bytes:
        return self.r.choice([b"1", b"1000", b"1500000000"])

    def set_expiry(self) -> list:
        """An expiry option of SET / GETEX: relative, absolute, or (rarely) in the past."""
        x = self.r.random()
        if x < 0.3:
            return [b"EX", self.rel_seconds()]
        if x < 0.5:
            return [b"PX", self.rel_seconds() + b"000"]
        if x < 0.7:
            return [b"EXAT", self.abs_seconds()]
        if x < 0.9:
            return [b"PXAT", self.abs_seconds() + str(self.r.randint(0, 999)).zfill(3).encode()]
        return [self.r.choice([b"EXAT", b"PXAT"]), self.past()]

    # -- commands --

    def op_set(self):
        cmd = [b"SET", self.key(), self.value()]
        opts = []
        if self.r.random() < 0.25:
            opts.append([self.r.choice([b"NX", b"XX"])])
        x = self.r.random()
        if x < 0.35:
            opts.append(self.set_expiry())
        elif x < 0.45:
            opts.append([b"KEEPTTL"])
        if self.r.random() < 0.2:
            opts.append([b"GET"])
        if self.r.random() < 0.04:  # A conflict or a bad value: a syntax / integer error.
            opts.append(self.r.choice([[b"NX"], [b"XX"], [b"EX", b"10"], [b"KEEPTTL"],
                                       [b"PX", self.r.choice(self.BAD_INTS)], [b"EX", b"0"],
                                       [b"BOGUS"], [b"EX"]]))
        self.r.shuffle(opts)
        for o in opts:
            cmd += o
        return cmd

    def op_get(self):
        return [b"GET", self.key()]

    def op_append(self):
        return [b"APPEND", self.key(), self.text()]

    def op_setrange(self):
        off = self.r.choice([0, 0, 1, 2, 3, 5, 10, 20, 40, -1])
        return [b"SETRANGE", self.key(), str(off).encode(), self.text()]

    def op_getrange(self):
        a, b = self.r.randint(-25, 25), self.r.randint(-25, 25)
        return [self.r.choice([b"GETRANGE", b"SUBSTR"]), self.key(), str(a).encode(),
                str(b).encode()]

    def op_incr(self):
        k = self.key()
        x = self.r.random()
        if x < 0.3:
            return [self.r.choice([b"INCR", b"DECR"]), k]
        n = self.r.choice(self.INTS) if x < 0.5 else str(self.r.randint(-100, 100)).encode()
        return [self.r.choice([b"INCRBY", b"DECRBY"]), k, n]

    def op_incrbyfloat(self):
        x = self.r.random()
        inc = self.r.choice(self.FLOATS) if x < 0.5 else str(
            round(self.r.uniform(-100, 100), self.r.randint(0, 4))).encode()
        return [b"INCRBYFLOAT", self.key(), inc]

    def op_mset(self):
        cmd = [b"MSET"]
        for k in self.keys(1, 6):
            cmd += [k, self.value()]
        return cmd

    def op_msetnx(self):
        cmd = [b"MSETNX"]
        for k in self.keys(1, 4):
            cmd += [k, self.value()]
        return cmd

    def op_mget(self):
        return [b"MGET"] + self.keys(1, 8)

    def op_del(self):
        return [self.r.choice([b"DEL", b"UNLINK"])] + self.keys(1, 5)

    def op_exists(self):
        return [b"EXISTS"] + self.keys(1, 6)

    def op_touch(self):
        return [b"TOUCH"] + self.keys(1, 4)

    def op_rename(self):
        return [self.r.choice([b"RENAME", b"RENAMENX"]), self.key(), self.key()]

    def op_copy(self):
        cmd = [b"COPY", self.key(), self.key()]
        if self.r.random() < 0.3:
            cmd += [b"DB", self.r.choice([b"0", b"1", b"1"])]
        if self.r.random() < 0.4:
            cmd.append(b"REPLACE")
        return cmd

    def op_move(self):
        return [b"MOVE", self.key(), self.r.choice([b"1", b"1", b"0"])]

    def op_expire_rel(self):
        if self.r.random() < 0.5:
            cmd = [b"EXPIRE", self.key(), self.rel_seconds()]
        else:
            cmd = [b"PEXPIRE", self.key(), self.rel_seconds() + b"000"]
        if self.r.random() < 0.3:
            cmd.append(self.r.choice([b"NX", b"XX"]))  # Existence of a TTL only: no race.
        return cmd

    def op_expire_abs(self):
        if self.r.random() < 0.5:
            cmd = [b"EXPIREAT", self.key(), self.abs_seconds()]
        else:
            cmd = [b"PEXPIREAT", self.key(), self.abs_seconds() + b"500"]
        if self.r.random() < 0.5:
            cmd.append(self.r.choice([b"NX", b"XX", b"GT", b"LT"]))
        if self.r.random() < 0.1:
            cmd.append(self.r.choice([b"XX", b"GT", b"LT"]))
        return cmd

    def op_expire_past(self):
        return self.r.choice([
            [b"EXPIRE", self.key(), self.r.choice([b"0", b"-5"])],
            [b"PEXPIRE", self.key(), b"-1"],
            [b"EXPIREAT", self.key(), self.past()],
            [b"PEXPIREAT", self.key(), self.past()],
        ])

    def op_persist(self):
        return [b"PERSIST", self.key()]

    def op_ttl(self):
        return [self.r.choice([b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"]), self.key()]

    def op_strlen(self):
        return [b"STRLEN", self.key()]

    def op_type(self):
        return [b"TYPE", self.key()]

    def op_getdel(self):
        return [b"GETDEL", self.key()]

    def op_getex(self):
        cmd = [b"GETEX", self.key()]
        x = self.r.random()
        if x < 0.5:
            cmd += self.set_expiry()
        elif x < 0.7:
            cmd.append(b"PERSIST")
        elif x < 0.75:
            cmd += self.r.choice([[b"EX", b"0"], [b"PX", b"abc"], [b"KEEPTTL"], [b"EX"],
                                  [b"PERSIST", b"EX", b"100000"]])
        return cmd

    def op_setnx(self):
        return [b"SETNX", self.key(), self.value()]

    def op_setex(self):
        if self.r.random() < 0.5:
            return [b"SETEX", self.key(), self.rel_seconds(), self.value()]
        return [b"PSETEX", self.key(), self.rel_seconds() + b"000", self.value()]

    def op_getset(self):
        return [b"GETSET", self.key(), self.value()]

    def op_lcs(self):
        cmd = [b"LCS", self.key(), self.key()]
        x = self.r.random()
        if x < 0.4:
            cmd.append(b"LEN")
        elif x < 0.7:
            cmd.append(b"IDX")
            if self.r.random() < 0.5:
                cmd += [b"MINMATCHLEN", str(self.r.randint(0, 4)).encode()]
            if self.r.random() < 0.5:
                cmd.append(b"WITHMATCHLEN")
        return cmd

    def op_encoding(self):
        return [b"OBJECT", b"ENCODING", self.key()]

    def op_keys(self):
        return [b"KEYS", self.r.choice([b"k1*", b"k?", b"*", b"{tag}*", b"k[0-9]", b"*e*"])]

    def op_select(self):  # Later commands (pipelined to other shards too) use this database.
        return [b"SELECT", self.r.choice([b"0", b"0", b"1"])]

    def op_errors(self):
        k = self.key()
        bad = self.r.choice(self.BAD_INTS)
        return self.r.choice([
            [b"GET"], [b"SET", k], [b"GET", k, k], [b"MSET", k], [b"MSET", k, b"v", k],
            [b"EXISTS"], [b"DEL"], [b"APPEND", k], [b"LCS", k], [b"RENAME", k],
            [b"INCRBY", k, bad], [b"DECRBY", k, bad], [b"EXPIRE", k, bad],
            [b"SETRANGE", k, bad, b"x"], [b"SETRANGE", k, b"-1", b"x"],
            [b"GETRANGE", k, bad, b"1"], [b"SETEX", k, bad, b"v"], [b"SETEX", k, b"0", b"v"],
            [b"PSETEX", k, b"-5", b"v"], [b"INCRBYFLOAT", k, b"x"],
            [b"EXPIRE", k, b"100", b"NX", b"XX"], [b"EXPIRE", k, b"100", b"GT", b"LT"],
            [b"EXPIRE", k, b"100", b"BOGUS"], [b"GETEX", k, b"EX", b"1", b"PX", b"1"],
            [b"COPY", k, k], [b"COPY", k, b"x", b"DB", bad], [b"LCS", k, k, b"LEN", b"IDX"],
            [b"MOVE", k, b"0"], [b"NOSUCHCOMMAND", k],
        ])


# --- running it ---------------------------------------------------------------------------------


def _agrees(args, ref, got) -> bool:
    """Whether two replies (Reply objects) agree, given the command that produced them."""
    name = args[0].upper()
    if name in UNORDERED and ref.kind == got.kind == "*":
        return sorted(c.raw for c in ref.children) == sorted(c.raw for c in got.children)
    ref, got = ref.raw, got.raw
    if ref == got:
        return True
    tol = TOLERANT.get(name)
    if tol is None or not (ref.startswith(b":") and got.startswith(b":")):
        return False
    a, b = int(ref[1:-2]), int(got[1:-2])
    return a >= 0 and b >= 0 and abs(a - b) <= tol


def _report(seed, n_ops, protocol, index, args, ref, got, history):
    lines = [f"replies differ at command #{index} of {n_ops} (RESP{protocol}), seed {seed}",
             f"  reproduce: SHOAL_RANDOM_SEED={seed} SHOAL_RANDOM_OPS={n_ops} "
             f"/usr/bin/python3 -m pytest tests/integration/test_random_differential.py",
             "  last commands (index: command -> redis reply):"]
    for i, a, r in history:
        lines.append(f"    #{i}: {_line(a)} -> {r[:200]!r}")
    lines += [f"  failing: {_line(args)}", f"    redis: {ref[:400]!r}", f"    shoal: {got[:400]!r}"]
    return "\n".join(lines)


def _dump(commands):
    path = os.environ.get("SHOAL_RANDOM_DUMP")
    if not path:
        return ""
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Written by test_random_differential.py: the stream up to the first mismatch.\n")
        for args in commands:
            name = args[0].upper()
            prefix = f"!approx {TOLERANT[name]} " if name in TOLERANT else (
                "!sort " if name in UNORDERED else "")
            f.write(prefix + _line(args) + "\n")
    return f"\n  commands written to {path}"


def run_stream(ref_port: int, shoal_port: int, protocol: int, seed: int, n_ops: int):
    """Runs the stream; raises Mismatch with a report at the first disagreement."""
    stream = Stream(seed)
    commands = [stream.next() for _ in range(n_ops)]
    ref, sut = _open(ref_port, protocol), _open(shoal_port, protocol)
    history = collections.deque(maxlen=HISTORY)
    try:
        for start in range(0, n_ops, BATCH):
            batch = commands[start:start + BATCH]
            payload = b"".join(encode_command(a) for a in batch)
            ref.send_raw(payload)
            sut.send_raw(payload)
            ref_replies = [ref.read_reply() for _ in batch]
            sut_replies = [sut.read_reply() for _ in batch]
            for offset, (args, a, b) in enumerate(zip(batch, ref_replies, sut_replies)):
                if not _agrees(args, a, b):
                    index = start + offset
                    raise Mismatch(_report(seed, n_ops, protocol, index, args, a.raw, b.raw,
                                           history) + _dump(commands[:index + 1]))
                history.append((start + offset, args, a.raw))
        _compare_keyspace(ref, sut, seed, n_ops, protocol)
    finally:
        ref.close()
        sut.close()


def _compare_keyspace(ref, sut, seed, n_ops, protocol):
    """Databases 0 and 1: the same keys, and per key the same value, encoding and expiry.

    KEYS, not DBSIZE: Redis counts a key whose deadline passed (SET ... PXAT 1) until it is
    touched or sampled, so DBSIZE depends on timing.
    """
    def fail(what, a, b):
        raise Mismatch(f"final keyspace differs (RESP{protocol}, seed {seed}, {n_ops} commands): "
                       f"{what}\n  redis: {a!r}\n  shoal: {b!r}")

    for db in (b"0", b"1"):
        for conn in (ref, sut):
            assert conn.call(b"SELECT", db) == b"+OK\r\n"
        key_lists = []
        for conn in (ref, sut):
            conn.send_raw(encode_command([b"KEYS", b"*"]))
            key_lists.append(sorted(c.raw for c in conn.read_reply().children))
        if key_lists[0] != key_lists[1]:
            fail(f"KEYS * in db {db.decode()}", key_lists[0], key_lists[1])
        for raw_key in key_lists[0]:
            key = raw_key.split(b"\r\n", 1)[1][:-2]  # b"$3\r\nkey\r\n" -> b"key"
            for args in ([b"GET", key], [b"PEXPIRETIME", key], [b"OBJECT", b"ENCODING", key]):
                replies = []
                for conn in (ref, sut):
                    conn.send_raw(encode_command(args))
                    replies.append(conn.read_reply())
                if not _agrees(args, *replies):
                    fail(f"db {db.decode()}: {_line(args)}", replies[0].raw[:400],
                         replies[1].raw[:400])
    for conn in (ref, sut):
        conn.call(b"SELECT", b"0")


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
def test_random_stream(protocol, redis_ref, shoal):
    seed, n_ops = _settings()
    try:
        run_stream(redis_ref.port, shoal.port, protocol, seed, n_ops)
        failure = None
    except Mismatch as e:
        failure = str(e)
    if failure:  # Outside the except block: the report alone, without a chained traceback.
        pytest.fail(failure, pytrace=False)


def test_stream_is_a_function_of_the_seed():
    a, b, c = Stream(7), Stream(7), Stream(8)
    first = [a.next() for _ in range(500)]
    assert first == [b.next() for _ in range(500)]
    assert first != [c.next() for _ in range(500)]


def test_agrees():
    from resp import Reply

    def i(n):
        return Reply(":", b":%d\r\n" % n)
    assert _agrees([b"TTL", b"k"], i(100), i(99))
    assert not _agrees([b"TTL", b"k"], i(100), i(98))
    assert not _agrees([b"TTL", b"k"], i(-1), i(0))  # -1/-2 exact: no expiry is not "about 0"
    assert not _agrees([b"GET", b"k"], i(100), i(99))
    assert _agrees([b"pttl", b"k"], i(100000), i(99000))
    a = Reply("*", b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", [Reply("$", b"$1\r\na\r\n"),
                                                    Reply("$", b"$1\r\nb\r\n")])
    b = Reply("*", b"*2\r\n$1\r\nb\r\n$1\r\na\r\n", list(reversed(a.children)))
    assert _agrees([b"KEYS", b"*"], a, b)
    assert not _agrees([b"MGET", b"a", b"b"], a, b)
