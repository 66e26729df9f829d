"""Randomized differential test for lists: one random stream of list commands (and some string and
key commands that collide with them), sent to redis-server and to Shoal, every reply compared;
then every list is compared whole.

The stream is a pure function of the seed. It works on a small keyspace so that commands collide:
lists grow, shrink, vanish, move between keys (on one shard and across shards), and meet string
keys (WRONGTYPE). list-max-listpack-size is set small (and changed now and then) so that lists
spread over many quicklist nodes and inserts, LSET, LREM and LTRIM split and merge them; elements
are sometimes kilobytes long, so that byte limits matter too. Error cases are sprinkled in.

List replies have a defined order: every reply is compared byte for byte.

Environment:
  SHOAL_RANDOM_SEED  the seed (default 1); `random` picks one (shown in a failure report)
  SHOAL_RANDOM_OPS   commands per protocol (default 15000)
  SHOAL_RANDOM_DUMP  on a mismatch, write the commands up to the failing one to this file as a
                     differential script (scripts/ format)
"""

import collections
import os
import random

import pytest

from resp import RespConnection, encode_command
from random_support import Mismatch, open_conn, settings
from random_support import line as _line

DEFAULT_SEED = 1
DEFAULT_OPS = 15000
BATCH = 64
HISTORY = 12
FILLS = [b"1", b"2", b"3", b"4", b"7", b"-1", b"-2", b"0"]


def _settings():
    return settings(DEFAULT_SEED, DEFAULT_OPS)


def _open(port: int, protocol: int, fill: bytes) -> RespConnection:
    return open_conn(port, protocol, (b"list-max-listpack-size", fill))

class Stream:
    """Generates list commands (lists of bytes) from one random.Random; never sees a reply."""

    LISTS = [b"l%d" % i for i in range(10)] + [b"src", b"dst", b"{t}a", b"{t}b"]
    STRINGS = [b"s1", b"s2"]
    SMALL = [b"a", b"b", b"c", b"1", b"01", b"-5", b"", b"1.0", b"x y", b"\x00\xff",
             b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808", b"4096"]
    BAD_INTS = [b"abc", b"1.5", b"", b"9223372036854775808", b"-9223372036854775809", b"0x1"]

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.ops = [(w, getattr(self, "op_" + name)) for name, w in self.WEIGHTS]
        self.total = sum(w for w, _ in self.ops)

    WEIGHTS = [
        ("push", 22), ("pushx", 3), ("pop", 8), ("llen", 2), ("lindex", 5), ("lrange", 6),
        ("lset", 5), ("linsert", 6), ("lrem", 4), ("ltrim", 2), ("lpos", 6), ("lmove", 6),
        ("lmpop", 4), ("del", 2), ("set", 1), ("generic", 2), ("config", 0.3), ("errors", 3),
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
        return self.r.choice(self.LISTS) if self.r.random() < 0.93 else self.r.choice(self.STRINGS)

    def element(self) -> bytes:
        x = self.r.random()
        if x < 0.75:
            return self.r.choice(self.SMALL)
        if x < 0.9:
            return str(self.r.randint(-300, 300)).encode()
        if x < 0.97:
            return bytes(self.r.choice(b"pqr") for _ in range(self.r.randint(10, 120)))
        return self.r.choice(b"PQ") .to_bytes(1, "big") * self.r.choice([1000, 3000, 5000, 9000])

    def index(self) -> bytes:
        x = self.r.random()
        if x < 0.8:
            return str(self.r.randint(-40, 40)).encode()
        if x < 0.95:
            return str(self.r.randint(-300, 300)).encode()
        return self.r.choice([b"9223372036854775807", b"-9223372036854775808"])

    def end(self) -> bytes:
        return self.r.choice([b"LEFT", b"RIGHT", b"left", b"Right"])

    # -- commands --

    def op_push(self):
        n = self.r.choice([1, 1, 2, 3, 5, 10, 20])
        return [self.r.choice([b"LPUSH", b"RPUSH"]), self.key()] + [self.element() for _ in range(n)]

    def op_pushx(self):
        return [self.r.choice([b"LPUSHX", b"RPUSHX"]), self.key(), self.element()]

    def op_pop(self):
        cmd = [self.r.choice([b"LPOP", b"RPOP"]), self.key()]
        if self.r.random() < 0.5:
            cmd.append(self.r.choice([b"0", b"1", b"2", b"3", b"7", b"100"]))
        return cmd

    def op_llen(self):
        return [b"LLEN", self.key()]

    def op_lindex(self):
        return [b"LINDEX", self.key(), self.index()]

    def op_lrange(self):
        return [b"LRANGE", self.key(), self.index(), self.index()]

    def op_lset(self):
        return [b"LSET", self.key(), self.index(), self.element()]

    def op_linsert(self):
        return [b"LINSERT", self.key(), self.r.choice([b"BEFORE", b"AFTER", b"after"]),
                self.element(), self.element()]

    def op_lrem(self):
        return [b"LREM", self.key(), str(self.r.randint(-3, 3)).encode(), self.element()]

    def op_ltrim(self):
        a = self.r.randint(-5, 5)
        b = self.r.choice([-1, -2, -3, 30, 60, 100, self.r.randint(-50, 50)])
        return [b"LTRIM", self.key(), str(a).encode(), str(b).encode()]

    def op_lpos(self):
        cmd = [b"LPOS", self.key(), self.element()]
        opts = []
        if self.r.random() < 0.5:
            opts.append([b"RANK", str(self.r.choice([1, 2, 3, -1, -2, -4])).encode()])
        if self.r.random() < 0.5:
            opts.append([b"COUNT", str(self.r.choice([0, 1, 2, 5])).encode()])
        if self.r.random() < 0.3:
            opts.append([b"MAXLEN", str(self.r.choice([0, 1, 5, 20])).encode()])
        self.r.shuffle(opts)
        for o in opts:
            cmd += o
        return cmd

    def op_lmove(self):
        if self.r.random() < 0.3:
            return [b"RPOPLPUSH", self.key(), self.key()]
        return [b"LMOVE", self.key(), self.key(), self.end(), self.end()]

    def op_lmpop(self):
        keys = [self.key() for _ in range(self.r.randint(1, 4))]
        cmd = [b"LMPOP", str(len(keys)).encode()] + keys + [self.end()]
        if self.r.random() < 0.6:
            cmd += [b"COUNT", str(self.r.choice([1, 2, 3, 10, 1000])).encode()]
        return cmd

    def op_del(self):
        return [b"DEL", self.key()]

    def op_set(self):
        k = self.r.choice(self.STRINGS) if self.r.random() < 0.9 else self.r.choice(self.LISTS)
        return [b"SET", k, b"v"]

    def op_generic(self):
        k = self.key()
        return self.r.choice([[b"TYPE", k], [b"EXISTS", k], [b"OBJECT", b"ENCODING", k],
                              [b"COPY", k, self.key(), b"REPLACE"], [b"RENAME", k, self.key()],
                              [b"DEL", self.r.choice(self.LISTS)]])

    def op_config(self):  # Affects lists created from now on, as in Redis.
        return [b"CONFIG", b"SET", b"list-max-listpack-size", self.r.choice(FILLS)]

    def op_errors(self):
        k = self.key()
        bad = self.r.choice(self.BAD_INTS)
        return self.r.choice([
            [b"LPUSH", k], [b"LPOP", k, bad], [b"LPOP", k, b"-1"], [b"LPOP", k, b"1", b"2"],
            [b"LINDEX", k, bad], [b"LRANGE", k, bad, b"1"], [b"LSET", k, bad, b"x"],
            [b"LINSERT", k, b"MIDDLE", b"a", b"b"], [b"LREM", k, bad, b"a"],
            [b"LTRIM", k, b"0", bad], [b"LPOS", k, b"a", b"RANK", b"0"],
            [b"LPOS", k, b"a", b"COUNT", b"-1"], [b"LPOS", k, b"a", b"MAXLEN", bad],
            [b"LPOS", k, b"a", b"BOGUS"], [b"LMOVE", k, k, b"UP", b"LEFT"],
            [b"LMPOP", b"0", k, b"LEFT"], [b"LMPOP", b"2", k, b"LEFT"],
            [b"LMPOP", b"1", k, b"LEFT", b"COUNT", b"0"], [b"LMPOP", bad, k, b"LEFT"],
            [b"RPOPLPUSH", k], [b"LLEN"],
        ])


# --- running it ---------------------------------------------------------------------------------


def _report(seed, n_ops, protocol, index, args, ref, got, history):
    lines = [f"replies differ at command #{index} of {n_ops} (RESP{protocol}), seed {seed}",
             f"  reproduce: SHOAL_RANDOM_SEED={seed} SHOAL_RANDOM_OPS={n_ops} "
             f"/usr/bin/python3 -m pytest tests/integration/test_random_lists.py",
             "  last commands (index: command -> redis reply):"]
    for i, a, r in history:
        lines.append(f"    #{i}: {_line(a)[:300]} -> {r[:200]!r}")
    lines += [f"  failing: {_line(args)[:600]}", f"    redis: {ref[:400]!r}",
              f"    shoal: {got[:400]!r}"]
    return "\n".join(lines)


def _dump(commands, fill):
    path = os.environ.get("SHOAL_RANDOM_DUMP")
    if not path:
        return ""
    with open(path, "w", encoding="utf-8") as f:
        f.write("# Written by test_random_lists.py: the stream up to the first mismatch.\n")
        f.write(f"CONFIG SET list-max-listpack-size {fill.decode()}\n")
        for args in commands:
            f.write(_line(args) + "\n")
    return f"\n  commands written to {path}"


def run_stream(ref_port: int, shoal_port: int, protocol: int, seed: int, n_ops: int):
    stream = Stream(seed)
    fill = random.Random(seed).choice(FILLS[:6])
    commands = [stream.next() for _ in range(n_ops)]
    ref, sut = _open(ref_port, protocol, fill), _open(shoal_port, protocol, fill)
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
                if a.raw != b.raw:
                    index = start + offset
                    raise Mismatch(_report(seed, n_ops, protocol, index, args, a.raw, b.raw,
                                           history) + _dump(commands[:index + 1], fill))
                history.append((start + offset, args, a.raw))
        _compare_keyspace(ref, sut, seed, protocol)
    finally:
        for conn in (ref, sut):
            conn.call(b"CONFIG", b"SET", b"list-max-listpack-size", b"-2")
            conn.close()


def _compare_keyspace(ref, sut, seed, protocol):
    for key in Stream.LISTS + Stream.STRINGS:
        for args in ([b"TYPE", key], [b"LRANGE", key, b"0", b"-1"], [b"GET", key],
                     [b"OBJECT", b"ENCODING", key]):
            replies = []
            for conn in (ref, sut):
                conn.send_raw(encode_command(args))
                replies.append(conn.read_reply().raw)
            if replies[0] != replies[1]:
                raise Mismatch(f"final keyspace differs (RESP{protocol}, seed {seed}): "
                               f"{_line(args)}\n  redis: {replies[0][:400]!r}\n"
                               f"  shoal: {replies[1][:400]!r}")


@pytest.mark.parametrize("protocol", [2, 3], ids=["RESP2", "RESP3"])
def test_random_lists(protocol, redis_ref, shoal):
    seed, n_ops = _settings()
    try:
        run_stream(redis_ref.port, shoal.port, protocol, seed, n_ops)
        failure = None
    except Mismatch as e:
        failure = str(e)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_list_stream_is_a_function_of_the_seed():
    a, b, c = Stream(7), Stream(7), Stream(8)
    first = [a.next() for _ in range(500)]
    assert first == [b.next() for _ in range(500)]
    assert first != [c.next() for _ in range(500)]
