"""Randomized differential test of the set commands: one seeded random stream sent to redis-server
and to Shoal, every reply compared; then every key compared (type, encoding, members, expiry).

The stream (a pure function of the seed) works on a few keys that collide often: members are
small integers (so sets stay intsets), non-canonical numbers, short strings and binary bytes;
set-max-intset-entries moves between small values so sets convert back and forth between
encodings; some keys hold strings (WRONGTYPE); error cases are sprinkled in. Key names span
the server's shards, so multi-key commands take the coordinator path as well as the handler.

Ordering: a set reply is compared exactly where Redis's order is defined (it comes from an
intset), else as a multiset. To know which, a model of every key (members and encoding, by
Redis's rules) follows the replies. Random replies (SRANDMEMBER, SPOP) are checked for shape,
size, distinctness and membership against the model; a random SPOP is followed by DEL in the
stream so that both servers hold the same data again.

Environment:
  SHOAL_RANDOM_SEED  the seed (default 1); `random` picks one (shown in a failure report)
  SHOAL_SETS_OPS     commands per protocol (default 6000)
"""

import collections
import random

import pytest

from resp import encode_command
from random_support import Mismatch, line as _line, open_conn, settings

DEFAULT_SEED = 1
DEFAULT_OPS = 6000
BATCH = 64
HISTORY = 10
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
LIMITS = [b"3", b"8", b"16", b"512"]


def is_int(m: bytes) -> bool:
    """Redis's string2ll: canonical decimal int64 (no '+', no leading zeros, no '-0')."""
    if not m or len(m) > 20:
        return False
    if m == b"0":
        return True
    body = m[1:] if m[:1] == b"-" else m
    if not body or not body.isdigit() or body[:1] == b"0":
        return False
    return INT_MIN <= int(m) <= INT_MAX


def bulk(r) -> bytes:
    return r.raw.split(b"\r\n", 1)[1][:-2]


# --- the random stream ------------------------------------------------------------------------

def _settings():
    return settings(DEFAULT_SEED, DEFAULT_OPS, "SHOAL_SETS_OPS")


def _open(port, protocol):
    return open_conn(port, protocol, (b"set-max-intset-entries", b"512"))

class Stream:
    SETS = [b"s%d" % i for i in range(10)] + [b"", b"key with space"]
    STRINGS = [b"str1", b"str2"]
    BAD_INTS = [b"abc", b"1.5", b"", b"9223372036854775808", b" 1", b"+1", b"0x1"]

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.ops = [(w, getattr(self, "op_" + name)) for name, w in self.WEIGHTS]
        self.total = sum(w for w, _ in self.ops)

    WEIGHTS = [
        ("sadd", 20), ("srem", 6), ("sismember", 3), ("smismember", 3), ("scard", 3),
        ("smembers", 5), ("srandmember", 5), ("spop", 4), ("smove", 5), ("sinter", 4),
        ("sintercard", 3), ("sunion", 4), ("sdiff", 4), ("store", 6), ("sscan", 3),
        ("encoding", 4), ("generic", 3), ("config", 1), ("errors", 3),
    ]

    def next(self) -> list:
        """One step: a command, or a few that belong together (SPOP then DEL)."""
        x = self.r.uniform(0, self.total)
        for w, op in self.ops:
            x -= w
            if x <= 0:
                break
        out = op()
        return out if isinstance(out[0], list) else [out]

    def key(self) -> bytes:
        return self.r.choice(self.SETS) if self.r.random() < 0.93 else self.r.choice(self.STRINGS)

    def keys(self, lo, hi):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def member(self, key=None) -> bytes:
        # Keys s0..s4 get almost only integers, so that many of their sets stay intsets.
        int_heavy = key is not None and key[:1] == b"s" and key[1:] in (b"0", b"1", b"2", b"3", b"4")
        x = self.r.random() * (0.62 if int_heavy else 1.0)
        if x < 0.6:
            return str(self.r.randint(-5, 25)).encode()
        if x < 0.7:
            return self.r.choice([b"40000", b"-40000", b"3000000000", b"-3000000000",
                                  b"9223372036854775807", b"-9223372036854775808"])
        if x < 0.75:
            return self.r.choice([b"007", b"+1", b"-0", b"1.0", b" 2", b"9223372036854775808",
                                  b""])
        if x < 0.97:
            return self.r.choice(b"abcdefgh").to_bytes(1, "big") * self.r.randint(1, 3)
        return self.r.choice([b"\x00", b"a\x00b", b"\xff\xfe", b"\r\n"])

    def members(self, lo, hi, key=None):
        return [self.member(key) for _ in range(self.r.randint(lo, hi))]

    def count(self) -> bytes:
        return str(self.r.choice([0, 1, 2, 3, 5, 10, 40, -1, -3, -10])).encode()

    def op_sadd(self):
        k = self.key()
        return [b"SADD", k] + self.members(1, 8, k)

    def op_srem(self):
        return [b"SREM", self.key()] + self.members(1, 5)

    def op_sismember(self):
        return [b"SISMEMBER", self.key(), self.member()]

    def op_smismember(self):
        return [b"SMISMEMBER", self.key()] + self.members(1, 5)

    def op_scard(self):
        return [b"SCARD", self.key()]

    def op_smembers(self):
        return [b"SMEMBERS", self.key()]

    def op_srandmember(self):
        if self.r.random() < 0.3:
            return [b"SRANDMEMBER", self.key()]
        return [b"SRANDMEMBER", self.key(), self.count()]

    def op_spop(self):
        k = self.key()
        if self.r.random() < 0.3:
            cmd = [b"SPOP", k]
        else:
            cmd = [b"SPOP", k, str(self.r.choice([0, 1, 2, 3, 5, 10, 40])).encode()]
        return [cmd, [b"DEL", k]]  # A random pop leaves the servers with different members.

    def op_smove(self):
        return [b"SMOVE", self.key(), self.key(), self.member()]

    def op_sinter(self):
        return [b"SINTER"] + self.keys(1, 4)

    def op_sintercard(self):
        keys = self.keys(1, 4)
        cmd = [b"SINTERCARD", str(len(keys)).encode()] + keys
        if self.r.random() < 0.4:
            cmd += [b"LIMIT", str(self.r.choice([0, 1, 2, 5])).encode()]
        return cmd

    def op_sunion(self):
        return [b"SUNION"] + self.keys(1, 4)

    def op_sdiff(self):
        return [b"SDIFF"] + self.keys(1, 4)

    def op_store(self):
        name = self.r.choice([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"])
        return [name, self.key()] + self.keys(1, 4)

    def op_sscan(self):
        cmd = [b"SSCAN", self.key(), b"0"]
        if self.r.random() < 0.4:
            cmd += [b"MATCH", self.r.choice([b"1*", b"*a*", b"?", b"-*", b"[a-c]*"])]
        if self.r.random() < 0.3:
            cmd += [b"COUNT", self.r.choice([b"1", b"5", b"100"])]
        return cmd

    def op_encoding(self):
        return [b"OBJECT", b"ENCODING", self.key()]

    def op_generic(self):
        k = self.key()
        return self.r.choice([[b"DEL", k], [b"TYPE", k], [b"EXISTS", k],
                              [b"EXPIREAT", k, b"4102444800"], [b"SET", self.r.choice(self.STRINGS), b"v"],
                              [b"COPY", k, self.key(), b"REPLACE"], [b"RENAME", k, self.key()]])

    def op_config(self):
        limit = b"512" if self.r.random() < 0.5 else self.r.choice(LIMITS)
        return [b"CONFIG", b"SET", b"set-max-intset-entries", limit]

    def op_errors(self):
        k = self.key()
        bad = self.r.choice(self.BAD_INTS)
        return self.r.choice([
            [b"SADD", k], [b"SREM", k], [b"SCARD"], [b"SISMEMBER", k], [b"SMOVE", k, k],
            [b"SRANDMEMBER", k, bad], [b"SRANDMEMBER", k, b"1", b"2"], [b"SPOP", k, b"-1"],
            [b"SPOP", k, bad], [b"SINTERCARD", b"0", k], [b"SINTERCARD", b"5", k],
            [b"SINTERCARD", bad, k], [b"SINTERCARD", b"1", k, b"LIMIT", b"-1"],
            [b"SINTERCARD", b"1", k, b"LIMIT"], [b"SINTERCARD", b"1", k, b"FOO", b"1"],
            [b"SSCAN", k, bad], [b"SSCAN", k, b"0", b"COUNT", b"0"],
            [b"SSCAN", k, b"0", b"TYPE", b"set"], [b"SINTERSTORE", k], [b"SMEMBERS"],
        ])


# --- a model of the keyspace, following Redis's replies ---------------------------------------

class SetVal:
    def __init__(self, enc, members):
        self.enc = enc
        self.members = members  # A Python set of bytes.


class Model:
    """Members and encoding of every key, updated from the reference's replies."""

    def __init__(self):
        self.keys = {}  # key -> SetVal, or the string "other"
        self.limit = 512

    def max_intset(self):
        return min(self.limit, 1 << 30)

    def new_for(self, first):
        return SetVal("intset" if is_int(first) else "hashtable", set())

    def add(self, s, m):
        if m in s.members:
            return
        s.members.add(m)
        if s.enc == "intset" and (not is_int(m) or len(s.members) > self.max_intset()):
            s.enc = "hashtable"

    def fresh(self, members):
        """A set grown from an empty intset by adding `members` (result of the algebra)."""
        s = SetVal("intset", set())
        for m in members:
            self.add(s, m)
        return s

    def sets(self, keys):
        return [self.keys.get(k) for k in keys]

    def diff_result(self, sets):
        """The temporary set Redis builds for SDIFF: members and encoding."""
        if not sets or sets[0] is None or any(s is sets[0] for s in sets[1:]):
            return SetVal("intset", set())
        one = sum(len(sets[0].members) for s in sets if s is not None) // 2
        two = sum(len(s.members) for s in sets if s is not None)
        result = set(sets[0].members)
        for s in sets[1:]:
            if s is not None:
                result -= s.members
        if one <= two:
            return self.fresh(result)
        out = self.fresh(sets[0].members)  # Algorithm 2 holds all of the first set once.
        out.members = result
        return out

    def union_result(self, sets):
        members = set()
        for s in sets:
            if s is not None:
                members |= s.members
        return self.fresh(members)

    def inter_result(self, sets):
        if any(s is None for s in sets):
            return SetVal("intset", set())
        members = set.intersection(*[s.members for s in sets])
        return self.fresh(members)

    def ordered(self, args) -> bool:
        """Whether Redis's reply to `args` has a defined order (ascending, from an intset)."""
        name = args[0].upper()
        if name in (b"SINTER", b"SUNION", b"SDIFF"):
            sets = self.sets(args[1:])
            if any(isinstance(s, str) for s in sets):
                return True  # WRONGTYPE.
            if name == b"SUNION":
                return self.union_result(sets).enc == "intset"
            if name == b"SDIFF":
                return self.diff_result(sets).enc == "intset"
            if any(s is None for s in sets):
                return True  # Empty.
            return sorted(sets, key=lambda s: len(s.members))[0].enc == "intset"
        s = self.keys.get(args[1]) if len(args) > 1 else None
        if not isinstance(s, SetVal):
            return True  # Missing (empty reply) or WRONGTYPE.
        if name in (b"SMEMBERS", b"SSCAN", b"SRANDMEMBER"):  # Iteration order of the set.
            return s.enc == "intset"
        if name == b"SPOP":  # Popping it all replies a fresh copy (a one-set SUNION).
            return self.union_result([s]).enc == "intset"
        return True

    def apply(self, args, reply):
        """Updates the model after the reference ran `args` and answered `reply`."""
        if reply.kind in "-!":
            return
        name = args[0].upper()
        k = args[1] if len(args) > 1 else None
        if name == b"SADD":
            if k not in self.keys:
                self.keys[k] = self.new_for(args[2])
            for m in args[2:]:
                self.add(self.keys[k], m)
        elif name == b"SREM":
            s = self.keys.get(k)
            if s is not None:
                s.members -= set(args[2:])
                if not s.members:
                    del self.keys[k]
        elif name == b"SMOVE":
            if reply.raw == b":1\r\n" and args[1] != args[2]:
                src = self.keys[args[1]]
                src.members.discard(args[3])
                if not src.members:
                    del self.keys[args[1]]
                if args[2] not in self.keys:
                    self.keys[args[2]] = self.new_for(args[3])
                self.add(self.keys[args[2]], args[3])
        elif name in (b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"):
            sets = self.sets(args[2:])
            if name == b"SINTERSTORE":
                result = self.inter_result(sets)
            elif name == b"SUNIONSTORE":
                result = self.union_result(sets)
            else:
                result = self.diff_result(sets)
            if result.members:
                self.keys[k] = result
            else:
                self.keys.pop(k, None)
        elif name == b"SPOP":
            s = self.keys.get(k)
            if s is not None:  # Followed by DEL in the stream; only the members matter.
                popped = [bulk(c) for c in reply.children] if reply.children else (
                    [] if reply.is_null else [bulk(reply)])
                s.members -= set(popped)
                if not s.members:
                    del self.keys[k]
        elif name == b"DEL":
            self.keys.pop(k, None)
        elif name == b"SET":
            self.keys[k] = "other"
        elif name == b"COPY":
            if reply.raw == b":1\r\n":
                src = self.keys[args[1]]
                self.keys[args[2]] = src if isinstance(src, str) else SetVal(
                    src.enc, set(src.members))
        elif name == b"RENAME":
            self.keys[args[2]] = self.keys.pop(args[1])
        elif name == b"CONFIG":
            self.limit = int(args[3])

    def check_random(self, args, reply):
        """For SRANDMEMBER and random SPOP: a reason the reply is impossible, or None."""
        s = self.keys.get(args[1])
        if reply.kind in "-!" or isinstance(s, str):
            return None  # Errors are compared exactly.
        members = s.members if s is not None else set()
        if len(args) == 2:
            if s is None:
                return None if reply.is_null else "reply for a missing key is not null"
            return None if bulk(reply) in members else "not a member"
        count = int(args[2])
        got = [bulk(c) for c in reply.children]
        if any(m not in members for m in got):
            return "a reply member is not in the set"
        want = min(abs(count), len(members)) if count >= 0 else (abs(count) if members else 0)
        if len(got) != want:
            return f"{len(got)} members, expected {want}"
        if count > 0 and len(set(got)) != len(got):
            return "repeated members for a positive count"
        return None

    def is_random(self, args) -> bool:
        name = args[0].upper()
        if name not in (b"SRANDMEMBER", b"SPOP") or len(args) > 3:
            return False
        s = self.keys.get(args[1])
        if s is None or isinstance(s, str):
            return False
        if len(args) == 2:
            return len(s.members) > 1
        try:
            count = int(args[2])
        except ValueError:
            return False
        size = len(s.members)
        if name == b"SPOP":
            return 0 < count < size
        return count < 0 and size > 1 or 0 < count < size


# --- running it ---------------------------------------------------------------------------------


def _sorted_children(r):
    return sorted(c.raw for c in r.children)


def _agrees(model, args, ref, got):
    """None if the replies agree, else the reason."""
    name = args[0].upper()
    if model.is_random(args):
        if (ref.kind, ref.is_null) != (got.kind, got.is_null):
            return "reply types differ"
        return model.check_random(args, got)
    if ref.raw == got.raw:
        return None
    if ref.kind == got.kind and ref.kind in "*~" and not model.ordered(args):
        if name == b"SSCAN":  # A hashtable's cursor walk: the cursors may differ.
            members = set(model.keys[args[1]].members)
            if any(bulk(c) not in members for c in got.children[1].children):
                return "SSCAN returned a non-member"
            return None
        if _sorted_children(ref) == _sorted_children(got):
            return None
        return "sorted elements differ"
    return "replies differ"


def run_stream(ref_port, shoal_port, protocol, seed, n_ops):
    stream = Stream(seed)
    commands = []
    while len(commands) < n_ops:
        commands += stream.next()
    ref, sut = _open(ref_port, protocol), _open(shoal_port, protocol)
    model = Model()
    history = collections.deque(maxlen=HISTORY)
    try:
        for start in range(0, len(commands), BATCH):
            batch = commands[start:start + BATCH]
            payload = b"".join(encode_command(a) for a in batch)
            ref.send_raw(payload)
            sut.send_raw(payload)
            ref_replies = [ref.read_reply() for _ in batch]
            sut_replies = [sut.read_reply() for _ in batch]
            for offset, (args, a, b) in enumerate(zip(batch, ref_replies, sut_replies)):
                reason = _agrees(model, args, a, b)
                if reason:
                    lines = [f"#{start + offset} of {len(commands)} (RESP{protocol}), seed {seed}: "
                             f"{reason}",
                             f"  reproduce: SHOAL_RANDOM_SEED={seed} SHOAL_SETS_OPS={n_ops} "
                             f"/usr/bin/python3 -m pytest tests/integration/test_random_sets.py"]
                    lines += [f"    {_line(h)} -> {r[:160]!r}" for h, r in history]
                    lines += [f"  failing: {_line(args)}", f"    redis: {a.raw[:400]!r}",
                              f"    shoal: {b.raw[:400]!r}"]
                    raise Mismatch("\n".join(lines))
                model.apply(args, a)
                history.append((args, a.raw))
        _compare_keyspace(ref, sut, model, seed, protocol)
    finally:
        for conn in (ref, sut):
            conn.call(b"CONFIG", b"SET", b"set-max-intset-entries", b"512")
            conn.close()


def _compare_keyspace(ref, sut, model, seed, protocol):
    def ask(conn, *args):
        conn.send_raw(encode_command(list(args)))
        return conn.read_reply()

    keys = [sorted(bulk(c) for c in ask(c, b"KEYS", b"*").children) for c in (ref, sut)]
    if keys[0] != keys[1]:
        raise Mismatch(f"final keys differ (seed {seed}, RESP{protocol}): {keys}")
    for k in keys[0]:
        for args in ([b"TYPE", k], [b"OBJECT", b"ENCODING", k], [b"SMEMBERS", k],
                     [b"PEXPIRETIME", k]):
            a, b = ask(ref, *args), ask(sut, *args)
            if _agrees(model, args, a, b):
                raise Mismatch(f"final state differs (seed {seed}, RESP{protocol}): {_line(args)}"
                               f"\n  redis: {a.raw[:400]!r}\n  shoal: {b.raw[:400]!r}")


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
def test_random_sets(protocol, redis_ref, shoal):
    seed, n_ops = _settings()
    try:
        run_stream(redis_ref.port, shoal.port, protocol, seed, n_ops)
        failure = None
    except Mismatch as e:
        failure = str(e)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_stream_is_a_function_of_the_seed():
    a, b, c = Stream(7), Stream(7), Stream(8)
    first = [a.next() for _ in range(300)]
    assert first == [b.next() for _ in range(300)]
    assert first != [c.next() for _ in range(300)]


def test_model_encodings():
    m = Model()
    m.limit = 3
    assert m.fresh([b"1", b"2", b"3"]).enc == "intset"
    assert m.fresh([b"1", b"2", b"3", b"4"]).enc == "hashtable"
    assert m.fresh([b"1", b"x"]).enc == "hashtable"
    assert not is_int(b"-0") and not is_int(b"007") and is_int(b"-9223372036854775808")
    # Algorithm 2 (first set large against small others) keeps the first set's encoding.
    first = SetVal("hashtable", {b"x", b"1", b"2", b"3", b"4", b"5", b"6", b"7"})
    m.limit = 512
    d = m.diff_result([first, SetVal("hashtable", {b"x"}), SetVal("hashtable", {b"y"})])
    assert d.enc == "hashtable" and d.members == {b"1", b"2", b"3", b"4", b"5", b"6", b"7"}
