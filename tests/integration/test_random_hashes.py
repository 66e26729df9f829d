"""Randomized differential test for hashes: one random stream of hash commands (and a few string and
key commands, for WRONGTYPE and for keys changing type), sent to redis-server and to Shoal, every
reply compared; then the whole keyspace is compared.

The stream is a pure function of the seed (it never looks at a reply). It works on few keys and a
small pool of fields so that commands collide: fields are added, updated, deleted until the key
goes, incremented as integers and floats. The stream also lowers and raises
hash-max-listpack-entries and hash-max-listpack-value, so hashes convert to hashtables all the time
(and a listpack already past a lowered limit converts at its next write), and the limits are put
back when the test ends.

Order: a listpack's order is Redis's and must match exactly; a hashtable's is unspecified. So every
command whose reply follows the hash's order (HGETALL, HKEYS, HVALS, HSCAN, HRANDFIELD of the whole
hash) comes right after an OBJECT ENCODING of its key in the stream, and its reply is compared
exactly after "listpack" and as a sorted list of elements (pairs, for a map) after "hashtable".
An HSCAN of a hashtable that either server did not finish in one call (cursor not 0) is compared
by shape only. Random draws (HRANDFIELD without a count, or with a count smaller than the hash, or negative)
are compared by shape: reply type, element count, and [field, value] pairs in RESP3 WITHVALUES.

Environment:
  SHOAL_RANDOM_SEED  the seed (default 1); `random` picks one (shown in a failure report)
  SHOAL_RANDOM_OPS   commands per protocol (default 15000)
"""

import collections
import random

import pytest

from resp import encode_command
from random_support import Mismatch, line as _line, open_conn as _open, settings

DEFAULT_SEED = 1
DEFAULT_OPS = 15000
BATCH = 64
HISTORY = 12

HASHTABLE = b"$9\r\nhashtable\r\n"
ORDERED = {b"HGETALL", b"HKEYS", b"HVALS", b"HSCAN", b"HRANDFIELD"}


def _settings():
    return settings(DEFAULT_SEED, DEFAULT_OPS)

class Stream:
    KEYS = [b"h%d" % i for i in range(8)] + [b"s1", b"s2", b"\x00h", b"{t}h"]
    FIELDS = ([b"f%d" % i for i in range(24)] +
              [b"1", b"2", b"-1", b"10", b"007", b"-0", b"9223372036854775807",
               b"9223372036854775808", b"", b"a b", b"\x00", b"\xff\xfe", b"1.5"])
    INTS = [b"0", b"1", b"-1", b"5", b"100", b"-250", b"9223372036854775807",
            b"-9223372036854775808", b"9223372036854775806", b"-9223372036854775807",
            b"9223372036854775808", b"007", b"+5", b" 5", b"1e3", b"", b"abc", b"1.5"]
    FLOATS = [b"0.1", b"-0.25", b"1.5", b"3e2", b"2.5e-3", b"-1e10", b"1e308", b"-1e308", b"inf",
              b"-inf", b"nan", b"0.0", b"-0.0", b".5", b"5.", b"1e-400", b"1e400", b"abc", b"",
              b"100000000000000000000", b"0x1p3", b"1,5", b" 1"]
    PATTERNS = [b"*", b"f*", b"f1*", b"?", b"*1", b"[a-f]*", b"nomatch", b"\\*"]

    WEIGHTS = [
        ("hset", 14), ("hmset", 3), ("hsetnx", 4), ("hget", 6), ("hmget", 4), ("hdel", 8),
        ("hexists", 3), ("hlen", 3), ("hstrlen", 3), ("ordered", 8), ("hincrby", 6),
        ("hincrbyfloat", 5), ("hrandfield", 5), ("hscan", 4), ("encoding", 2), ("config", 1),
        ("keys", 3), ("errors", 3),
    ]

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.ops = [(w, getattr(self, "op_" + name)) for name, w in self.WEIGHTS]
        self.total = sum(w for w, _ in self.ops)

    def next(self) -> list:
        """The next commands: usually one, two when an OBJECT ENCODING leads an ordered reply."""
        x = self.r.uniform(0, self.total)
        for w, op in self.ops:
            x -= w
            if x <= 0:
                return op()
        return self.ops[-1][1]()

    def key(self) -> bytes:
        return self.r.choice(self.KEYS)

    def field(self) -> bytes:
        if self.r.random() < 0.01:
            return b"F" * self.r.choice([17, 65, 100])  # Longer than a listpack allows.
        return self.r.choice(self.FIELDS)

    def value(self) -> bytes:
        x = self.r.random()
        if x < 0.3:
            return self.r.choice(self.INTS)
        if x < 0.4:
            return self.r.choice(self.FLOATS)
        if x < 0.42:
            return b"V" * self.r.choice([17, 65, 200])
        n = self.r.choice([0, 1, 2, 3, 5, 8, 12])
        return bytes(self.r.choice(b"abcxyz\x00 ") for _ in range(n))

    def fields(self, lo, hi) -> list:
        return [self.field() for _ in range(self.r.randint(lo, hi))]

    def pairs(self, lo, hi) -> list:
        out = []
        for _ in range(self.r.randint(lo, hi)):
            out += [self.field(), self.value()]
        return out

    def op_hset(self):
        return [[b"HSET", self.key()] + self.pairs(1, 5)]

    def op_hmset(self):
        return [[b"HMSET", self.key()] + self.pairs(1, 3)]

    def op_hsetnx(self):
        return [[b"HSETNX", self.key(), self.field(), self.value()]]

    def op_hget(self):
        return [[b"HGET", self.key(), self.field()]]

    def op_hmget(self):
        return [[b"HMGET", self.key()] + self.fields(1, 5)]

    def op_hdel(self):
        return [[b"HDEL", self.key()] + self.fields(1, 6)]

    def op_hexists(self):
        return [[b"HEXISTS", self.key(), self.field()]]

    def op_hlen(self):
        return [[b"HLEN", self.key()]]

    def op_hstrlen(self):
        return [[b"HSTRLEN", self.key(), self.field()]]

    def op_ordered(self):
        k = self.key()
        return [[b"OBJECT", b"ENCODING", k], [self.r.choice([b"HGETALL", b"HKEYS", b"HVALS"]), k]]

    def op_hincrby(self):
        n = self.r.choice(self.INTS) if self.r.random() < 0.4 else str(
            self.r.randint(-100, 100)).encode()
        return [[b"HINCRBY", self.key(), self.field(), n]]

    def op_hincrbyfloat(self):
        n = self.r.choice(self.FLOATS) if self.r.random() < 0.4 else str(
            round(self.r.uniform(-100, 100), self.r.randint(0, 4))).encode()
        return [[b"HINCRBYFLOAT", self.key(), self.field(), n]]

    def op_hrandfield(self):
        k = self.key()
        x = self.r.random()
        if x < 0.2:
            return [[b"HRANDFIELD", k]]
        # 100 is at least every hash's size: the whole hash, in its order.
        count = self.r.choice([b"0", b"1", b"2", b"5", b"100", b"100", b"-1", b"-3", b"-20"])
        cmd = [b"HRANDFIELD", k, count]
        if self.r.random() < 0.5:
            cmd.append(b"WITHVALUES")
        return [[b"OBJECT", b"ENCODING", k], cmd]

    def op_hscan(self):
        k = self.key()
        cmd = [b"HSCAN", k, self.r.choice([b"0", b"0", b"0", b"7"])]
        if self.r.random() < 0.5:
            cmd += [b"MATCH", self.r.choice(self.PATTERNS)]
        if self.r.random() < 0.5:
            cmd += [b"COUNT", self.r.choice([b"1", b"5", b"1000"])]
        return [[b"OBJECT", b"ENCODING", k], cmd]

    def op_encoding(self):
        return [[b"OBJECT", b"ENCODING", self.key()]]

    def op_config(self):
        if self.r.random() < 0.6:
            return [[b"CONFIG", b"SET", b"hash-max-listpack-entries",
                     self.r.choice([b"2", b"4", b"8", b"16", b"128", b"512"])]]
        return [[b"CONFIG", b"SET", b"hash-max-listpack-value",
                 self.r.choice([b"3", b"8", b"16", b"64"])]]

    def op_keys(self):
        k = self.key()
        return [self.r.choice([
            [b"SET", k, self.value()], [b"DEL", k], [b"EXISTS", k], [b"TYPE", k],
            [b"COPY", k, self.key(), b"REPLACE"], [b"RENAME", k, self.key()],
            [b"EXPIRE", k, b"100000"], [b"GET", k], [b"APPEND", k, b"x"],
        ])]

    def op_errors(self):
        k = self.key()
        return [self.r.choice([
            [b"HSET", k], [b"HSET", k, b"f"], [b"HSET", k, b"f", b"v", b"g"], [b"HMSET", k, b"f"],
            [b"HSETNX", k, b"f"], [b"HGET", k], [b"HMGET", k], [b"HDEL", k], [b"HLEN"],
            [b"HINCRBY", k, b"f", b"x"], [b"HINCRBY", k, b"f"], [b"HINCRBYFLOAT", k, b"f", b"x"],
            [b"HRANDFIELD", k, b"x"], [b"HRANDFIELD", k, b"1", b"BOGUS"],
            [b"HRANDFIELD", k, b"-9223372036854775808"],
            [b"HRANDFIELD", k, b"4611686018427387904", b"WITHVALUES"],
            [b"HSCAN", k, b"x"], [b"HSCAN", k, b"0", b"COUNT", b"0"], [b"HSCAN", k, b"0", b"BOGUS"],
            [b"HSCAN", k, b"0", b"MATCH"], [b"HKEYS", k, k], [b"HSTRLEN", k],
        ])]


def _sorted_elements(reply):
    if reply.kind == "%":
        return sorted(zip([c.raw for c in reply.children[::2]],
                          [c.raw for c in reply.children[1::2]]))
    return sorted(c.raw for c in reply.children)


def _shape(reply, args, protocol):
    """What a random draw must agree on: type, element count, and the pairs' form."""
    withvalues = len(args) == 4
    shape = [reply.kind, reply.is_null, len(reply.children)]
    if withvalues and protocol == 3:
        shape.append(all(c.kind == "*" and len(c.children) == 2 for c in reply.children))
    return shape


def _pairs(elements):
    return sorted(zip([c.raw for c in elements[::2]], [c.raw for c in elements[1::2]]))


def _agrees(args, ref, got, hashtable, protocol) -> bool:
    """Whether two replies agree; `hashtable`: Redis said the key is a hashtable just before."""
    if ref.raw == got.raw:
        return True
    if ref.kind != got.kind or ref.kind == "-":
        return False
    name = args[0].upper()
    flat_pairs = protocol == 2 and len(args) == 4  # HRANDFIELD k n WITHVALUES in RESP2.
    if name == b"HRANDFIELD":
        if len(args) == 2:
            return _shape(ref, args, protocol) == _shape(got, args, protocol)
        count = int(args[2])
        fields = len(ref.children) // (2 if flat_pairs else 1)
        if not 0 < count or fields == count:  # A draw; a whole hash has fewer fields than asked.
            return _shape(ref, args, protocol) == _shape(got, args, protocol)
    if name not in ORDERED or not hashtable:
        return False
    if name == b"HSCAN":
        done = b"$1\r\n0\r\n"
        if args[2] != b"0" or ref.children[0].raw != done or got.children[0].raw != done:
            # A partial walk: which fields it meets, and when it stops, depend on each server's
            # table (its hash function). test_hashes.py checks whole walks with cursors.
            return len(got.children) == 2 and len(got.children[1].children) % 2 == 0
        return _pairs(ref.children[1].children) == _pairs(got.children[1].children)
    if flat_pairs:
        return _pairs(ref.children) == _pairs(got.children)
    return _sorted_elements(ref) == _sorted_elements(got)


def _restore_limits(conns):
    for conn in conns:
        conn.call(b"CONFIG", b"SET", b"hash-max-listpack-entries", b"512")
        conn.call(b"CONFIG", b"SET", b"hash-max-listpack-value", b"64")


def run_stream(ref_port, shoal_port, protocol, seed, n_ops):
    stream = Stream(seed)
    commands = []
    while len(commands) < n_ops:
        commands += stream.next()
    ref, sut = _open(ref_port, protocol), _open(shoal_port, protocol)
    history = collections.deque(maxlen=HISTORY)
    encoding = {}  # key -> Redis's last OBJECT ENCODING reply for it.
    try:
        for start in range(0, len(commands), BATCH):
            batch = commands[start:start + BATCH]
            payload = b"".join(encode_command(a) for a in batch)
            ref.send_raw(payload)
            sut.send_raw(payload)
            ref_replies = [ref.read_reply() for _ in batch]
            sut_replies = [sut.read_reply() for _ in batch]
            for offset, (args, a, b) in enumerate(zip(batch, ref_replies, sut_replies)):
                if args[:2] == [b"OBJECT", b"ENCODING"]:
                    encoding[args[2]] = a.raw
                hashtable = len(args) > 1 and encoding.get(args[1]) == HASHTABLE
                if not _agrees(args, a, b, hashtable, protocol):
                    index = start + offset
                    lines = [f"replies differ at command #{index} (RESP{protocol}), seed {seed}",
                             f"  reproduce: SHOAL_RANDOM_SEED={seed} SHOAL_RANDOM_OPS={n_ops} "
                             f"/usr/bin/python3 -m pytest tests/integration/test_random_hashes.py",
                             "  last commands (index: command -> redis reply):"]
                    lines += [f"    #{i}: {_line(c)} -> {r[:200]!r}" for i, c, r in history]
                    lines += [f"  failing: {_line(args)}", f"    redis: {a.raw[:600]!r}",
                              f"    shoal: {b.raw[:600]!r}"]
                    raise Mismatch("\n".join(lines))
                history.append((start + offset, args, a.raw))
        _compare_keyspace(ref, sut, seed, protocol)
    finally:
        _restore_limits((ref, sut))
        ref.close()
        sut.close()


def _compare_keyspace(ref, sut, seed, protocol):
    def call(args):
        out = []
        for conn in (ref, sut):
            conn.send_raw(encode_command(args))
            out.append(conn.read_reply())
        return out

    keys = [_sorted_elements(r) for r in call([b"KEYS", b"*"])]
    if keys[0] != keys[1]:
        raise Mismatch(f"final keys differ (seed {seed}, RESP{protocol}): {keys}")
    for raw_key in keys[0]:
        key = raw_key.split(b"\r\n", 1)[1][:-2]
        enc = call([b"OBJECT", b"ENCODING", key])
        typ = call([b"TYPE", key])
        if enc[0].raw != enc[1].raw or typ[0].raw != typ[1].raw:
            raise Mismatch(f"key {key!r}: encoding/type differ: {enc[0].raw} {enc[1].raw} "
                           f"{typ[0].raw} {typ[1].raw}")
        if typ[0].raw != b"+hash\r\n":
            continue
        a, b = call([b"HGETALL", key])
        same = a.raw == b.raw if enc[0].raw != HASHTABLE else \
            _sorted_elements(a) == _sorted_elements(b)
        if not same:
            raise Mismatch(f"key {key!r}: HGETALL differs (seed {seed}, RESP{protocol})\n"
                           f"  redis: {a.raw[:600]!r}\n  shoal: {b.raw[:600]!r}")


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
def test_random_hash_stream(protocol, redis_ref, shoal):
    seed, n_ops = _settings()
    try:
        run_stream(redis_ref.port, shoal.port, protocol, seed, n_ops)
        failure = None
    except Mismatch as e:
        failure = str(e)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_hash_stream_is_a_function_of_the_seed():
    a, b, c = Stream(7), Stream(7), Stream(8)
    first = [a.next() for _ in range(500)]
    assert first == [b.next() for _ in range(500)]
    assert first != [c.next() for _ in range(500)]
